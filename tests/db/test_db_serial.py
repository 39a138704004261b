"""images.serial_number: migration 0004, written from ImageRecord, set by the ingest job."""

from __future__ import annotations

import dataclasses
import warnings

from alembic import command
from alembic.config import Config as AlembicConfig
from dbtest_records import make_record
from sqlalchemy import inspect
from sqlalchemy.exc import SAWarning

from tiepoint.db import Database
from tiepoint.db.database import MIGRATIONS_DIR


def test_serial_number_written_and_read_back(db_url: str) -> None:
    with_serial = dataclasses.replace(make_record("/data/a.cub"), serial_number="MRO/CTX/0928283918:060")
    without = make_record("/data/b.cub")
    with Database(db_url) as db:
        db.write_images([with_serial, without])
        assert db.get_image("/data/a.cub").serial_number == "MRO/CTX/0928283918:060"
        assert db.get_image("/data/b.cub").serial_number is None
        rows = db.execute_sql(
            "SELECT path FROM images WHERE serial_number = :s", {"s": "MRO/CTX/0928283918:060"}
        )
        assert [r[0] for r in rows] == ["/data/a.cub"]
        forced = dataclasses.replace(without, serial_number="b")
        db.write_images([forced], force=True)
        assert db.get_image("/data/b.cub").serial_number == "b"


def _columns(db: Database) -> dict[str, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # reflection does not know geometry types
        return {c["name"]: c for c in inspect(db.engine).get_columns("images")}


def test_migration_adds_and_removes_the_column(db_url: str) -> None:
    with Database(db_url) as db:
        columns = _columns(db)
        assert columns["serial_number"]["nullable"]
        assert "ix_images_serial_number" in {i["name"] for i in inspect(db.engine).get_indexes("images")}
        db.write_image(dataclasses.replace(make_record("/data/a.cub"), serial_number="S"))
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "serial_number" not in _columns(db)
        assert db.execute_sql("SELECT count(*) FROM images")[0][0] == 1  # rows kept
    with Database(db_url) as db:  # re-opening migrates up again; old rows have no serial
        assert db.get_image("/data/a.cub").serial_number is None


def test_ingest_sets_the_serial_number(tmp_path, ctx_isd_dir) -> None:
    from tiepoint.cnet import serial_number
    from tiepoint.ingest import ingest_image
    from tiepoint.synthetic import synthesize

    cube = synthesize(
        ctx_isd_dir / "G02_019154_1800_XN_00N133W.crop.json", tmp_path, lines=120, samples=120
    ).cube
    record = ingest_image(cube)
    # the synthetic label names the instrument "CONTEXT CAMERA", not ISIS's "CTX": the stem
    assert record.serial_number == serial_number(cube) == cube.stem
