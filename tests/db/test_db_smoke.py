"""Smoke test of the database fixtures: both backends open, migrate and round-trip a job row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from tiepoint.db import Database, Job


def test_open_and_job_roundtrip(db_url: str) -> None:
    submitted = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    with Database(db_url) as db:
        with db.session() as session:
            session.add(Job(kind="ingest", key="/data/a.cub", submitted=submitted, updated=datetime.now(UTC)))
        with db.session() as session:
            job = session.scalars(select(Job)).one()
    assert job.state == "queued" and job.attempts == 0 and job.force is False
    assert job.submitted == submitted
    assert job.submitted.utcoffset() == timedelta(0)
