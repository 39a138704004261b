"""What a runner shows in a notebook (issue 16): the HTML repr and the progress bars.

Real ImageAdders on the shared LocalCluster with the tiny jobs of ``dispatch_jobs``; the notebook
bars are displayed through a real IPython shell whose display publisher is captured. The runs in a
real Jupyter kernel are in ``tests/notebook``.
"""

from __future__ import annotations

import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import dispatch_jobs as dj
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder
from tiepoint.dispatch.progress import Counts, choose_mode, describe
from tiepoint.dispatch.runner import RECENT_FAILURES
from tiepoint.errors import TiepointError

PASSWORD = dj.PASSWORD_REVERSED[::-1]
NASTY = "corrupt <label> & 'quotes' \"here\""
"""An error message full of HTML syntax: the repr must show it as text."""


class _Tables(HTMLParser):
    """The tables of an HTML document: rows of cell texts, and the cells' title attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.titles: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
            if a.get("title") is not None:
                self.titles.append(a["title"] or "")
        elif tag == "a":
            self.links.append(a.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def table(self, first_cell: str) -> list[list[str]]:
        """The table whose first header cell starts with *first_cell*."""
        (found,) = [t for t in self.tables if t and t[0] and t[0][0].startswith(first_cell)]
        return found


def _counts(tables: _Tables) -> dict[str, int]:
    header, row = tables.table("ingest jobs in the ledger")
    return {state: int(n.replace(",", "")) for state, n in zip(header[1:], row[1:], strict=True)}


def _ledger_truth(url: str) -> dict[str, int]:
    """State counts over the newest job of every key, counted here in SQL (not by the code under test),
    on a connection of its own."""
    with Database(url) as db:
        rows = db.execute_sql(
            "SELECT state, COUNT(*) FROM jobs WHERE kind = 'ingest' AND id IN "
            "(SELECT MAX(id) FROM jobs WHERE kind = 'ingest' GROUP BY key) GROUP BY state"
        )
    return {state: n for state, n in rows}


@pytest.fixture
def db_threads() -> Any:
    """Record the thread of every SQL statement run on an adder's database: ``watch(ia) -> list``."""
    watched: list[tuple[Any, list[threading.Thread]]] = []

    def watch(ia: ImageAdder) -> list[threading.Thread]:
        seen: list[threading.Thread] = []

        def record(*_: Any) -> None:
            seen.append(threading.current_thread())

        event.listen(ia.db.engine, "before_cursor_execute", record)
        watched.append((ia.db.engine, seen))
        return seen

    yield watch


def test_html_repr_counts_the_ledger_and_lists_failures(tmp_path, db_url, dask_client, db_threads):
    good = [dj.write_tiny_image(tmp_path / f"good{i}.json", i, 0) for i in range(3)]
    n_bad = RECENT_FAILURES + 2
    bad = [dj.write_tiny_image(tmp_path / f"bad{i}.json", i, 5, fail=NASTY) for i in range(n_bad)]
    slow = dj.write_tiny_image(tmp_path / "slow.json", 9, 9, sleep=3)
    config = dj.adder_config(db_url, maxfailures=2)
    with ImageAdder(config, job=dj.tiny_job, client=dask_client) as ia:
        sql_threads = db_threads(ia)
        ia.add_images(good + bad)
        assert ia.wait(timeout=60)
        ia.add_images([slow])
        running = _Tables(ia._repr_html_())
        assert _counts(running)["running"] == 1  # the slow job, in the ledger
        assert _ledger_truth(db_url)["running"] == 1
        (this,) = [row for row in running.table("Database") if row[0] == "This ImageAdder"]
        n = len(good) + len(bad)
        assert this[1] == f"{n + 1} jobs taken on: 1 running, {n} finished"
        assert ia.wait(timeout=60)
        html = ia._repr_html_()
        truth = _ledger_truth(db_url)
    assert truth == {"succeeded": len(good) + 1, "failed": len(bad)}  # as the test made them
    tables = _Tables(html)
    counts = _counts(tables)
    assert counts == {"queued": 0, "running": 0, **truth, "total": len(good) + len(bad) + 1}
    failures = tables.table("job")
    assert failures[0] == ["job", "attempts", "last error", "when (UTC)"]
    shown = failures[1:]
    assert len(shown) == RECENT_FAILURES
    names = {p.name for p in bad}
    assert {row[0] for row in shown} <= names  # file names, not paths
    assert all(row[1] == "2" for row in shown)  # maxfailures attempts each
    assert all(row[2] == f"ImageError: {(tmp_path / row[0]).resolve()}: {NASTY}" for row in shown)
    assert f"Failed for good: {len(bad)} (the last {RECENT_FAILURES} of {len(bad)} shown" in html
    assert {str(p.resolve()) for p in bad} >= {t for t in tables.titles if t.endswith(".json")}
    assert "<label>" not in html and "&lt;label&gt;" in html  # escaped
    assert {t.name for t in sql_threads} == {ia._thread.name}  # only the dispatcher queried


def test_html_repr_of_a_closed_runner(tmp_path, gpkg_url, dask_client):
    ia = ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client)
    ia.close()
    html = ia._repr_html_()
    rows = dict(row for row in _Tables(html).table("Database") if len(row) == 2)
    assert rows["Database"] == gpkg_url
    assert rows["This ImageAdder"] == "closed"
    assert "Ledger not available: this ImageAdder is closed" in html


@pytest.mark.postgres
def test_html_repr_masks_the_password(tmp_path, postgres_url, dask_client):
    proxy = TcpProxy((make_url(postgres_url).host or "127.0.0.1", make_url(postgres_url).port or 5432))
    url = make_url(postgres_url).set(password=PASSWORD, host="127.0.0.1", port=proxy.port)
    url_text = url.render_as_string(hide_password=False)  # trust authentication ignores the password
    image = dj.write_tiny_image(tmp_path / "bad.json", 1, 1, fail="no such camera")
    with ImageAdder(dj.adder_config(url_text, maxfailures=1), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([image])
        assert ia.wait(timeout=60)
        shown = [ia._repr_html_()]
        proxy.down()
        shown.append(ia._repr_html_())  # the database is unreachable: the reason is shown, masked
        proxy.up()
    assert f"{url.username}:***@" in shown[0]
    assert "Ledger not available" in shown[1]
    assert all(PASSWORD not in html for html in shown)


# -- progress --------------------------------------------------------------------------------------


@pytest.fixture
def shell(tmp_path_factory, monkeypatch):
    """A real IPython shell (not a kernel), its history kept out of the home folder."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    from IPython.core.interactiveshell import InteractiveShell

    instance = InteractiveShell.instance()
    yield instance
    InteractiveShell.clear_instance()


def _bar_states(outputs: list[Any]) -> list[str]:
    """The text form of every display and update of the HTML bar, in order."""
    return [o.data["text/plain"] for o in outputs if "tiepoint-progress" in o.data.get("text/html", "")]


def _completed(state: str) -> int:
    return int(state.split("] ", 1)[1].split("/", 1)[0])


def test_progress_returns_at_once_updates_and_stops(tmp_path, gpkg_url, dask_client, shell, db_threads):
    from IPython.utils.capture import capture_output

    images = [dj.write_tiny_image(tmp_path / f"i{i}.json", i, 0, sleep=1.0 + 0.3 * i) for i in range(4)]
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        sql_threads = db_threads(ia)
        ia.add_images(images)
        with capture_output() as captured:
            t0 = time.monotonic()
            live = ia.progress(interval=0.05, mode="html")
            returned = time.monotonic() - t0
            assert live.running and ia.n_running > 0
            assert len(ia.job_status) == len(images)  # the dispatcher answers while the bar runs
            assert live.join(timeout=60)
        assert ia.n_finished == len(images)
    assert returned < 1.0  # it did not wait for the jobs (each takes over a second, 4 on 2 workers)
    assert live.final == "done" and live.updates >= 3
    outputs = captured.outputs
    assert [o.update for o in outputs[:1]] == [False] and all(o.update for o in outputs[1:])
    assert len({o.transient["display_id"] for o in outputs}) == 1  # one display, updated in place
    states = _bar_states(outputs)
    done = [_completed(s) for s in states]
    assert done == sorted(done) and done[-1] == len(images)
    assert any(0 < n < len(images) for n in done)  # seen part way
    assert states[-1].startswith(f"ingesting [{'#' * 24}] 4/4 · done in 0:00:")
    assert "install" not in captured.stderr + captured.stdout
    assert {t.name for t in sql_threads} == {ia._thread.name}  # the bar never queried the database


def test_progress_stops_when_the_runner_closes(tmp_path, gpkg_url, dask_client, shell):
    from IPython.utils.capture import capture_output

    image = dj.write_tiny_image(tmp_path / "slow.json", 0, 0, sleep=2)
    ia = ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client)
    try:
        ia.add_images([image])
        with capture_output() as captured:
            live = ia.progress(interval=0.05, mode="html")
            time.sleep(0.3)
            assert live.running
            ia.close()
            assert live.join(timeout=10)
    finally:
        ia.close()
    assert live.final == "closed"
    assert "0/1 · stopped: the runner is closed" in _bar_states(captured.outputs)[-1]


def test_progress_widget_reaches_the_end(tmp_path, gpkg_url, dask_client, shell):
    from IPython.utils.capture import capture_output

    images = [dj.write_tiny_image(tmp_path / f"w{i}.json", i, 0, sleep=0.5) for i in range(3)]
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images(images)
        with capture_output() as captured:
            live = ia.progress(interval=0.05, mode="widget")
            assert live.join(timeout=60)
    bar = live.bar.bar
    assert (bar.value, bar.max, bar.bar_style) == (3, 3, "success")
    assert live.bar.text.value.startswith("3/3 · done in ")
    (shown,) = captured.outputs  # the widget, displayed once; it updates itself
    assert "application/vnd.jupyter.widget-view+json" in shown.data


def test_wait_with_an_html_bar(tmp_path, gpkg_url, dask_client, shell):
    from IPython.utils.capture import capture_output

    images = [dj.write_tiny_image(tmp_path / f"h{i}.json", i, 0, sleep=0.3) for i in range(2)]
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images(images)
        with capture_output() as captured:
            assert ia.wait(timeout=60, progress="html")
    states = _bar_states(captured.outputs)
    assert states[-1].split("] ", 1)[1].startswith("2/2 · done in ")
    assert "<progress" in captured.outputs[-1].data["text/html"]


def test_progress_with_no_jobs_stops_at_once(tmp_path, gpkg_url, dask_client):
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        live = ia.progress(mode="rich")
        assert live.join(timeout=5)
    assert live.final == "done" and live.updates == 0


def test_choose_mode(monkeypatch):
    monkeypatch.delenv("TIEPOINT_PROGRESS", raising=False)
    assert choose_mode() == "rich"  # not in a Jupyter kernel
    assert choose_mode("HTML") == "html"
    monkeypatch.setenv("TIEPOINT_PROGRESS", "html")
    assert choose_mode() == "html"
    assert choose_mode("rich") == "rich"  # the argument wins
    monkeypatch.setenv("TIEPOINT_PROGRESS", "fancy")
    with pytest.raises(TiepointError, match="TIEPOINT_PROGRESS 'fancy' is not one of auto, widget"):
        choose_mode()
    assert choose_mode("widget") == "widget"
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    assert choose_mode("widget") == "html"
    monkeypatch.setitem(sys.modules, "IPython.display", None)  # nor IPython: a terminal program
    assert choose_mode("widget") == "rich"


def test_describe():
    assert describe(Counts(3, 6, 2), 4.2) == "3/6 · 2 running · 0:00:04"
    assert describe(Counts(6, 6, 0), 3725.0, "done") == "6/6 · done in 1:02:05"
    assert describe(Counts(0, 0, 0), 0.0, "done") == "0/0 · no jobs"
    assert Counts(1, 2, 1).active and not Counts(1, 2, 1, closed=True).active and not Counts(2, 2, 0).active


def test_the_status_table_shows_file_names(tmp_path, gpkg_url, dask_client):
    from typer.testing import CliRunner

    from tiepoint.cli.main import app

    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "and-deeper"
    deep.mkdir(parents=True)
    image = dj.write_tiny_image(deep / "B10_013615_2178_XI_37N117W.crop.json", 1, 1)
    config = tmp_path / "tiepoint.yml"
    config.write_text(f"database:\n  url: {gpkg_url}\n")
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([image])
        assert ia.wait(timeout=60)
    result = CliRunner().invoke(app, ["status", "-c", str(config)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    first_column = [line.split("│")[1].strip() for line in result.output.splitlines() if "│" in line]
    assert image.name in first_column  # whole, on one line, however deep the folder
    assert Path(image).name == image.name
