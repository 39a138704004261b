"""Schema: the Alembic migrations build exactly the models' tables; upgrade/downgrade; SQL passthrough."""

from __future__ import annotations

import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from dbtest_records import make_record
from sqlalchemy import inspect
from sqlalchemy.exc import SAWarning

from tiepoint.db import Base, Database, DatabaseError
from tiepoint.db.database import MIGRATIONS_DIR

GIST_INDEXES = {"ix_images_footprint", "ix_pairs_overlap", "ix_points_geom"}


def _include_for(dialect: str):
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return name in Base.metadata.tables
        # The GiST indexes exist on PostGIS only; the GeoPackage has R-trees (tested elsewhere).
        return not (dialect == "sqlite" and type_ == "index" and name in GIST_INDEXES)

    return include


def _inline_fks_checked(conn, diff: list) -> list:
    """*diff* less the SQLite foreign keys whose ``ON DELETE`` only reflection misses.

    SQLAlchemy reads ``ON DELETE`` from table-level ``FOREIGN KEY`` clauses only, and a column added
    by ``ALTER TABLE`` carries its ``REFERENCES`` inline; such keys are checked with
    ``PRAGMA foreign_key_list`` instead.
    """
    if conn.dialect.name != "sqlite":
        return diff
    removed = {(d[1].parent.name, tuple(d[1].column_keys)): d for d in diff if d[0] == "remove_fk"}
    added = {(d[1].parent.name, tuple(d[1].column_keys)): d for d in diff if d[0] == "add_fk"}
    checked = []
    for (table, columns), add in added.items():
        if (table, columns) not in removed or len(columns) != 1:
            continue
        pragma = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").all()
        actions = {(row[2], row[3], row[4]): row[6] for row in pragma}  # (table, from, to): on_delete
        (element,) = add[1].elements
        key = (element.column.table.name, columns[0], element.column.name)
        assert actions.get(key) == (add[1].ondelete or "NO ACTION").upper(), (table, columns)
        checked += [add, removed[(table, columns)]]
    return [d for d in diff if not any(d is c for c in checked)]


def test_migrations_match_models(db_url: str) -> None:
    with Database(db_url) as db, db.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # reflection does not know geometry/rtree types
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": _include_for(db.dialect),
                "compare_type": False,
                "compare_server_default": False,
            },
        )
        diff = _inline_fks_checked(conn, compare_metadata(context, Base.metadata))
        head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
        assert context.get_current_revision() == head
    assert diff == []


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    with Database(db_url) as db:
        db.write_image(make_record("/data/a.cub"))
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        tables = set(inspect(db.engine).get_table_names())
        assert not tables & set(Base.metadata.tables)
    with Database(db_url) as db:  # a re-open migrates back to head, empty
        assert db.ingested_paths() == set()
        db.write_image(make_record("/data/a.cub"))
        assert db.images_intersecting(make_record("x").footprint)[0].path == "/data/a.cub"


def test_execute_sql_and_delete(db_url: str) -> None:
    with Database(db_url) as db:
        db.write_images([make_record(f"/data/{n}.cub") for n in ("a", "b", "c")])
        rows = db.execute_sql(
            "SELECT name, lines FROM images WHERE name <> :skip ORDER BY name", {"skip": "b"}
        )
        assert [tuple(r) for r in rows] == [("a", 1024), ("c", 1024)]
        assert rows[0]._mapping["name"] == "a"
        assert (
            db.execute_sql("UPDATE images SET product_id = :p WHERE name = :n", [{"p": "X", "n": "a"}]) == []
        )
        assert db.get_image("/data/a.cub").product_id == "X"
        assert db.delete_image("/data/b.cub") and not db.delete_image("/data/b.cub")
        counts = db.execute_sql("SELECT (SELECT count(*) FROM cameras), (SELECT count(*) FROM keypoints)")[0]
        assert tuple(counts) == (2, 2)
        assert [i.path for i in db.images_intersecting(make_record("x").footprint)] == [
            "/data/a.cub",
            "/data/c.cub",
        ]


def test_sqlite_url_pragmas(tmp_path) -> None:
    path = tmp_path / "wal.gpkg"
    with Database(f"sqlite:///{path}?journal_mode=wal&synchronous=normal") as db:
        db.write_image(make_record("/data/a.cub"))
        assert db.execute_sql("PRAGMA journal_mode")[0][0] == "wal"
        assert db.execute_sql("PRAGMA synchronous")[0][0] == 1  # NORMAL
    with Database(f"sqlite:///{path}") as db:
        assert db.ingested_paths() == {"/data/a.cub"}
    with pytest.raises(DatabaseError, match="journal_mode"):
        Database(f"sqlite:///{path}?journal_mode=bogus")


def test_from_config(tmp_path) -> None:
    from tiepoint.config import load_config

    url = f"sqlite:///{tmp_path / 'cfg.gpkg'}"
    cfg = load_config(
        {
            "database": {
                "url": url,
                "body": {"name": "Moon", "semimajor": 1737400, "semiminor": 1737400, "srid": 30100},
            }
        }
    )
    with Database.from_config(cfg) as db:
        assert db.body.srid == 30100 and str(db.url) == url
    with Database.from_config(cfg.database) as db:
        assert db.body.name == "Moon"


def test_dispatchers_migration_keeps_the_job_ledger(db_url: str) -> None:
    from datetime import UTC, datetime

    from tiepoint.db import Dispatcher, Job, JobAttempt

    now = datetime.now(UTC)
    with Database(db_url) as db:
        with db.session() as s:
            owner = Dispatcher(token="t", host="h", pid=1, started=now, heartbeat=now)
            s.add(owner)
            s.flush()
            job = Job(
                kind="ingest", key="/data/a.cub", state="running", attempts=1, submitted=now, updated=now
            )
            job.dispatcher_id = owner.id
            s.add_all([job, JobAttempt(job=job, number=1, state="running", started=now)])
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        insp = inspect(db.engine)
        assert "dispatchers" not in insp.get_table_names()
        assert "dispatcher_id" not in {c["name"] for c in insp.get_columns("jobs")}
        counts = db.execute_sql("SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM job_attempts)")
        assert tuple(counts[0]) == (1, 1)  # rebuilding jobs would have cascaded to the attempts
    with Database(db_url) as db, db.session() as s:  # a re-open migrates back to head
        (job,) = s.query(Job).all()
        assert job.dispatcher_id is None and [a.number for a in job.attempt_rows] == [1]
        assert (job.kind, job.key) == ("ingest", "/data/a.cub")


def test_job_kinds_migration_keeps_the_history(db_url: str) -> None:
    """A database from before job kinds (revision 0002) keeps every job and attempt as ingest jobs."""
    from tiepoint.db import Job

    with Database(db_url) as db:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "path" in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
        now = "2026-11-01 10:00:00+00:00" if db.dialect == "postgresql" else "2026-11-01 10:00:00.000000"
        for n, path in enumerate(["/data/a.cub", "/data/b.cub"], start=1):
            db.execute_sql(
                "INSERT INTO jobs (id, path, force, state, attempts, maxfailures, submitted, updated) "
                "VALUES (:id, :path, false, 'failed', 2, 2, :now, :now)",
                {"id": n, "path": path, "now": now},
            )
            for number in (1, 2):
                db.execute_sql(
                    "INSERT INTO job_attempts (job_id, number, state, started, error_type) "
                    "VALUES (:id, :number, 'failed', :now, 'ImageError')",
                    {"id": n, "number": number, "now": now},
                )
    with Database(db_url) as db, db.session() as s:  # a re-open migrates to head
        jobs = s.query(Job).order_by(Job.id).all()
        assert [(j.kind, j.key, j.state) for j in jobs] == [
            ("ingest", "/data/a.cub", "failed"),
            ("ingest", "/data/b.cub", "failed"),
        ]
        assert [[a.number for a in j.attempt_rows] for j in jobs] == [[1, 2], [1, 2]]
