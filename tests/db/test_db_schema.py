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


def _include_for(dialect: str):
    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return name in Base.metadata.tables
        # The GiST index exists on PostGIS only; the GeoPackage has its R-tree (tested elsewhere).
        return not (dialect == "sqlite" and type_ == "index" and name == "ix_images_footprint")

    return include


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
        diff = compare_metadata(context, Base.metadata)
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
