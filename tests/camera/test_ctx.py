"""The line-scan model on the real CTX ISDs: round trips and an independent sub-spacecraft check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

import tiepoint.camera as cam

_SHARED = Path(os.environ.get("TIEPOINT_SHARED", Path(__file__).resolve().parents[3] / "shared"))
CTX = sorted((_SHARED / "data" / "isd" / "ctx").glob("*.json"))


@pytest.fixture(scope="module", params=[p.name for p in CTX] or ["missing"])
def ctx(request, ctx_isd_dir):
    path = ctx_isd_dir / request.param
    return path, cam.from_isd(path)


def test_model_attributes(ctx):
    path, model = ctx
    isd = json.loads(path.read_text())
    assert model.model_name == "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"
    assert (model.image_lines, model.image_samples) == (isd["image_lines"], isd["image_samples"])
    assert model.semimajor == pytest.approx(isd["radii"]["semimajor"] * 1000)
    assert model.center_time == isd["center_ephemeris_time"]


def test_round_trip_grid_whole_image(ctx):
    _, model = ctx
    lines, samples = np.meshgrid(
        np.linspace(0, model.image_lines, 25), np.linspace(0, model.image_samples, 25), indexing="ij"
    )
    for height in (0.0, 1500.0, -2000.0):
        ground = model.image_to_ground(lines, samples, height)
        assert np.all(np.isfinite(ground))
        back_l, back_s = model.ground_to_image(ground)
        np.testing.assert_allclose(back_l, lines.ravel(), atol=1e-3, rtol=0)
        np.testing.assert_allclose(back_s, samples.ravel(), atol=1e-3, rtol=0)


def test_ground_lies_at_requested_height(ctx):
    _, model = ctx
    ground = model.image_to_ground([10.0, 500.0], [20.0, 700.0], 0.0)
    # On the ellipsoid: (x^2+y^2)/a^2 + z^2/b^2 == 1
    a, b = model.semimajor, model.semiminor
    q = (ground[:, 0] ** 2 + ground[:, 1] ** 2) / a**2 + ground[:, 2] ** 2 / b**2
    np.testing.assert_allclose(q, 1.0, atol=1e-12)


def _subspacecraft_latlon(isd: dict) -> tuple[float, float]:
    """Independent of tiepoint: scipy rotations (scalar-last) of the J2000 position at centre time."""
    t = isd["center_ephemeris_time"]
    ip = isd["instrument_position"]
    pos = np.array([np.interp(t, ip["ephemeris_times"], np.array(ip["positions"])[:, k]) for k in range(3)])
    br = isd["body_rotation"]
    q = np.array(br["quaternions"])  # (w, x, y, z) in the ISD
    rots = Rotation.from_quat(q[:, [1, 2, 3, 0]])
    body = Slerp(br["ephemeris_times"], rots)([t])[0].apply(pos)
    lat = np.degrees(np.arctan2(body[2], np.hypot(body[0], body[1])))
    lon = np.degrees(np.arctan2(body[1], body[0])) % 360
    return lat, lon


def test_image_centre_near_subspacecraft_point(ctx):
    path, model = ctx
    isd = json.loads(path.read_text())
    lat0, lon0 = _subspacecraft_latlon(isd)
    centre = model.image_to_ground(model.image_lines / 2, model.image_samples / 2)
    lat, lon = cam.latlon(centre, model.semimajor, model.semiminor)
    assert abs(lat[0] - lat0) < 2.0
    assert abs((lon[0] - lon0 + 180) % 360 - 180) < 2.0


def test_sensor_position_matches_isd_path(ctx):
    path, model = ctx
    isd = json.loads(path.read_text())
    # Sensor-to-ground distance is the orbital altitude seen along the look vector.
    pos = model.sensor_position(model.image_lines / 2, model.image_samples / 2)
    look = model.look_direction(model.image_lines / 2, model.image_samples / 2)
    ground = model.image_to_ground(model.image_lines / 2, model.image_samples / 2)
    np.testing.assert_allclose(np.linalg.norm(look, axis=1), 1.0)
    along = (ground - pos) / np.linalg.norm(ground - pos, axis=1, keepdims=True)
    np.testing.assert_allclose(along, look, atol=1e-9)
    radius = np.linalg.norm(np.array(isd["instrument_position"]["positions"]), axis=1) * 1000
    assert radius.min() - 1000 < np.linalg.norm(pos) < radius.max() + 1000


def test_sun_position_far_and_stable(ctx):
    _, model = ctx
    sun = model.sun_position([0.0, model.image_lines])
    dist = np.linalg.norm(sun, axis=1)
    assert np.all(dist > 1.5e11)  # Mars-Sun distance > 1 AU
    cosang = np.dot(sun[0], sun[1]) / (dist[0] * dist[1])
    assert cosang > np.cos(np.radians(0.5))  # the body turns ~0.004 deg/s during the exposure


def test_per_point_heights_equal_scalar_calls(ctx):
    _, model = ctx
    lines = np.array([10.0, 400.0, 900.0])
    samples = np.array([30.0, 500.0, 999.0])
    heights = np.array([-3000.0, 0.0, 5000.0])
    together = model.image_to_ground(lines, samples, heights)
    for i in range(3):
        np.testing.assert_array_equal(together[i], model.image_to_ground(lines[i], samples[i], heights[i])[0])
    # Higher ground is met earlier along the same ray, by about the height difference / cos(emission)
    pos = model.sensor_position(lines, samples)
    low = model.image_to_ground(lines, samples, 0.0)
    assert np.all(np.linalg.norm(together[2] - pos[2]) < np.linalg.norm(low[2] - pos[2]))


def test_frame_model_on_ctx_geometry(ctx):
    # The same ephemeris read as a framing camera (a single exposure at the centre time): consistent.
    path, _ = ctx
    isd = json.loads(path.read_text())
    isd["name_model"] = "USGS_ASTRO_FRAME_SENSOR_MODEL"
    isd["detector_center"]["line"] = isd["image_lines"] / 2.0
    frame = cam.from_isd(isd)
    assert isinstance(frame, cam.FrameModel)
    lines, samples = np.meshgrid(np.linspace(0, 1000, 11), np.linspace(0, 1000, 11))
    g = frame.image_to_ground(lines, samples)
    back = frame.ground_to_image(g)
    np.testing.assert_allclose(back[0], lines.ravel(), atol=1e-6)
    np.testing.assert_allclose(back[1], samples.ravel(), atol=1e-6)
    pos = frame.sensor_position(lines, samples)
    assert np.ptp(pos, axis=0).max() == 0.0  # one exposure, one position


def test_isd_without_velocities(ctx_isd_dir):
    # ALE falls back from cubic Hermite to Lagrange when an ISD has no velocities: close to the same orbit.
    isd = json.loads((ctx_isd_dir / "G02_019154_1800_XN_00N133W.crop.json").read_text())
    ref = cam.from_isd(isd)
    del isd["instrument_position"]["velocities"], isd["sun_position"]["velocities"]
    model = cam.from_isd(isd)
    lines, samples = np.meshgrid(np.linspace(0, 1000, 5), np.linspace(0, 1000, 5))
    diff = np.linalg.norm(model.image_to_ground(lines, samples) - ref.image_to_ground(lines, samples), axis=1)
    assert 0 < diff.max() < 5.0  # metres, for 6 m pixels
