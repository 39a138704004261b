"""Engines for the two backends and the translation of driver errors to tiepoint errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from tiepoint.config import redact_url
from tiepoint.db.errors import DatabaseError, DatabaseUnavailableError
from tiepoint.db.gpkg import register_functions

SQLITE_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10
WRITE_OPTION = "tiepoint_write"
"""Execution option: on SQLite, transactions of connections carrying it start with BEGIN IMMEDIATE."""

_SQLITE_PRAGMAS = {
    "journal_mode": ("delete", "truncate", "persist", "wal"),
    "synchronous": ("off", "normal", "full", "extra"),
}
"""URL query options applied as PRAGMAs on each SQLite connection, e.g. ``?journal_mode=wal``."""
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open", "disk i/o error")


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` / ``postgres://`` get the psycopg 3 driver.

    Raises
    ------
    DatabaseError
        If the URL cannot be parsed or names another backend than SQLite or PostgreSQL.
    """
    text_url = str(url)
    if text_url.startswith("postgres://"):
        text_url = "postgresql://" + text_url[len("postgres://") :]
    try:
        parsed = url if isinstance(url, URL) else make_url(text_url)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"invalid database URL {redact_url(text_url)!r}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"unsupported database backend {parsed.get_backend_name()!r} (use sqlite or postgresql)"
        )
    return parsed


def display_url(url: URL) -> str:
    """The URL without its password, for messages (see :func:`tiepoint.config.redact_url`)."""
    return redact_url(url)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise DatabaseError(f"folder {parent} of the SQLite database does not exist", database)
    pragmas = {}
    for key, allowed in _SQLITE_PRAGMAS.items():
        if key in url.query:
            value = str(url.query[key]).lower()
            if value not in allowed:
                raise DatabaseError(
                    f"SQLite {key} must be one of {', '.join(allowed)}, not {value!r}", database
                )
            pragmas[key] = value
    url = url.difference_update_query(list(_SQLITE_PRAGMAS))
    connect_args: dict[str, object] = {"check_same_thread": False}
    if "timeout" not in url.query:  # ?timeout=<seconds> in the URL overrides the lock wait
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun by the "begin" hook below
        register_functions(dbapi_connection)
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        for key, value in pragmas.items():
            dbapi_connection.execute(f"PRAGMA {key} = {value}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the write lock up front so two writers never deadlock upgrading read locks.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def make_engine(url: URL) -> Engine:
    """Create the engine for *url* (already normalized)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return _postgres_engine(url)


def translate(exc: SQLAlchemyError, what: str, url: URL) -> DatabaseError:
    """Turn a SQLAlchemy error into :class:`DatabaseUnavailableError` or :class:`DatabaseError`.

    Connection failures, lost connections and (SQLite) lock time-outs are "unavailable": the
    operation did not happen and may be retried later.
    """
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    message = f"{what} failed on {display_url(url)}: {detail}"
    unavailable = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if isinstance(exc, OperationalError | InterfaceError):
        if url.get_backend_name() == "sqlite":
            unavailable = unavailable or any(s in detail.lower() for s in _SQLITE_UNAVAILABLE)
        else:
            unavailable = True
    cls = DatabaseUnavailableError if unavailable else DatabaseError
    return cls(message)


@contextmanager
def translated(what: str, url: URL) -> Iterator[None]:
    """Context manager translating SQLAlchemy errors raised inside it (see :func:`translate`)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise translate(exc, what, url) from exc
