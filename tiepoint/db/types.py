"""Column types that behave the same on SQLite (GeoPackage) and PostgreSQL (PostGIS).

- :class:`UTCDateTime`: timezone-aware UTC datetimes in and out (``timestamptz`` on PostgreSQL,
  GeoPackage ``DATETIME`` text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` on SQLite).
- :class:`MultiPolygonType`: shapely MultiPolygons in and out (Polygons are promoted). SQLite stores
  GeoPackage binary blobs; PostgreSQL a PostGIS ``geometry(MultiPolygon[Z], srid)`` column.
- :class:`PointType`: shapely Points in and out (control points' lon/lat), stored the same ways as a
  ``POINT`` / ``geometry(Point, srid)`` column; :func:`encode_points` makes many bind values at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import TypeDecorator, UserDefinedType

from tiepoint.db.geometry import gpkg_decode, gpkg_encode, gpkg_encode_many, to_multipolygon

_GPKG_DATETIME = sqlite.DATETIME(
    storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06dZ",
    regexp=r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)(?:\.(\d+))?Z?",
)


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_GPKG_DATETIME)
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: use timezone-aware UTC, e.g. datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _PostGISGeometry(UserDefinedType):
    """PostGIS ``geometry(<type>, <srid>)`` DDL; values travel as EWKB bytes."""

    cache_ok = True

    def __init__(self, geometry_type: str, srid: int | None) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **kw: Any) -> str:
        if self.srid is None:
            return f"geometry({self.geometry_type})"
        return f"geometry({self.geometry_type},{int(self.srid)})"


class _GpkgGeometry(UserDefinedType):
    """SQLite column declared with a GeoPackage geometry type name (e.g. ``MULTIPOLYGON``)."""

    cache_ok = True

    def __init__(self, geometry_type: str) -> None:
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw: Any) -> str:
        return self.geometry_type


class geom_in(GenericFunction):  # noqa: N801  (SQL function naming)
    """Wraps a geometry bind value: ``ST_GeomFromEWKB`` on PostgreSQL, the raw blob on SQLite."""

    type = LargeBinary()
    inherit_cache = True


class geom_out(GenericFunction):  # noqa: N801
    """Wraps a geometry column in results: ``ST_AsEWKB`` on PostgreSQL, the raw blob on SQLite."""

    type = LargeBinary()
    inherit_cache = True


@compiles(geom_in)
def _geom_in_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(geom_in, "postgresql")
def _geom_in_pg(element, compiler, **kw):
    return f"ST_GeomFromEWKB({compiler.process(element.clauses, **kw)})"


@compiles(geom_out)
def _geom_out_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(geom_out, "postgresql")
def _geom_out_pg(element, compiler, **kw):
    return f"ST_AsEWKB({compiler.process(element.clauses, **kw)})"


class MultiPolygonType(TypeDecorator):
    """A MultiPolygon geometry column (shapely in and out).

    Parameters
    ----------
    srid : int, optional
        The SRID/srs_id written with values whose shapely SRID is 0, and the PostGIS column's SRID
        (DDL); None leaves the PostGIS column without an SRID constraint.
    has_z : bool
        MultiPolygonZ (body-fixed footprints) instead of MultiPolygon.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, srid: int | None = None, has_z: bool = False) -> None:
        super().__init__()
        self.srid = srid
        self.has_z = has_z

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            kind = "MultiPolygonZ" if self.has_z else "MultiPolygon"
            return dialect.type_descriptor(_PostGISGeometry(kind, self.srid))
        # GeoPackage: a feature table's geometry column is declared with its geometry type name;
        # the Z footprint is not a registered GeoPackage geometry column (one per table), so BLOB.
        return dialect.type_descriptor(LargeBinary() if self.has_z else _GpkgGeometry("MULTIPOLYGON"))

    def bind_expression(self, bindvalue):
        return geom_in(bindvalue, type_=self)

    def column_expression(self, col):
        return geom_out(col, type_=self)

    def _srid(self, geom: BaseGeometry) -> int:
        srid = int(shapely.get_srid(geom))
        return srid if srid > 0 else int(self.srid or 0)

    def process_bind_param(self, value: BaseGeometry | bytes | None, dialect) -> bytes | None:
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return None if value is None else bytes(value)
        geom = to_multipolygon(value)
        srid = self._srid(value)
        if dialect.name == "postgresql":
            if srid:
                geom = shapely.set_srid(geom, srid)
            return shapely.to_wkb(geom, include_srid=bool(srid), flavor="extended")
        return gpkg_encode(geom, srid)

    def process_result_value(self, value: bytes | None, dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.from_wkb(bytes(value))
        return gpkg_decode(value)


def encode_multipolygons(geoms: np.ndarray, srid: int, dialect: str) -> list[bytes]:
    """Bind values of many non-empty MultiPolygons for a :class:`MultiPolygonType` column, vectorized.

    The same bytes :meth:`MultiPolygonType.process_bind_param` makes one at a time (which passes
    bytes through): GeoPackage blobs on SQLite, EWKB with *srid* on PostgreSQL.
    """
    geoms = np.asarray(geoms, dtype=object)
    if dialect == "postgresql":
        return shapely.to_wkb(shapely.set_srid(geoms, srid), include_srid=True, flavor="extended").tolist()
    return gpkg_encode_many(geoms, srid)


class PointType(TypeDecorator):
    """A 2-D Point geometry column (shapely in and out), e.g. a control point's lon/lat.

    Parameters
    ----------
    srid : int, optional
        As for :class:`MultiPolygonType`.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, srid: int | None = None) -> None:
        super().__init__()
        self.srid = srid

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry("Point", self.srid))
        return dialect.type_descriptor(_GpkgGeometry("POINT"))

    def bind_expression(self, bindvalue):
        return geom_in(bindvalue, type_=self)

    def column_expression(self, col):
        return geom_out(col, type_=self)

    def process_bind_param(self, value: BaseGeometry | bytes | None, dialect) -> bytes | None:
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return None if value is None else bytes(value)
        if value.geom_type != "Point":
            raise ValueError(f"expected a Point, got {value.geom_type}")
        srid = int(shapely.get_srid(value)) or int(self.srid or 0)
        return encode_points(np.array([value], dtype=object), srid, dialect.name)[0]

    def process_result_value(self, value: bytes | None, dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.from_wkb(bytes(value))
        return gpkg_decode(value)


def encode_points(points: np.ndarray, srid: int, dialect: str) -> list[bytes]:
    """Bind values of many non-empty Points for a :class:`PointType` column, vectorized.

    GeoPackage blobs (with their XY envelope) on SQLite, EWKB with *srid* on PostgreSQL.
    """
    points = np.asarray(points, dtype=object)
    if dialect == "postgresql":
        return shapely.to_wkb(shapely.set_srid(points, srid), include_srid=True, flavor="extended").tolist()
    return gpkg_encode_many(points, srid)
