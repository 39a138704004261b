"""Fault tests: a worker killed mid-job, the dispatcher killed, the database away, concurrent adders."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dispatch_jobs as dj
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from tiepoint.db import Database, Dispatcher, ImageRow, Job, JobAttempt
from tiepoint.dispatch import ImageAdder
from tiepoint.dispatch.adder import dispatcher_is_alive

HERE = Path(__file__).resolve().parent


def _wait_for(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _image_rows(url: str) -> int:
    db = Database(url)
    try:
        with db.session() as s:
            return s.execute(select(func.count()).select_from(ImageRow)).scalar_one()
    finally:
        db.close()


def test_worker_killed_mid_job_is_retried_and_written_once(tmp_path, gpkg_url, dask_client):
    killer = dj.write_tiny_image(tmp_path / "killer.json", 3, 3, kill_first=True)
    good = dj.write_tiny_image(tmp_path / "good.json", 5, 5)
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        ia.add_images([killer, good])
        assert ia.wait(timeout=60)
        attempts = ia.inspect(killer)
        assert ia.job_status[str(killer.resolve())] is True
    assert attempts[0]["state"] == "failed" and attempts[0]["error_type"] == "KilledWorker"
    assert attempts[0]["worker"].startswith("tcp://")
    assert attempts[-1]["state"] == "succeeded"
    assert dj.runs(killer) == len(attempts) == 2
    assert _image_rows(gpkg_url) == 2


def test_dispatcher_killed_and_restarted_resumes(tmp_path, gpkg_url, dask_client):
    folder = tmp_path / "imgs"
    folder.mkdir()
    fast = dj.write_tiny_image(folder / "a_fast.json", 1, 1)
    slow = [dj.write_tiny_image(folder / f"b_slow{i}.json", 2 + i, 2, sleep=2.5) for i in range(2)]
    proc = subprocess.Popen(
        [sys.executable, HERE / "resume_script.py", gpkg_url, dask_client.scheduler.address, folder],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "queued"
        _wait_for(lambda: os.path.exists(gpkg_url[len("sqlite:///") :]) and _image_rows(gpkg_url) >= 1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    db = Database(gpkg_url)
    assert db.ingested_paths() == {str(fast.resolve())}  # the slow ones were still running
    with ImageAdder(dj.adder_config(gpkg_url), job=dj.tiny_job, client=dask_client) as ia:
        assert ia.n_jobs == 2  # resumed the unfinished jobs only
        assert ia.wait(timeout=60)
        status = ia.job_status
        lost = ia.inspect(slow[0])
    assert status == {str(p.resolve()): True for p in [fast, *slow]}
    assert dj.runs(fast) == 1  # never extracted again
    assert lost[0]["state"] == "failed" and lost[0]["error_type"] == "DispatcherLost"
    assert lost[-1]["state"] == "succeeded"
    assert _image_rows(gpkg_url) == 3


@pytest.mark.postgres
def test_database_unavailable_when_results_arrive(tmp_path, postgres_url, dask_client):
    url = make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    imgs = [dj.write_tiny_image(tmp_path / f"i{i}.json", i, 0, sleep=0.5) for i in range(3)]
    spool = tmp_path / "spool"
    ia = ImageAdder(dj.adder_config(proxied), job=dj.tiny_job, client=dask_client, spool_dir=spool)
    try:
        ia.add_images(imgs)
        proxy.down()  # the jobs finish while the database is unreachable
        _wait_for(lambda: len(ia.spool) == 3)
        assert ia.wait(timeout=30) is False  # finished, but the outcomes wait in the spool
    finally:
        ia.close()  # the dispatcher goes away with the outcomes only on disk
    assert len(list(spool.glob("*.pkl"))) == 3
    proxy.up()
    cfg = dj.adder_config(proxied)
    cfg["database"]["spool_dir"] = str(spool)  # the same folder, from the configuration this time
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as ia2:
        assert ia2.wait(timeout=30)
        status = ia2.job_status
        attempts = [ia2.inspect(p) for p in imgs]
    proxy.down()
    assert status == {str(p.resolve()): True for p in imgs}
    assert all(len(a) == 1 and a[0]["state"] == "succeeded" for a in attempts)  # nothing re-run
    assert [dj.runs(p) for p in imgs] == [1, 1, 1]
    assert _image_rows(postgres_url) == 3
    assert not list(spool.glob("*.pkl"))


@pytest.mark.postgres
def test_same_image_added_concurrently_gives_one_row(tmp_path, postgres_url, dask_client):
    img = dj.write_tiny_image(tmp_path / "same.json", 7, 7, sleep=0.3)
    cfg = dj.adder_config(postgres_url)
    adders = [ImageAdder(cfg, job=dj.tiny_job, client=dask_client) for _ in range(2)]
    try:
        barrier = threading.Barrier(2)

        def add(ia: ImageAdder) -> None:
            barrier.wait()
            ia.add_image(img, force=True)

        threads = [threading.Thread(target=add, args=(ia,)) for ia in adders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(ia.wait(timeout=60) for ia in adders)
        assert adders[0].job_status == {str(img.resolve()): True}
    finally:
        for ia in adders:
            ia.close()
    assert dj.runs(img) == 2  # both ran ...
    assert _image_rows(postgres_url) == 1  # ... and the database kept one row


def test_close_with_jobs_running_leaves_a_consistent_ledger(tmp_path, gpkg_url, dask_client):
    imgs = [dj.write_tiny_image(tmp_path / f"c{i}.json", i, 0, sleep=1.0) for i in range(2)]
    cfg = dj.adder_config(gpkg_url)
    ia = ImageAdder(cfg, job=dj.tiny_job, client=dask_client)
    ia.add_images(imgs)
    _wait_for(lambda: all(dj.runs(p) == 1 for p in imgs))
    ia.close()  # what Ctrl-C in `tiepoint add` does
    db = Database(gpkg_url)
    with db.session() as s:
        states = s.execute(select(Job.state)).scalars().all()
        attempts = s.execute(select(JobAttempt.state, JobAttempt.error_type)).all()
    assert states == ["queued", "queued"]
    assert sorted(attempts) == [("failed", "Cancelled")] * 2
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as again:
        assert again.wait(timeout=60)
        status = again.job_status
        history = again.inspect(imgs[0])
    assert status == {str(p.resolve()): True for p in imgs}  # cancellations are not failures
    assert [a["error_type"] for a in history] == ["Cancelled", None]


def test_a_second_adder_does_not_take_over_live_jobs(tmp_path, gpkg_url, dask_client):
    imgs = [dj.write_tiny_image(tmp_path / f"l{i}.json", i, 0, sleep=1.0) for i in range(2)]
    cfg = dj.adder_config(gpkg_url)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as first:
        first.add_images(imgs)
        with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as second:
            assert second.n_jobs == 0  # the first dispatcher is alive: nothing to resume
        assert first.wait(timeout=60)
    assert [dj.runs(p) for p in imgs] == [1, 1]


def test_dispatcher_liveness_rule():
    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = datetime.now(UTC)

    def alive(host: str = host, pid: int = os.getppid(), age: float = 0.0, **kw) -> bool:
        row = Dispatcher(token="abc", host=host, pid=pid, heartbeat=now - timedelta(seconds=age), **kw)
        return dispatcher_is_alive(row, now, stale_after=30.0)

    assert alive()  # a live process with a fresh heartbeat
    assert not alive(pid=dead.pid)  # a process that has exited
    assert not alive(pid=os.getpid())  # this process, but no ImageAdder with that token
    assert not alive(age=31.0)  # silent too long, although its pid exists (reused?)
    assert alive(host="login-b.elsewhere", pid=dead.pid, age=29.0)  # cannot see its process: heartbeat
    assert not alive(host="login-b.elsewhere", age=31.0)
    assert not alive(host="login-b.elsewhere", closed=now)
