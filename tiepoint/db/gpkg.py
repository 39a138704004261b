"""GeoPackage plumbing for the SQLite backend (OGC GeoPackage 1.3, OGC 12-128r18).

A tiepoint SQLite file is a valid GeoPackage: ``application_id`` 'GPKG', the ``gpkg_spatial_ref_sys``,
``gpkg_contents``, ``gpkg_geometry_columns`` and ``gpkg_extensions`` tables, GeoPackage binary
geometries, and the ``gpkg_rtree_index`` extension: an R-tree virtual table
``rtree_<table>_<column>`` kept in step by triggers. The triggers call ``ST_IsEmpty``/``ST_MinX``/...
which GDAL (QGIS, ogrinfo) provides itself and :func:`register_functions` provides to tiepoint's
own connections.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from tiepoint.config import BodyConfig
from tiepoint.db.crs import body_crs
from tiepoint.db.geometry import gpkg_envelope, is_empty_blob

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0
RTREE_EXTENSION_URL = "http://www.geopackage.org/spec120/#extension_rtree"  # the URL GDAL writes

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
    'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]'
)


_XY_ENVELOPE_LE = 0b0_0011
"""Flags (low five bits) of a non-empty little-endian blob with an [minx, maxx, miny, maxy] envelope."""


def _envelope_part(index: int):
    offset = 8 + 8 * index

    def func(blob: bytes | None) -> float | None:
        # fast path for the blobs tiepoint (and GDAL) write; the R-tree triggers call this per row
        if (
            blob is not None
            and len(blob) >= 40
            and blob[3] & 0b1_1111 == _XY_ENVELOPE_LE
            and blob[:2] == b"GP"
        ):
            return struct.unpack_from("<d", blob, offset)[0]
        env = gpkg_envelope(blob)
        return None if env is None else env[index]

    return func


def register_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Provide the SQL functions the GeoPackage R-tree triggers call on a sqlite3 connection."""
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        dbapi_connection.create_function(name, 1, _envelope_part(index), deterministic=True)
    dbapi_connection.create_function(
        "ST_IsEmpty", 1, lambda blob: int(is_empty_blob(blob)), deterministic=True
    )


def rtree_name(table: str, column: str) -> str:
    """Name of the GeoPackage R-tree table of *table*.*column*."""
    return f"rtree_{table}_{column}"


def create_core_tables(conn: Connection, body: BodyConfig) -> None:
    """Create the GeoPackage metadata tables with the required CRS rows plus the body's CRS."""
    conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version = {USER_VERSION}")
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"""
    )
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"""
    )
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"""
    )
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
            scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"""
    )
    crs = body_crs(body)
    undefined = "undefined {} coordinate reference system"
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", undefined.format("cartesian")),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", undefined.format("geographic")),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude on the WGS 84 spheroid"),
        (
            crs.name,
            body.srid,
            crs.organization,
            body.srid,
            crs.wkt,
            f"{body.name}: positive-east longitude, planetocentric latitude, degrees",
        ),
    ]
    conn.execute(
        text(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES "
            "(:name, :srs_id, :org, :org_id, :definition, :description)"
        ),
        [
            dict(zip(("name", "srs_id", "org", "org_id", "definition", "description"), row, strict=True))
            for row in rows
        ],
    )


def register_feature_table(
    conn: Connection,
    table: str,
    column: str,
    geometry_type: str,
    srs_id: int,
    pk: str = "id",
    description: str = "tiepoint image footprints",
) -> None:
    """Register *table* as a features layer and give its geometry column a spec-conformant R-tree."""
    conn.execute(
        text(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            "VALUES (:t, 'features', :t, :d, :srs)"
        ),
        {"t": table, "d": description, "srs": srs_id},
    )
    conn.execute(
        text("INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (:t, :c, :g, :srs, 0, 0)"),
        {"t": table, "c": column, "g": geometry_type, "srs": srs_id},
    )
    conn.execute(
        text(
            "INSERT OR REPLACE INTO gpkg_extensions VALUES (:t, :c, 'gpkg_rtree_index', :url, 'write-only')"
        ),
        {"t": table, "c": column, "url": RTREE_EXTENSION_URL},
    )
    rt = rtree_name(table, column)
    g_new, g_old = f"NEW.{column}", f"OLD.{column}"
    nonempty_new = f"({g_new} NOT NULL AND NOT ST_IsEmpty({g_new}))"
    empty_new = f"({g_new} ISNULL OR ST_IsEmpty({g_new}))"
    put_new = (
        f"INSERT OR REPLACE INTO {rt} VALUES (NEW.{pk}, ST_MinX({g_new}), ST_MaxX({g_new}), "
        f"ST_MinY({g_new}), ST_MaxY({g_new}));"
    )
    statements = [
        f"CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy)",
        # The six triggers of the gpkg_rtree_index extension (GeoPackage 1.3, annex F.3). Their
        # INSERT OR REPLACE is overridden by an UPSERT's conflict policy, so tiepoint never UPSERTs
        # into a feature table: it inserts new rows and UPDATEs existing ones.
        f"CREATE TRIGGER {rt}_insert AFTER INSERT ON {table} WHEN {nonempty_new} BEGIN {put_new} END",
        f"CREATE TRIGGER {rt}_update1 AFTER UPDATE OF {column} ON {table} "
        f"WHEN OLD.{pk} = NEW.{pk} AND {nonempty_new} BEGIN {put_new} END",
        f"CREATE TRIGGER {rt}_update2 AFTER UPDATE OF {column} ON {table} "
        f"WHEN OLD.{pk} = NEW.{pk} AND {empty_new} BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; END",
        f"CREATE TRIGGER {rt}_update3 AFTER UPDATE ON {table} "
        f"WHEN OLD.{pk} != NEW.{pk} AND {nonempty_new} "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; {put_new} END",
        f"CREATE TRIGGER {rt}_update4 AFTER UPDATE ON {table} "
        f"WHEN OLD.{pk} != NEW.{pk} AND {empty_new} "
        f"BEGIN DELETE FROM {rt} WHERE id IN (OLD.{pk}, NEW.{pk}); END",
        f"CREATE TRIGGER {rt}_delete AFTER DELETE ON {table} WHEN {g_old} NOT NULL "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; END",
    ]
    for sql in statements:
        conn.exec_driver_sql(sql)


def unregister_feature_table(conn: Connection, table: str, column: str) -> None:
    """Undo :func:`register_feature_table`: drop the R-tree and the metadata rows (not the table)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {rtree_name(table, column)}")
    for meta in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
        conn.execute(text(f"DELETE FROM {meta} WHERE table_name = :t"), {"t": table})


def grow_contents_extent(conn: Connection, table: str, geoms: Sequence[BaseGeometry]) -> None:
    """Extend the ``gpkg_contents`` extent of *table* to cover *geoms* and touch its last_change."""
    if len(geoms) == 0:
        return
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    if not np.isfinite([minx, miny, maxx, maxy]).all():  # all empty
        return
    conn.exec_driver_sql(
        "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?), "
        "max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?), "
        "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
        (minx, minx, miny, miny, maxx, maxx, maxy, maxy, table),
    )


def update_contents_extent(conn: Connection, table: str, column: str) -> None:
    """Refresh ``gpkg_contents``' bounding box and last_change of *table* from its R-tree."""
    rt = rtree_name(table, column)
    conn.exec_driver_sql(
        f"""UPDATE gpkg_contents SET
            (min_x, max_x, min_y, max_y) = (SELECT min(minx), max(maxx), min(miny), max(maxy) FROM {rt}),
            last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
            WHERE table_name = '{table}'"""
    )
