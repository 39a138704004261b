"""Coordinate helpers against analytic truth and round trips."""

from __future__ import annotations

import numpy as np
import pytest

import tiepoint.camera as cam
from tiepoint.errors import CameraError

A, B = 3396190.0, 3376200.0  # Mars IAU 2015


def test_latlon_axes():
    xyz = np.array([[A, 0, 0], [0, A, 0], [-A, 0, 0], [0, -A, 0], [0, 0, B]])
    lat, lon = cam.latlon(xyz, A, B)
    np.testing.assert_allclose(lat, [0, 0, 0, 0, 90], atol=1e-12)
    np.testing.assert_allclose(lon[:4], [0, 90, 180, 270], atol=1e-12)
    _, lon180 = cam.latlon(xyz, A, B, lon_domain=180)
    np.testing.assert_allclose(lon180[:4], [0, 90, -180, -90], atol=1e-12)


def test_latlon_45_degrees_centric():
    lat, lon = cam.latlon(np.array([[1.0, 1.0, np.sqrt(2.0)]]), A, B)
    assert lat[0] == pytest.approx(45.0) and lon[0] == pytest.approx(45.0)


def test_wrap_longitude():
    np.testing.assert_allclose(cam.wrap_longitude([-1.0, 360.0, 725.0]), [359.0, 0.0, 5.0])
    np.testing.assert_allclose(cam.wrap_longitude([181.0, -180.0, 540.0], 180), [-179.0, -180.0, -180.0])
    with pytest.raises(CameraError, match="lon_domain"):
        cam.wrap_longitude([0.0], 90)


def test_centric_round_trip_with_height():
    rng = np.random.default_rng(1)
    lat = rng.uniform(-89.9, 89.9, 500)
    lon = rng.uniform(0, 360, 500)
    h = rng.uniform(-8000, 20000, 500)
    xyz = cam.latlon_to_xyz(lat, lon, h, A, B)
    lat2, lon2, h2 = cam.xyz_to_latlon_height(xyz, A, B)
    np.testing.assert_allclose(lat2, lat, atol=1e-9)
    np.testing.assert_allclose((lon2 - lon + 180) % 360 - 180, 0, atol=1e-9)
    np.testing.assert_allclose(h2, h, atol=1e-6)


def test_surface_point_on_ellipsoid_and_height_along_normal():
    xyz0 = cam.latlon_to_xyz(30.0, 10.0, 0.0, A, B)
    assert (xyz0[0] ** 2 + xyz0[1] ** 2) / A**2 + xyz0[2] ** 2 / B**2 == pytest.approx(1.0, abs=1e-14)
    # 1 km up along the planetographic normal: the geodetic latitude is the same on the surface and above
    glat, glon, gh = cam.xyz_to_planetographic(xyz0, A, B)
    up = cam.planetographic_to_xyz(glat, glon, 1000.0, A, B)
    assert np.linalg.norm(up - xyz0) == pytest.approx(1000.0, abs=1e-6)
    assert gh == pytest.approx(0.0, abs=1e-6)


def test_graphic_centric_conversion():
    # Analytic: tan(graphic) = (a/b)^2 tan(centric)
    c = np.array([-60.0, -10.0, 0.0, 33.0, 80.0])
    g = cam.centric_to_graphic(c, A, B)
    np.testing.assert_allclose(np.tan(np.radians(g)), (A / B) ** 2 * np.tan(np.radians(c)), rtol=1e-12)
    np.testing.assert_allclose(cam.graphic_to_centric(g, A, B), c, atol=1e-12)
    assert np.all(np.abs(g) >= np.abs(c))
