"""Bulk rows from column arrays: inserts and keyed updates of many rows at the driver's speed.

The network stage writes millions of measures; one ORM object or one SQLAlchemy parameter dict per
row costs more than the database does. Columns are given as numpy arrays (or scalars, repeated) and
turned into driver values once per column (NaN -> NULL on both backends: SQLite cannot store NaN;
datetimes in the GeoPackage text form on SQLite; points as GeoPackage blobs or hex EWKB). Rows go
in slices of :data:`~tiepoint.db.batches.ROWS_PER_BULK` (:func:`tiepoint.db.batches.chunks`):
``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL (keyed updates through a temporary
table and one ``UPDATE ... FROM``). Everything runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection

from tiepoint.db.batches import ROWS_PER_BULK, chunks
from tiepoint.db.geometry import gpkg_encode_many


@dataclass(frozen=True, slots=True)
class Points:
    """A geometry column's values: lon/lat points (NaN: NULL geometry) in the CRS *srid*."""

    x: np.ndarray
    y: np.ndarray
    srid: int


def db_time(value: datetime, dialect: str) -> Any:
    """A timezone-aware datetime as the driver takes it (the GeoPackage text form on SQLite)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: use timezone-aware UTC")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if dialect == "sqlite" else value


def _geometries(points: Points, dialect: str) -> list[Any]:
    x, y = np.asarray(points.x, float), np.asarray(points.y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.full(len(x), None, dtype=object)
    if ok.any():
        geoms = shapely.points(x[ok], y[ok])
        if dialect == "postgresql":  # hex EWKB is what COPY's text form of a geometry takes
            out[ok] = shapely.to_wkb(shapely.set_srid(geoms, points.srid), hex=True, include_srid=True,
                                     flavor="extended")  # fmt: skip
        else:
            encoded = np.empty(int(ok.sum()), dtype=object)
            encoded[:] = gpkg_encode_many(geoms, points.srid)
            out[ok] = encoded
    return out.tolist()


def _values(value: Any, n: int, dialect: str) -> list[Any]:
    """One column as a list of *n* driver values."""
    if isinstance(value, Points):
        return _geometries(value, dialect)
    if isinstance(value, datetime):
        return [db_time(value, dialect)] * n
    if value is None or isinstance(value, str | bool | int | float):
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        return [value] * n
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise ValueError(f"a column has shape {arr.shape}, expected ({n},)")
    if arr.dtype.kind == "f":
        out = arr.astype(object)
        out[~np.isfinite(arr)] = None
        return out.tolist()
    if arr.dtype.kind == "O":
        values = arr.tolist()
        first = next((v for v in values if v is not None), None)
        if isinstance(first, datetime):  # a column of datetimes (with NULLs)
            return [None if v is None else db_time(v, dialect) for v in values]
        return values
    return arr.tolist()  # ints, bools, str: plain Python values


def _length(columns: Mapping[str, Any]) -> int:
    for value in columns.values():
        if isinstance(value, Points):
            return len(value.x)
        if isinstance(value, np.ndarray | list | tuple):
            return len(value)
    raise ValueError("give at least one column as an array")


def _rows(columns: Mapping[str, Any], dialect: str) -> list[tuple]:
    n = _length(columns)
    return list(zip(*(_values(v, n, dialect) for v in columns.values()), strict=True))


def _copy(conn: Connection, table: str, names: Sequence[str], rows: Sequence[tuple]) -> None:
    """``COPY table (names) FROM STDIN`` on the connection's psycopg cursor; driver errors are raised
    as SQLAlchemy's (``IntegrityError``, ...), as for statements run through SQLAlchemy."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
    finally:
        cursor.close()


def bulk_insert(conn: Connection, table: str, columns: Mapping[str, Any]) -> int:
    """Insert one row per array element of *columns* (name -> array, scalar or :class:`Points`).

    Returns the number of rows inserted. Constraint violations raise as the driver reports them
    (SQLAlchemy errors when the caller translates them).
    """
    if not columns:
        return 0
    names = list(columns)
    dialect = conn.dialect.name
    rows = _rows(columns, dialect)
    for chunk in chunks(rows, ROWS_PER_BULK):
        if dialect == "postgresql":
            _copy(conn, table, names, chunk)
        else:
            marks = ", ".join(["?"] * len(names))
            conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", list(chunk))
    return len(rows)


def bulk_update(conn: Connection, table: str, key: str, columns: Mapping[str, Any]) -> int:
    """Set *columns* of the rows whose *key* column equals ``columns[key]`` (one row per element).

    Keys that match no row change nothing. Returns the number of values given.
    """
    names = [k for k in columns if k != key]
    if not names:
        return 0
    dialect = conn.dialect.name
    rows = _rows({**{k: columns[k] for k in names}, key: columns[key]}, dialect)
    if dialect == "postgresql":
        temp = f"_tiepoint_update_{table}"
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp}")
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "
            f"SELECT {', '.join([*names, key])} FROM {table} WITH NO DATA"
        )
        for chunk in chunks(rows, ROWS_PER_BULK):
            _copy(conn, temp, [*names, key], chunk)
        sets = ", ".join(f"{n} = u.{n}" for n in names)
        conn.exec_driver_sql(f"UPDATE {table} AS t SET {sets} FROM {temp} AS u WHERE t.{key} = u.{key}")
        conn.exec_driver_sql(f"DROP TABLE {temp}")
    else:
        sets = ", ".join(f"{n} = ?" for n in names)
        for chunk in chunks(rows, ROWS_PER_BULK):
            conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {key} = ?", list(chunk))
    return len(rows)


def fetch_columns(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> list[np.ndarray]:
    """The columns of a query's result as numpy arrays (object arrays for text and NULL-able ints)."""
    from sqlalchemy import text

    result = conn.execute(text(sql), dict(params or {}))
    rows = result.all()
    n = len(result.keys())
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(n)]
    return [np.array(col, dtype=object) for col in zip(*rows, strict=True)]


def _filled(column: np.ndarray, fill: Any) -> np.ndarray:
    col = np.array(column, dtype=object).reshape(-1)
    col[np.equal(col, None)] = fill
    return col


def floats(column: np.ndarray) -> np.ndarray:
    """A fetched column as float64, NULL as NaN."""
    return _filled(column, np.nan).astype(np.float64)


def ints(column: np.ndarray, missing: int = -1) -> np.ndarray:
    """A fetched column as int64, NULL as *missing*."""
    return _filled(column, missing).astype(np.int64)


def bools(column: np.ndarray) -> np.ndarray:
    """A fetched boolean column (0/1 on SQLite), NULL as False."""
    return _filled(column, False).astype(bool)


__all__ = ["Points", "bools", "bulk_insert", "bulk_update", "db_time", "fetch_columns", "floats", "ints"]
