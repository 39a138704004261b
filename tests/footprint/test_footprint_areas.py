"""Vectorized ellipsoid areas against closed forms and the geodesic (pyproj) area of one polygon."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from tiepoint.footprint import ellipsoid_area, ellipsoid_areas

A, B = 3396190.0, 3376200.0  # Mars


def _ellipsoid_surface(a: float, b: float) -> float:
    e = math.sqrt(1 - (b / a) ** 2)
    return 2 * math.pi * a * a * (1 + (1 - e * e) / e * math.atanh(e))


def test_whole_body_and_zones_match_closed_forms() -> None:
    whole, north = ellipsoid_areas([box(0, -90, 360, 90), box(0, 0, 360, 90)], A, B)
    assert whole == pytest.approx(_ellipsoid_surface(A, B), rel=1e-12)
    assert north == pytest.approx(whole / 2, rel=1e-12)
    (sphere,) = ellipsoid_areas([box(0, -90, 360, 90)], A, A)
    assert sphere == pytest.approx(4 * math.pi * A * A, rel=1e-12)
    # a spherical zone between two latitudes: 2 pi R^2 (sin lat1 - sin lat0) * dlon / 360
    (zone,) = ellipsoid_areas([box(20, 10, 50, 40)], A, A)
    assert zone == pytest.approx(
        2 * math.pi * A * A * (math.sin(math.radians(40)) - math.sin(math.radians(10))) * 30 / 360,
        rel=1e-12,
    )


def test_agrees_with_geodesic_area_of_dense_polygons() -> None:
    rng = np.random.default_rng(4)
    geoms = []
    for lon, lat, w, h, ang in zip(
        rng.uniform(0, 360, 40),
        rng.uniform(-80, 80, 40),
        rng.uniform(0.2, 2.0, 40),
        rng.uniform(0.5, 3.0, 40),
        rng.uniform(0, np.pi, 40),
        strict=True,
    ):
        c = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        geoms.append(shapely.segmentize(Polygon(c @ rot.T + [lon, lat]), 0.05))
    with_hole = Polygon(box(100, 5, 103, 8).exterior, [box(101, 6, 102, 7).exterior.coords[::-1]])
    split = MultiPolygon([box(359.0, 2.0, 360.0, 3.0), box(0.0, 2.0, 0.5, 3.0)])
    geoms += [shapely.segmentize(with_hole, 0.05), shapely.segmentize(split, 0.05)]
    got = ellipsoid_areas(geoms, A, B)
    expected = np.array([ellipsoid_area(g, A, B) for g in geoms])
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[-1] == pytest.approx(sum(ellipsoid_areas(list(split.geoms), A, B)), rel=1e-12)


def test_empty_input_and_empty_geometries() -> None:
    assert ellipsoid_areas([], A, B).shape == (0,)
    np.testing.assert_array_equal(ellipsoid_areas([Polygon(), MultiPolygon()], A, B), [0.0, 0.0])
