"""The body CRS written to the spatial reference tables: official IAU only where it is the same shape."""

from __future__ import annotations

import pyproj

from tiepoint.config import BodyConfig
from tiepoint.db import Database

SPHERE = BodyConfig(name="Mars", semimajor=3396190.0, semiminor=3396190.0, srid=49900)
ELLIPSOID = BodyConfig(srid=49900)  # b = 3376200 m under the code of the IAU 49900 sphere


def _srs_row(db: Database, srid: int) -> tuple[str, str]:
    if db.dialect == "postgresql":
        sql = "SELECT auth_name, srtext FROM spatial_ref_sys WHERE srid = :s"
    else:
        sql = "SELECT organization, definition FROM gpkg_spatial_ref_sys WHERE srs_id = :s"
    return tuple(db.execute_sql(sql, {"s": srid})[0])


def test_official_iau_definition_when_it_matches(db_url: str) -> None:
    with Database(db_url, body=SPHERE) as db:
        org, wkt = _srs_row(db, 49900)
    crs = pyproj.CRS.from_wkt(wkt)
    assert org == "IAU_2015"
    assert crs.ellipsoid.semi_major_metre == crs.ellipsoid.semi_minor_metre == 3396190.0
    assert "Sphere" in crs.name


def test_configured_radii_win_without_claiming_the_code(db_url: str) -> None:
    with Database(db_url, body=ELLIPSOID) as db:
        org, wkt = _srs_row(db, 49900)
    crs = pyproj.CRS.from_wkt(wkt)
    assert org == "tiepoint"
    assert crs.is_geographic
    assert crs.ellipsoid.semi_major_metre == 3396190.0
    assert abs(crs.ellipsoid.semi_minor_metre - 3376200.0) < 1e-6


def test_default_body_is_the_official_planetocentric_mars_ellipsoid(db_url: str) -> None:
    body = BodyConfig()
    with Database(db_url, body=body) as db:
        org, wkt = _srs_row(db, body.srid)
    crs = pyproj.CRS.from_wkt(wkt)
    assert org == "IAU_2015"
    assert crs.equals(pyproj.CRS.from_authority("IAU_2015", body.srid))
    assert (crs.ellipsoid.semi_major_metre, crs.ellipsoid.semi_minor_metre) == (3396190.0, 3376200.0)
    assert "planetocentric" in crs.coordinate_system.axis_list[0].name.lower()
