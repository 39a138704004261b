"""Dispatcher liveness across hosts: heartbeats, closed dispatchers, and taking over their jobs.

A dispatcher "on another host" is a ``dispatchers`` row with another host name; its process cannot
be seen from here, so only its heartbeat and ``closed`` tell whether its jobs are lost.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dispatch_jobs as dj
import pytest
from sqlalchemy import select

from tiepoint.db import Database, Dispatcher, Job, JobAttempt
from tiepoint.dispatch import ImageAdder
from tiepoint.dispatch.ledger import Ledger

OTHER_HOST = "login-a.elsewhere"


def _remote_job(url: str, image: Path, age: float, closed: bool, maxfailures: int) -> tuple[int, int]:
    """A dispatcher on another host, its heartbeat *age* seconds old, running attempt 1 of a job
    on *image*; returns (dispatcher id, job id)."""
    now = datetime.now(UTC)
    with Database(url) as db, db.session() as s:
        remote = Dispatcher(
            token=uuid.uuid4().hex,
            host=OTHER_HOST,
            pid=4242,
            started=now - timedelta(hours=1),
            heartbeat=now - timedelta(seconds=age),
            closed=now if closed else None,
        )
        s.add(remote)
        s.flush()
        job = Job(
            kind="ingest",
            key=str(image.resolve()),
            force=False,
            state="running",
            attempts=1,
            maxfailures=maxfailures,
            submitted=now,
            updated=now,
            dispatcher_id=remote.id,
        )
        s.add(job)
        s.flush()
        s.add(JobAttempt(job_id=job.id, number=1, state="running", started=now))
        return remote.id, job.id


def _row(url: str, model: type, row_id: int) -> object:
    with Database(url) as db, db.session() as s:
        return s.get(model, row_id)


@pytest.mark.parametrize(
    ("age", "closed", "taken"),
    [(120.0, False, True), (0.0, True, True), (0.0, False, False)],
    ids=["stale", "closed", "alive"],
)
def test_jobs_of_a_dispatcher_on_another_host(tmp_path, db_url, dask_client, age, closed, taken):
    img = dj.write_tiny_image(tmp_path / "remote.json", 3, 4, fail_first=1)
    # 2 failures allowed: the lost attempt must not count, or the first real failure ends the job
    remote_id, job_id = _remote_job(db_url, img, age, closed, maxfailures=2)
    cfg = dj.adder_config(db_url)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client) as ia:
        assert ia.n_jobs == int(taken)
        assert ia.wait(timeout=60)
        attempts = [(a["state"], a["error_type"]) for a in ia.inspect(img)]
        status = ia.job_status
        me = ia.dispatcher_id
    job = _row(db_url, Job, job_id)
    if taken:
        assert attempts == [("failed", "DispatcherLost"), ("failed", "ImageError"), ("succeeded", None)]
        assert status == {str(img.resolve()): True}
        assert dj.runs(img) == 2 and job.dispatcher_id == me != remote_id
        assert Database(db_url).has_image(str(img.resolve()))
        return
    # alive: left alone ...
    assert attempts == [("running", None)] and dj.runs(img) == 0
    assert job.state == "running" and job.dispatcher_id == remote_id
    # ... until its heartbeat is older than the staleness limit
    time.sleep(1.0)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client, stale_after=0.5) as later:
        assert later.n_jobs == 1
        assert later.wait(timeout=60)
        assert later.job_status == {str(img.resolve()): True}
    assert dj.runs(img) == 2


def test_heartbeats_keep_a_busy_dispatcher_alive(tmp_path, db_url, dask_client):
    imgs = [dj.write_tiny_image(tmp_path / f"busy{i}.json", i, 0, sleep=4.0) for i in range(2)]
    cfg = dj.adder_config(db_url)
    with ImageAdder(cfg, job=dj.tiny_job, client=dask_client, heartbeat=0.2) as first:
        first.add_images(imgs)
        registered = _row(db_url, Dispatcher, first.dispatcher_id)
        time.sleep(2.5)  # without heartbeats the first would now look dead to the second
        with ImageAdder(cfg, job=dj.tiny_job, client=dask_client, stale_after=1.5) as second:
            assert second.n_jobs == 0
            second_id = second.dispatcher_id
        beating = _row(db_url, Dispatcher, first.dispatcher_id)
        assert first.wait(timeout=60)
        first_id = first.dispatcher_id
    closed = _row(db_url, Dispatcher, first_id)
    assert [dj.runs(p) for p in imgs] == [1, 1]
    assert registered.closed is None and beating.closed is None
    assert beating.heartbeat - registered.heartbeat >= timedelta(seconds=2.0)
    assert closed.closed is not None and closed.closed >= beating.heartbeat
    assert _row(db_url, Dispatcher, second_id).closed is not None
    with Database(db_url) as db, db.session() as s:
        assert set(s.execute(select(Job.dispatcher_id)).scalars()) == {first_id}


def test_two_dispatchers_resuming_at_once_split_the_jobs(db_url):
    with Database(db_url) as db:
        ledger = Ledger(db)
        gone = ledger.register(uuid.uuid4().hex, OTHER_HOST, 4242)
        jobs = ledger.create("ingest", [f"/data/img{i:03d}.cub" for i in range(300)], False, 3, gone)
        ledger.begin_attempts(jobs, gone)
        ledger.close_dispatcher(gone)
        resumers = [ledger.register(uuid.uuid4().hex, OTHER_HOST, 4243 + k) for k in range(2)]
        barrier = threading.Barrier(2)
        taken: dict[int, list[int]] = {}

        def resume(me: int) -> None:
            barrier.wait()
            taken[me] = [j.id for j in ledger.take_over("ingest", me, lambda d, now: d.id in resumers)]

        threads = [threading.Thread(target=resume, args=(me,)) for me in resumers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db.session() as s:
            owners = dict(s.execute(select(Job.id, Job.dispatcher_id)).all())
            lost = s.execute(select(JobAttempt.job_id).where(JobAttempt.error_type == "DispatcherLost"))
            lost_ids = sorted(lost.scalars())
    a, b = (set(taken[me]) for me in resumers)
    assert not a & b and a | b == {j.id for j in jobs}  # each job taken exactly once
    assert owners == {**dict.fromkeys(a, resumers[0]), **dict.fromkeys(b, resumers[1])}
    assert lost_ids == sorted(j.id for j in jobs)  # one lost attempt each
