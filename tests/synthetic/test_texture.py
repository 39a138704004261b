"""The ground texture: a function of position only, shading consistent with its own topography."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.synthetic.texture import GroundTexture, TextureParams

R = 3396190.0


def patch(lat: float, lon: float, size: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n x n grid of body-fixed points (m) over ``size`` metres around lat/lon, with east/north."""
    phi, lam = np.radians(lat), np.radians(lon)
    up = np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    east = np.array([-np.sin(lam), np.cos(lam), 0.0])
    north = np.cross(up, east)
    s = np.linspace(-size / 2, size / 2, n)
    yy, xx = np.meshgrid(s, s, indexing="ij")
    p = R * up + xx[..., None] * east + yy[..., None] * north
    return R * p / np.linalg.norm(p, axis=-1, keepdims=True), east, north


def sun_from(east: np.ndarray, north: np.ndarray, azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector toward a sun at the azimuth (from north, through east) and elevation."""
    up = np.cross(east, north)
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.cos(el) * (np.sin(az) * east + np.cos(az) * north) + np.sin(el) * up


def test_texture_is_a_function_of_position_only():
    tex = GroundTexture(R)
    xyz, east, north = patch(-0.3, 226.7, 3000.0, 80)
    pts = xyz.reshape(-1, 3)
    sun = sun_from(east, north, 270.0, 40.0)
    whole = tex.shade(pts, sun, pixel_size=6.0)
    order = np.random.default_rng(1).permutation(len(pts))
    parts = np.concatenate([tex.shade(pts[order[k::3]], sun, pixel_size=6.0) for k in range(3)])
    again = np.empty_like(whole)
    again[np.concatenate([order[k::3] for k in range(3)])] = parts
    np.testing.assert_array_equal(whole, again)
    other = GroundTexture(R, TextureParams(seed=7)).shade(pts, sun, pixel_size=6.0)
    assert np.mean(np.abs(other - whole)) > 0.1 * np.std(whole)
    assert np.std(whole) > 0.1 * np.mean(whole)  # there is texture, not a flat field


def test_craters_cover_the_sizes_ctx_needs():
    tex = GroundTexture(R)
    xyz, _, _ = patch(35.0, 242.5, 6000.0, 1000)  # a CTX-like 1000 x 1000 crop at 6 m/pixel
    h = tex.height(xyz.reshape(-1, 3), pixel_size=6.0).reshape(xyz.shape[:2])
    bowls = h < 0
    from scipy import ndimage

    labels, n = ndimage.label(bowls)
    areas = np.bincount(labels.ravel())[1:] * 36.0  # m^2
    diam = 2 * np.sqrt(areas / np.pi)
    assert n > 300  # many craters in a crop
    assert diam.min() < 40 and diam.max() > 300  # small and large ones


def test_lambert_term_matches_the_slope_of_the_height_field():
    tex = GroundTexture(R, TextureParams(crater_levels=(120.0, 480.0)))
    n, size = 301, 600.0
    xyz, east, north = patch(10.0, 20.0, size, n)
    sun = sun_from(east, north, 250.0, 55.0)
    _, lambert, _ = tex.lighting(xyz.reshape(-1, 3), sun)
    h = tex.height(xyz.reshape(-1, 3)).reshape(n, n)
    step = size / (n - 1)
    dh_dn, dh_de = np.gradient(h, step)
    up = np.cross(east, north)
    normal = up - dh_de[..., None] * east - dh_dn[..., None] * north
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    expected = np.clip(normal @ sun, 0, None)
    core = (slice(2, -2), slice(2, -2))
    err = np.abs(lambert.reshape(n, n)[core] - expected[core])
    assert np.std(expected) > 0.02  # the patch has slopes
    assert np.percentile(err, 99) < 0.02


@pytest.mark.parametrize("azimuth", [270.0, 45.0])
def test_bowl_shadows_match_a_ray_march_of_the_height_field(azimuth):
    params = TextureParams(
        crater_levels=(240.0,), crater_probability=1.0, grids_per_level=1, albedo_amplitudes=(0,) * 6
    )
    tex = GroundTexture(R, params)
    n, size, elev = 181, 1800.0, 15.0  # cells of 960 m: a whole bowl is always in the patch
    xyz, east, north = patch(-20.0, 100.0, size, n)
    pts = xyz.reshape(-1, 3)
    sun = sun_from(east, north, azimuth, elev)
    _, _, shadow = tex.lighting(pts, sun, pixel_size=size / (n - 1))
    h0 = tex.height(pts)
    # march toward the sun along the ground: shadowed if the terrain rises above the ray
    horiz = sun - (sun @ np.cross(east, north)) * np.cross(east, north)
    horiz /= np.linalg.norm(horiz)
    tan_e = np.tan(np.radians(elev))
    blocked = np.zeros(len(pts), dtype=bool)
    for t in np.arange(2.0, 500.0, 2.0):
        q = pts + t * horiz
        q = R * q / np.linalg.norm(q, axis=1, keepdims=True)
        blocked |= tex.height(q) > h0 + t * tan_e + 0.05
    inside = h0 < 0  # bowl floors, where the analytic rim shadow applies
    assert inside.sum() > 300 and blocked[inside].mean() > 0.1
    agree = (shadow[inside] < 0.5) == blocked[inside]
    assert agree.mean() > 0.97
