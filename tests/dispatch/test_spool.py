"""The on-disk spool of outcomes waiting for the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import box

from tiepoint.dispatch.attempt import AttemptOutcome
from tiepoint.dispatch.spool import Spool, SpooledOutcome, default_spool_dir


def test_spool_round_trip_order_and_removal(tmp_path):
    spool = Spool(tmp_path / "s")
    assert len(spool) == 0 and list(spool.items()) == []
    now = datetime.now(UTC)
    items = [
        SpooledOutcome(12, 1, AttemptOutcome(ok=True, result=box(0, 0, 1, 1), host="h", started=now)),
        SpooledOutcome(3, 2, AttemptOutcome(ok=False, error_type="ImageError", error_message="bad")),
    ]
    for item in items:
        spool.put(item)
    (tmp_path / "s" / "000000000001-0001-1-1.pkl").write_bytes(b"not a pickle")  # a torn file
    back = list(spool.items())
    assert [(i.job_id, i.number) for _, i in back] == [(3, 2), (12, 1)]  # oldest job first
    assert back[1][1].outcome.result.equals(box(0, 0, 1, 1)) and back[1][1].outcome.started == now
    assert not list((tmp_path / "s").glob("*.tmp"))
    spool.remove(back[0][0])
    assert [i.job_id for _, i in Spool(tmp_path / "s").items()] == [12]  # another dispatcher sees it


def test_default_spool_dir(tmp_path):
    db = tmp_path / "a" / "x.gpkg"
    assert default_spool_dir(f"sqlite:///{db}") == db.resolve().parent / ".tiepoint" / "spool" / "x.gpkg"
    pg1 = default_spool_dir("postgresql+psycopg://u:secret@host/db1")
    pg2 = default_spool_dir("postgresql+psycopg://u:other@host/db1")
    assert pg1 == pg2 and pg1.parent == Path.home() / ".cache" / "tiepoint" / "spool"
    assert pg1 != default_spool_dir("postgresql+psycopg://u:secret@host/db2")
