"""Ring -> lon/lat polygon rules (meridian split, pole closure), ellipsoid area, xyz rings: no camera."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from tiepoint.footprint import ellipsoid_area
from tiepoint.footprint.coords import planetocentric_to_geodetic, to_domain, xyz_to_lonlat
from tiepoint.footprint.polygon import lonlat_polygon, rewrap, unwrap_ring, xyz_polygon

R = 3396190.0


def circle(lon0: float, lat0: float, radius_deg: float, n: int = 720) -> tuple[np.ndarray, np.ndarray]:
    """A small circle on the unit sphere (exact spherical geometry), as lon/lat in [0, 360)."""
    phi, lam = np.radians(lat0), np.radians(lon0)
    centre = np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    helper = np.array([0.0, 0.0, 1.0]) if abs(centre[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(centre, helper)
    u /= np.linalg.norm(u)
    v = np.cross(centre, u)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.radians(radius_deg)
    pts = np.cos(r) * centre + np.sin(r) * (np.cos(a)[:, None] * u + np.sin(a)[:, None] * v)
    return xyz_to_lonlat(pts)


def cap_area(radius_deg: float) -> float:
    return 2 * np.pi * R**2 * (1 - np.cos(np.radians(radius_deg)))


def test_ring_crossing_meridian_splits_in_360_and_not_in_180() -> None:
    lon, lat = circle(0.0, 10.0, 2.0)
    split = lonlat_polygon(lon, lat, 360)
    assert isinstance(split, MultiPolygon) and split.is_valid and len(split.geoms) == 2
    west_part, east_part = sorted(split.geoms, key=lambda p: p.bounds[0])
    assert west_part.bounds[0] == pytest.approx(0.0, abs=1e-9)
    assert east_part.bounds[2] == pytest.approx(360.0, abs=1e-9)
    whole = lonlat_polygon(to_domain(lon, 180), lat, 180)
    assert isinstance(whole, Polygon) and whole.is_valid
    assert whole.bounds[0] < 0 < whole.bounds[2]
    # the two are the same region: shifting the east part by -360 rebuilds the 180-domain polygon
    rebuilt = shapely.union_all([west_part, shapely.affinity.translate(east_part, -360.0)], grid_size=1e-9)
    assert rebuilt.symmetric_difference(whole).area < 1e-9 * whole.area
    area = cap_area(2.0)
    assert ellipsoid_area(split, R, R) == pytest.approx(area, rel=1e-3)
    assert ellipsoid_area(whole, R, R) == pytest.approx(area, rel=1e-3)


def test_ring_crossing_180_splits_in_180_domain() -> None:
    lon, lat = circle(180.0, -30.0, 1.0)
    assert isinstance(lonlat_polygon(lon, lat, 360), Polygon)
    split = lonlat_polygon(to_domain(lon, 180), lat, 180)
    assert isinstance(split, MultiPolygon) and len(split.geoms) == 2
    assert split.bounds[0] == pytest.approx(-180.0) and split.bounds[2] == pytest.approx(180.0)


@pytest.mark.parametrize("pole", [90.0, -90.0])
@pytest.mark.parametrize("reverse", [False, True])
def test_ring_around_a_pole_is_closed_over_the_pole(pole: float, reverse: bool) -> None:
    lon, lat = circle(123.0, pole, 5.0)  # a cap of 5 degrees about the pole
    if reverse:
        lon, lat = lon[::-1], lat[::-1]
    _, winding = unwrap_ring(lon, lat)
    assert abs(winding) == pytest.approx(360.0)
    for domain in (360, 180):
        poly = lonlat_polygon(to_domain(lon, domain), lat, domain)
        assert isinstance(poly, Polygon) and poly.is_valid
        west = 0.0 if domain == 360 else -180.0
        assert poly.bounds[0] == pytest.approx(west) and poly.bounds[2] == pytest.approx(west + 360.0)
        probe_lon = np.linspace(west + 0.5, west + 359.5, 50)
        assert shapely.contains_xy(poly, probe_lon, np.full(50, np.sign(pole) * 88.0)).all()
        assert not shapely.contains_xy(poly, probe_lon, np.full(50, np.sign(pole) * 83.0)).any()
        assert ellipsoid_area(poly, R, R) == pytest.approx(cap_area(5.0), rel=1e-3)
        assert poly.exterior.is_ccw


def test_cap_not_containing_the_pole_is_not_closed() -> None:
    lon, lat = circle(180.0, 84.0, 5.0)  # passes within 1 degree of the pole, spans ~113 degrees
    poly = lonlat_polygon(lon, lat, 360)
    assert isinstance(poly, Polygon) and poly.is_valid
    assert poly.bounds[3] < 90.0
    assert ellipsoid_area(poly, R, R) == pytest.approx(cap_area(5.0), rel=1e-3)


def test_self_intersecting_ring_is_made_valid() -> None:
    lon = np.array([10.0, 12.0, 10.0, 12.0])
    lat = np.array([0.0, 2.0, 2.0, 0.0])  # a bow tie
    poly = lonlat_polygon(lon, lat, 360)
    assert poly.is_valid and poly.area == pytest.approx(2.0)


def test_rewrap_merges_parts_split_at_the_old_domain_edge() -> None:
    parts = MultiPolygon([box(0.0, -1.0, 1.0, 1.0), box(359.0, -1.0, 360.0, 1.0)])
    merged = rewrap(parts, 180)
    assert isinstance(merged, Polygon) and merged.equals(box(-1.0, -1.0, 1.0, 1.0))
    assert rewrap(merged, 360).equals(parts)


def test_ellipsoid_area_of_a_latitude_band_matches_the_closed_form() -> None:
    a, b = 3396190.0, 3376200.0
    band = shapely.segmentize(box(0.0, 10.0, 360.0, 20.0), 0.05)
    e2 = 1 - (b / a) ** 2
    e = np.sqrt(e2)

    def q(lat_geodetic: float) -> float:  # authalic function (Snyder 1987, eq. 3-12)
        s = np.sin(np.radians(lat_geodetic))
        return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))

    lat1, lat2 = planetocentric_to_geodetic(np.array([10.0, 20.0]), a, b)
    expected = np.pi * a**2 * (q(lat2) - q(lat1))
    assert ellipsoid_area(band, a, b) == pytest.approx(expected, rel=1e-4)


def test_xyz_polygon_winds_counter_clockwise_seen_from_outside() -> None:
    lon, lat = circle(200.0, -40.0, 3.0, n=64)
    pts = R * np.column_stack(
        [
            np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
            np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
            np.sin(np.radians(lat)),
        ]
    )
    for ring in (pts, pts[::-1]):
        poly = xyz_polygon(ring)
        assert poly.has_z
        coords = np.asarray(poly.exterior.coords)[:-1]
        centre = coords.mean(axis=0)
        normal = np.cross(coords[0] - centre, coords[len(coords) // 4] - centre)
        assert normal.dot(centre) > 0
