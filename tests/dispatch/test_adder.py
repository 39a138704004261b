"""ImageAdder on a real LocalCluster with a real GeoPackage database and small real job functions."""

from __future__ import annotations

from pathlib import Path

import dispatch_jobs as dj
import pytest

from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder
from tiepoint.errors import ImageError


def _images(folder: Path, n: int, **behaviour) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [dj.write_tiny_image(folder / f"img{i:02d}.json", 10.0 * i, 5.0, **behaviour) for i in range(n)]


def test_batch_with_a_corrupt_image(tmp_path, gpkg_url, dask_client):
    good = _images(tmp_path / "imgs", 4)
    bad = dj.write_tiny_image(tmp_path / "imgs" / "bad.json", 0, 0, fail="truncated cube")
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        queued = ia.add_images(tmp_path / "imgs", "json")
        assert sorted(queued) == sorted(str(p.resolve()) for p in [*good, bad])
        assert ia.wait(timeout=60)
        status = ia.job_status
        failed = ia.failed_jobs
        attempts = ia.inspect(bad)
        good_attempts = ia.inspect(good[0])
    assert failed == [str(bad.resolve())]
    assert status[str(bad.resolve())] == 3
    assert all(status[str(p.resolve())] is True for p in good)
    # every attempt of the corrupt image recorded, with what the worker saw
    assert dj.runs(bad) == 3
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    for a in attempts:
        assert a["state"] == "failed"
        assert "ImageError" in a["error"] and "truncated cube" in a["error"]
        assert "Traceback" in a["traceback"] and "tiny_job" in a["traceback"]
        assert a["host"] and a["worker"].startswith("tcp://127.0.0.1:")
        assert a["started"] <= a["finished"]
        assert "tiny job on" in a["log"]
    assert len(good_attempts) == 1 and good_attempts[0]["state"] == "succeeded"
    # the database holds the good images with the footprints the jobs computed
    db = Database(gpkg_url)
    assert db.ingested_paths() == {str(p.resolve()) for p in good}
    image = db.get_image(str(good[2].resolve()))
    assert image.footprint.bounds == pytest.approx((20.0, 5.0, 21.0, 6.0))


def test_skip_ingested_unless_force(tmp_path, gpkg_url, dask_client):
    imgs = _images(tmp_path / "imgs", 2)
    cfg = dj.adder_config(gpkg_url)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([str(p) for p in imgs])
        assert ia.wait(timeout=60)
        assert ia.add_images(str(tmp_path / "imgs" / "*.json")) == []
        assert ia.add_image(imgs[0], force=True) == [str(imgs[0].resolve())]
        assert ia.wait(timeout=60)
        assert len(ia.inspect(imgs[0])) == 2
        with pytest.raises(ImageError, match=r"missing\.cub: no such file"):
            ia.add_image(tmp_path / "missing.cub")
    assert [dj.runs(p) for p in imgs] == [2, 1]


def test_transient_failure_is_retried(tmp_path, gpkg_url, dask_client):
    img = dj.write_tiny_image(tmp_path / "flaky.json", 1, 1, fail_first=2)
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_image(img)
        assert ia.wait(timeout=60)
        attempts = ia.inspect(img)
        assert ia.job_status == {str(img.resolve()): True}
    assert [a["state"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert Database(gpkg_url).has_image(str(img.resolve()))


def test_a_result_the_database_rejects_fails_only_its_job(tmp_path, gpkg_url, dask_client):
    good = [dj.write_tiny_image(tmp_path / f"g{i}.json", i, 1, sleep=0.2) for i in range(3)]
    bad = dj.write_tiny_image(tmp_path / "rejected.json", 9, 9, bad_record=True, sleep=0.2)
    with ImageAdder(dj.adder_config(gpkg_url, maxfailures=1), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([*good, bad])
        assert ia.wait(timeout=60)
        failed = ia.failed_jobs
        (attempt,) = ia.inspect(bad)
    assert failed == [str(bad.resolve())]
    assert "writing the result failed" in attempt["error_message"] and attempt["traceback"]
    assert Database(gpkg_url).ingested_paths() == {str(p.resolve()) for p in good}
