"""Job kinds share one ledger but never take, resume or run each other's jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dispatch_jobs as dj
from sqlalchemy import select

from tiepoint.db import Database, Job
from tiepoint.dispatch import ImageAdder

HERE = Path(__file__).resolve().parent


def _keys(paths: list[Path]) -> list[str]:
    return [str(p.resolve()) for p in paths]


def test_two_kinds_on_one_database_stay_apart(tmp_path, gpkg_url, dask_client):
    images = [dj.write_tiny_image(tmp_path / f"img{i}.json", i, 0) for i in range(2)]
    others = [dj.write_tiny_image(tmp_path / f"other{i}.json", i, 5) for i in range(2)]
    cfg = dj.adder_config(gpkg_url)
    with (
        ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as ia,
        dj.echo_runner_class()(cfg, client=dask_client) as echo,
    ):
        assert ia.add_images(images) == _keys(images)
        assert echo.submit(_keys(others)) == _keys(others)
        assert ia.wait(timeout=60) and echo.wait(timeout=60)
        assert ia.job_status == dict.fromkeys(_keys(images), True)
        assert echo.job_status == dict.fromkeys(_keys(others), True)
        assert ia.inspect(others[0]) == [] and echo.inspect_key(_keys(images)[0]) == []
        # the same key under both kinds: two jobs, each run by its own kind
        assert echo.submit(_keys(images)[:1]) == _keys(images)[:1]
        assert echo.wait(timeout=60)
        assert ia.job_status == dict.fromkeys(_keys(images), True)
    assert [dj.runs(p) for p in images] == [1, 1] and [dj.echo_runs(p) for p in images] == [1, 0]
    assert [dj.runs(p) for p in others] == [0, 0] and [dj.echo_runs(p) for p in others] == [1, 1]


def test_a_killed_dispatcher_s_jobs_go_to_a_runner_of_their_own_kind(tmp_path, gpkg_url, dask_client):
    img_dir, other_dir = tmp_path / "images", tmp_path / "others"
    img_dir.mkdir()
    other_dir.mkdir()
    images = [dj.write_tiny_image(img_dir / f"img{i}.json", i, 0, sleep=2.0) for i in range(2)]
    others = [dj.write_tiny_image(other_dir / f"other{i}.json", i, 5, sleep=2.0) for i in range(2)]
    proc = subprocess.Popen(
        [
            sys.executable,
            HERE / "two_kinds_script.py",
            gpkg_url,
            dask_client.scheduler.address,
            img_dir,
            other_dir,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "queued"
        time.sleep(0.5)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # both dispatchers die with their jobs queued or running
        proc.wait()
    cfg = dj.adder_config(gpkg_url)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as ia:
        assert ia.n_jobs == 2  # the ingest jobs only
        assert ia.wait(timeout=60)
        assert ia.job_status == dict.fromkeys(_keys(images), True)
    db = Database(gpkg_url)
    with db.session() as s:
        echo_states = s.execute(select(Job.state).where(Job.kind == "echo")).scalars().all()
    db.close()
    assert len(echo_states) == 2 and set(echo_states) <= {"queued", "running"}  # left for their kind
    with dj.echo_runner_class()(cfg, client=dask_client) as echo:
        assert echo.n_jobs == 2
        assert echo.wait(timeout=60)
        assert echo.job_status == dict.fromkeys(_keys(others), True)
    assert [dj.runs(p) for p in others] == [0, 0]  # never run as ingest jobs
    assert all(dj.echo_runs(p) >= 1 for p in others) and all(dj.echo_runs(p) == 0 for p in images)
