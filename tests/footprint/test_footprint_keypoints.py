"""Keypoint ground coordinates: round trips through the camera, lat/lon consistency, misses, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiepoint.camera import from_isd
from tiepoint.errors import FootprintError
from tiepoint.footprint import keypoint_ground
from tiepoint.synthetic.isd import linescan_isd


@pytest.fixture(scope="module")
def ctx(ctx_isd_dir: Path):
    return from_isd(ctx_isd_dir / "N12_067021_2177_XN_37N117W.crop.json")


def test_keypoints_round_trip_through_the_camera(ctx) -> None:
    rng = np.random.default_rng(1)
    lines = rng.uniform(0, ctx.image_lines, 2000)
    samples = rng.uniform(0, ctx.image_samples, 2000)
    g = keypoint_ground(ctx, lines, samples)
    assert set(g) == {"x", "y", "z", "lat", "lon"} and all(v.shape == (2000,) for v in g.values())
    xyz = np.column_stack([g["x"], g["y"], g["z"]])
    back_lines, back_samples = ctx.ground_to_image(xyz)
    assert np.allclose(back_lines, lines, atol=1e-2) and np.allclose(back_samples, samples, atol=1e-2)
    on = (g["x"] ** 2 + g["y"] ** 2) / ctx.semimajor**2 + g["z"] ** 2 / ctx.semiminor**2
    assert np.allclose(on, 1.0, atol=1e-9)
    # planetocentric lat / positive-east lon rebuild the direction of each point
    lat, lon = np.radians(g["lat"]), np.radians(g["lon"])
    unit = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    assert np.allclose(unit, xyz / np.linalg.norm(xyz, axis=1, keepdims=True), atol=1e-12)
    assert np.all((g["lon"] >= 0) & (g["lon"] < 360))


def test_height_domain_and_pixel_origin(ctx) -> None:
    lines, samples = np.array([10.0, 500.0, 1790.0]), np.array([20.0, 900.0, 1700.0])
    high = keypoint_ground(ctx, lines, samples, height=250.0, lon_domain=180)
    a, b = ctx.semimajor + 250.0, ctx.semiminor + 250.0
    assert np.allclose((high["x"] ** 2 + high["y"] ** 2) / a**2 + high["z"] ** 2 / b**2, 1.0, atol=1e-9)
    assert np.all(high["lon"] < 0)  # these images lie near 243E = 117W
    centred = keypoint_ground(ctx, lines - 0.5, samples - 0.5, pixel_origin="center")
    csm = keypoint_ground(ctx, lines, samples)
    for key in ("x", "y", "z"):
        assert np.allclose(centred[key], csm[key], rtol=0, atol=1e-6)


def test_rays_missing_the_body_give_nan() -> None:
    cam = from_isd(linescan_isd(0.0, 0.0, 3000e3, roll=31.5, focal_length=20.0))
    g = keypoint_ground(cam, np.full(3, 256.0), np.array([0.0, 256.0, 512.0]))
    hit = np.isfinite(g["x"])
    assert hit[0] and not hit[2]
    assert np.array_equal(np.isfinite(g["lat"]), hit) and np.array_equal(np.isfinite(g["lon"]), hit)


def test_many_keypoints_in_chunks_match_one_call(ctx, monkeypatch) -> None:
    rng = np.random.default_rng(2)
    lines = rng.uniform(0, ctx.image_lines, 5000)
    samples = rng.uniform(0, ctx.image_samples, 5000)
    whole = keypoint_ground(ctx, lines, samples)
    monkeypatch.setattr("tiepoint.footprint.keypoints.CHUNK", 777)
    chunked = keypoint_ground(ctx, lines, samples)
    for key in whole:
        assert np.array_equal(whole[key], chunked[key])


def test_bad_keypoint_input_raises_footprint_error(ctx) -> None:
    with pytest.raises(FootprintError, match="3 keypoint lines but 2 samples"):
        keypoint_ground(ctx, [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(FootprintError, match="numeric"):
        keypoint_ground(ctx, ["a", "b"], [1.0, 2.0])
    with pytest.raises(FootprintError, match="lon_domain"):
        keypoint_ground(ctx, [1.0], [1.0], lon_domain=90)
    with pytest.raises(FootprintError, match="pixel_origin"):
        keypoint_ground(ctx, [1.0], [1.0], pixel_origin="corner")
    empty = keypoint_ground(ctx, [], [])
    assert all(v.shape == (0,) for v in empty.values())
