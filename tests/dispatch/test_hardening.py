"""Ingest hardening (issue 11): secrets never shown or sent to workers, errors that name their file,
bad directory entries that do not stop a batch."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dispatch_jobs as dj
import pytest
import yaml
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy
from typer.testing import CliRunner

from tiepoint.cli.main import app
from tiepoint.db import Database, DatabaseUnavailableError
from tiepoint.dispatch import ImageAdder

PASSWORD = dj.PASSWORD_REVERSED[::-1]


def _with_password(url: str, port: int | None = None) -> str:
    parsed = make_url(url).set(password=PASSWORD)
    if port is not None:
        parsed = parsed.set(host="127.0.0.1", port=port)
    return parsed.render_as_string(hide_password=False)


@pytest.mark.postgres
def test_the_password_is_never_shown(tmp_path, postgres_url, dask_client, caplog):
    proxy = TcpProxy((make_url(postgres_url).host or "127.0.0.1", make_url(postgres_url).port or 5432))
    url = _with_password(postgres_url, proxy.port)  # trust authentication: the password is ignored
    assert PASSWORD in url
    spool = tmp_path / "spool"
    good = dj.write_tiny_image(tmp_path / "good.json", 1, 1, sleep=0.5)
    rejected = dj.write_tiny_image(tmp_path / "rejected.json", 2, 2, bad_record=True)
    shown: list[str] = []
    caplog.set_level(logging.DEBUG)
    ia = ImageAdder(dj.adder_config(url), job=dj.tiny_job, client=dask_client, spool_dir=spool)
    try:
        shown += [repr(ia), str(ia), repr(ia.config), str(ia.config), repr(ia.db), ia.database_url]
        ia.add_images([rejected])  # its record is refused by the database: an error message
        assert ia.wait(timeout=60)
        shown += [str(a) for a in ia.inspect(rejected)]
        ia.add_images([good])
        proxy.down()  # the result arrives while the database is unreachable: spooled
        dj_wait = ia.wait(timeout=30)
        assert dj_wait is False and len(ia.spool) == 1
        shown += [p.read_bytes().decode("latin-1") for p in spool.glob("*.pkl")]
        with pytest.raises(DatabaseUnavailableError) as unavailable:
            Database(url)
        shown.append(str(unavailable.value))
    finally:
        ia.close()
    config = tmp_path / "tiepoint.yml"
    config.write_text(yaml.safe_dump({"database": {"url": url}}))
    for command in (["status"], ["failed"], ["inspect", str(good)], ["footprints", "--png", "x.png"]):
        result = CliRunner().invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 1, result.output
        shown.append(result.output)
    shown += [record.getMessage() for record in caplog.records]
    proxy.up()
    assert any("writing the result failed" in text for text in shown)  # the rejected record's error
    user = make_url(postgres_url).username
    assert any(f"{user}:***@" in text for text in shown)  # URLs are shown, masked
    leaks = [text for text in shown if PASSWORD in text]
    assert leaks == []


@pytest.mark.postgres
def test_workers_never_receive_the_database_url(tmp_path, postgres_url, dask_client):
    url = _with_password(postgres_url)
    images = [dj.write_tiny_image(tmp_path / f"spy{i}.json", i, 0, spy=True) for i in range(2)]
    with ImageAdder(dj.adder_config(url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images(images)
        assert ia.wait(timeout=60)
    assert [Path(f"{p}.spy").read_text() for p in images] == ["clean", "clean"]


def test_unexpected_errors_name_the_image(tmp_path, gpkg_url, dask_client):
    odd = dj.write_tiny_image(tmp_path / "odd.json", 1, 1, **{"raise": "KeyError"})
    with ImageAdder(dj.adder_config(gpkg_url, maxfailures=1), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([odd])
        assert ia.wait(timeout=60)
        (attempt,) = ia.inspect(odd)
    assert attempt["error_type"] == "KeyError"
    assert attempt["error_message"].startswith(f"{odd.resolve()}: unexpected KeyError: ")
    assert "Traceback" in attempt["traceback"]


def test_bad_entries_are_failed_jobs_and_do_not_stop_the_batch(tmp_path, gpkg_url, dask_client):
    folder = tmp_path / "batch"
    folder.mkdir()
    good = [dj.write_tiny_image(folder / f"good{i}.json", i, 0) for i in range(2)]
    (folder / "dir.json").mkdir()
    (folder / "loop.json").symlink_to(folder / "loop.json")
    (folder / "dangling.json").symlink_to(folder / "gone.json")
    listed_missing = tmp_path / "missing.json"
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        assert ia.add_images(folder, "json") == [str(p.resolve()) for p in good]
        assert ia.wait(timeout=60)
        bad = sorted(str(folder / n) for n in ("dangling.json", "dir.json", "loop.json"))
        assert sorted(ia.failed_jobs) == bad
        assert ia.inspect(folder / "dir.json")[0]["error"] == (
            f"ImageError: {folder / 'dir.json'}: is a directory, not an image file"
        )
        # an explicit list: the missing entry is a failed job, the good one is queued all the same
        third = dj.write_tiny_image(tmp_path / "third.json", 5, 5)
        assert ia.add_images([listed_missing, third]) == [str(third.resolve())]
        assert ia.wait(timeout=60)
        assert ia.job_status[str(third.resolve())] is True
        assert ia.job_status[str(listed_missing)] == 1
        assert "no such file" in ia.inspect(listed_missing)[0]["error"]
    assert [dj.runs(p) for p in good] == [1, 1]
    assert not os.path.exists(f"{folder / 'dir.json'}.runs")  # never sent to a worker


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql+psycopg://me:{PASSWORD}@dbhost:notaport/mars", "the port is not a number"),
        (f"mysql://me:{PASSWORD}@dbhost/mars", "unsupported backend 'mysql'"),
        (f"postgresql+asyncpg://me:{PASSWORD}@dbhost/mars", "unsupported driver"),
        (f"me:{PASSWORD}@dbhost/mars", "not a database URL"),
        (f"postgresql//me:{PASSWORD}@dbhost/mars", "not a database URL"),
    ],
)
def test_malformed_database_urls_are_config_errors(tmp_path, url, says):
    config = tmp_path / "tiepoint.yml"
    config.write_text(yaml.safe_dump({"database": {"url": url}}))
    for command in (["status"], ["add", str(tmp_path)]):
        result = CliRunner().invoke(app, [*command, "-c", str(config)])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: ") and "database.url" in result.output, result.output
        assert says in result.output and "Traceback" not in result.output
        assert PASSWORD not in result.output
