"""The SQLite backend writes a valid GeoPackage 1.3 (checked against the spec's tables and bytes,
pyproj for the CRS, and GDAL's ogrinfo / validator where they are installed)."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from dbtest_records import make_record, random_quads
from shapely.geometry import box

from tiepoint.config import BodyConfig
from tiepoint.db import Database

# Spec (OGC 12-128r18) table definitions: column name -> declared type.
SPEC_COLUMNS = {
    "gpkg_spatial_ref_sys": {
        "srs_name": "TEXT",
        "srs_id": "INTEGER",
        "organization": "TEXT",
        "organization_coordsys_id": "INTEGER",
        "definition": "TEXT",
        "description": "TEXT",
    },
    "gpkg_contents": {
        "table_name": "TEXT",
        "data_type": "TEXT",
        "identifier": "TEXT",
        "description": "TEXT",
        "last_change": "DATETIME",
        "min_x": "DOUBLE",
        "min_y": "DOUBLE",
        "max_x": "DOUBLE",
        "max_y": "DOUBLE",
        "srs_id": "INTEGER",
    },
    "gpkg_geometry_columns": {
        "table_name": "TEXT",
        "column_name": "TEXT",
        "geometry_type_name": "TEXT",
        "srs_id": "INTEGER",
        "z": "TINYINT",
        "m": "TINYINT",
    },
    "gpkg_extensions": {
        "table_name": "TEXT",
        "column_name": "TEXT",
        "extension_name": "TEXT",
        "definition": "TEXT",
        "scope": "TEXT",
    },
}
RTREE = "rtree_images_footprint"
LAYERS = {"images": "footprint", "pairs": "overlap"}
"""The feature tables (QGIS layers) and their geometry columns."""


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "layer.gpkg"
    with Database(f"sqlite:///{path}") as db:
        quads = random_quads(12, seed=5, span=6.0)
        db.write_images([make_record(f"/data/q{i:02d}.cub", q) for i, q in enumerate(quads)])
        db.update_overlaps()
        db.write_image(make_record("/data/q03.cub", box(250, 40, 251, 41)), force=True)  # moves in the index
        db.write_image(make_record("/data/q12.cub", quads[3]))  # takes q03's old neighbours
        assert db.delete_image("/data/q04.cub")
        db.update_overlaps()
        assert db.execute_sql("SELECT count(*) FROM pairs")[0][0] > 5
    return path


SRID = BodyConfig().srid


def _footprints(conn: sqlite3.Connection, table: str = "images") -> dict[int, bytes]:
    return dict(conn.execute(f"SELECT id, {LAYERS[table]} FROM {table}"))


def test_header_tables_and_crs(gpkg: Path) -> None:
    conn = sqlite3.connect(gpkg)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"GPKG", "big")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 10300
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for table, columns in SPEC_COLUMNS.items():
        info = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}
        assert info == columns, table
    srs = {
        row[0]: row[1:]
        for row in conn.execute("SELECT srs_id, organization, definition FROM gpkg_spatial_ref_sys")
    }
    assert {-1, 0, 4326, SRID} <= set(srs)
    crs = pyproj.CRS.from_wkt(srs[SRID][1])
    assert crs.equals(pyproj.CRS.from_authority("IAU_2015", SRID))  # planetocentric lat, lon east
    assert crs.ellipsoid.semi_major_metre == 3396190.0
    assert crs.ellipsoid.semi_minor_metre == pytest.approx(3376200.0, abs=1e-6)
    assert pyproj.CRS.from_wkt(srs[4326][1]).equals(pyproj.CRS.from_epsg(4326))

    assert sorted(conn.execute("SELECT * FROM gpkg_geometry_columns").fetchall()) == [
        ("images", "footprint", "MULTIPOLYGON", SRID, 0, 0),
        ("pairs", "overlap", "MULTIPOLYGON", SRID, 0, 0),
        ("points", "geom", "POINT", SRID, 0, 0),  # the control points (tests/db/test_db_network.py)
    ]
    triggers = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table, column in LAYERS.items():
        assert conn.execute(
            "SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchone() == ("features", SRID)
        declared = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}
        assert declared[column] == "MULTIPOLYGON"
        pk = [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[5]]
        assert pk == ["id"] and declared["id"] == "INTEGER"
        assert conn.execute(
            "SELECT scope FROM gpkg_extensions WHERE table_name = ? AND column_name = ? "
            "AND extension_name = 'gpkg_rtree_index'",
            (table, column),
        ).fetchone() == ("write-only",)
        rtree = f"rtree_{table}_{column}"
        assert {
            f"{rtree}_{s}" for s in ("insert", "update1", "update2", "update3", "update4", "delete")
        } <= triggers

        # the layer extent covers every geometry
        geoms = [shapely.from_wkb(blob[40:]) for blob in _footprints(conn, table).values()]
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        ext = conn.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchone()
        assert ext[0] <= minx and ext[1] <= miny and ext[2] >= maxx and ext[3] >= maxy


@pytest.mark.parametrize("table", sorted(LAYERS))
def test_geometry_blobs_follow_the_spec(gpkg: Path, table: str) -> None:
    conn = sqlite3.connect(gpkg)
    for blob in _footprints(conn, table).values():
        magic, version, flags, srs_id = struct.unpack("<2sBBi", blob[:8])
        assert (magic, version, srs_id) == (b"GP", 0, SRID)
        assert flags & 1 == 1  # little-endian header
        assert (flags >> 1) & 0b111 == 1  # envelope [minx, maxx, miny, maxy]
        assert not flags & 0b110000  # not empty, standard (not extended) geometry
        minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
        geom = shapely.from_wkb(blob[40:])
        assert geom.geom_type == "MultiPolygon"
        assert (minx, miny, maxx, maxy) == geom.bounds
        assert blob[40] == 1 and struct.unpack("<I", blob[41:45])[0] == 6  # LE WKB, wkbMultiPolygon


@pytest.mark.parametrize("table", sorted(LAYERS))
def test_rtree_matches_footprints(gpkg: Path, table: str) -> None:
    conn = sqlite3.connect(gpkg)
    footprints = _footprints(conn, table)
    rtree_table = f"rtree_{table}_{LAYERS[table]}"
    rtree = {row[0]: row[1:] for row in conn.execute(f"SELECT id, minx, maxx, miny, maxy FROM {rtree_table}")}
    assert set(rtree) == set(footprints)
    for fid, blob in footprints.items():
        x0, y0, x1, y1 = shapely.from_wkb(blob[40:]).bounds
        rminx, rmaxx, rminy, rmaxy = rtree[fid]
        # the R-tree keeps 32-bit floats rounded outwards
        assert rminx <= x0 and rminy <= y0 and rmaxx >= x1 and rmaxy >= y1
        assert max(x0 - rminx, y0 - rminy, rmaxx - x1, rmaxy - y1) < 1e-4


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed (gdal-bin)")
@pytest.mark.parametrize("table", sorted(LAYERS))
def test_gdal_reads_the_layer(gpkg: Path, table: str) -> None:
    summary = subprocess.run(["ogrinfo", "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True)
    out = summary.stdout + summary.stderr
    assert "using driver `GPKG' successful" in out
    assert "Warning" not in out and "ERROR" not in out
    layer = out[out.index(f"Layer name: {table}") :]
    layer = layer[: layer.find("Layer name:", 1)] if "Layer name:" in layer[1:] else layer
    assert "Geometry: Multi Polygon" in layer
    assert f"Feature Count: {len(_footprints(sqlite3.connect(gpkg), table))}" in layer
    assert "3396190" in layer  # the Mars CRS

    conn = sqlite3.connect(gpkg)
    fid, blob = next(iter(_footprints(conn, table).items()))
    feature = subprocess.run(
        ["ogrinfo", "-q", "-al", "-fid", str(fid), str(gpkg), table],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wkt = feature[feature.index("MULTIPOLYGON") :].splitlines()[0]
    assert shapely.equals_exact(
        shapely.from_wkt(wkt), shapely.from_wkb(blob[40:]), tolerance=1e-9
    )  # 15 digits
    spatial = subprocess.run(
        ["ogrinfo", "-q", str(gpkg), "-sql", f"SELECT HasSpatialIndex('{table}', '{LAYERS[table]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "= 1" in spatial


VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


@pytest.mark.skipif(not VALIDATOR.exists(), reason="GDAL's validate_gpkg.py is not installed (python3-gdal)")
def test_gdal_validator_accepts_the_file(gpkg: Path) -> None:
    result = subprocess.run(["/usr/bin/python3", str(VALIDATOR), str(gpkg)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vectorized_encoding_equals_one_at_a_time() -> None:
    from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Polygon

    from tiepoint.db.geometry import gpkg_encode, gpkg_encode_many, polygonal, polygonal_many

    quads = random_quads(20, seed=1)
    multi = [MultiPolygon([q, box(300, 0, 301, 1)]) for q in quads[:5]]
    geoms = np.array([*quads, *multi], dtype=object)
    assert gpkg_encode_many(geoms, SRID) == [gpkg_encode(g, SRID) for g in geoms]
    assert gpkg_encode_many(np.array([], dtype=object), SRID) == []
    with pytest.raises(ValueError, match="non-empty"):
        gpkg_encode_many(np.array([Polygon()], dtype=object), SRID)
    mixed = np.array(
        [*quads[:3], multi[0], Polygon(), GeometryCollection([quads[4], LineString([(0, 0), (1, 1)])])],
        dtype=object,
    )
    got = polygonal_many(mixed)
    want = [polygonal(g) for g in mixed]
    assert all(isinstance(g, MultiPolygon) for g in got)
    assert [g.wkb for g in got] == [g.wkb for g in want]
