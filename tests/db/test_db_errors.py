"""Unavailable databases raise DatabaseUnavailableError (retry later); other failures DatabaseError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from dbtest_records import make_record
from pg_server import LocalPostgres, find_bindir, free_port

from tiepoint.db import Database, DatabaseError, DatabaseUnavailableError
from tiepoint.errors import TiepointError


def test_unreachable_server_is_unavailable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    with pytest.raises(DatabaseUnavailableError, match=r"127\.0\.0\.1"):
        Database(url)


def test_locked_sqlite_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.gpkg"
    with Database(f"sqlite:///{path}?timeout=0.2") as db:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(DatabaseUnavailableError, match="locked"):
                db.write_image(make_record("/data/a.cub"))
        finally:
            other.execute("ROLLBACK")
            other.close()
        db.write_image(make_record("/data/a.cub"))
        assert db.ingested_paths() == {"/data/a.cub"}


@pytest.mark.postgres
def test_server_restart_unavailable_then_recovers() -> None:
    try:
        server = LocalPostgres(find_bindir())
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        server.start()
        url = server.new_database()
        with Database(url) as db:
            db.write_image(make_record("/data/before.cub"))
            server.stop()  # e.g. an administrator restarting it
            with pytest.raises(DatabaseUnavailableError):
                db.write_image(make_record("/data/during.cub"))
            with pytest.raises(DatabaseUnavailableError):
                db.has_image("/data/before.cub")
            server.start(port=server.port)
            db.write_image(make_record("/data/after.cub"))
            assert db.ingested_paths() == {"/data/before.cub", "/data/after.cub"}
    finally:
        server.stop(remove=True)


def test_sql_errors_are_not_unavailable(db_url: str) -> None:
    with Database(db_url) as db:
        with pytest.raises(DatabaseError) as info:
            db.execute_sql("SELEC nonsense")
        assert not isinstance(info.value, DatabaseUnavailableError)
        with pytest.raises(DatabaseError) as info:
            db.execute_sql("SELECT * FROM no_such_table")
        assert not isinstance(info.value, DatabaseUnavailableError)


def test_bad_urls(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x.gpkg"
    with pytest.raises(DatabaseError, match="does not exist") as info:
        Database(f"sqlite:///{missing}")
    assert not isinstance(info.value, DatabaseUnavailableError)
    assert info.value.path == str(missing)
    with pytest.raises(DatabaseError, match="unsupported database backend"):
        Database("mysql://user@host/db")
    with pytest.raises(DatabaseError, match="invalid database URL"):
        Database("not a url")
    assert issubclass(DatabaseUnavailableError, TiepointError)


def test_not_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.gpkg"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not a database") as info:
        Database(f"sqlite:///{path}")
    assert not isinstance(info.value, DatabaseUnavailableError)
