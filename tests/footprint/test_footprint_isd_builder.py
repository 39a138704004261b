"""The synthetic ISD builders: the keys ALE/USGSCSM read, and the geometry they describe."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fp_checks import lonlat

from tiepoint.camera import from_isd
from tiepoint.errors import CameraError
from tiepoint.synthetic.isd import frame_isd, linescan_isd, surface_point

A, B = 3396190.0, 3376200.0

# keys ALE's Util.cpp reads for USGSCSM's frame / line-scan constructStateFromIsd
COMMON_KEYS = [
    "name_model", "image_identifier", "name_sensor", "name_platform", "image_lines", "image_samples",
    "center_ephemeris_time", "starting_ephemeris_time", "detector_sample_summing", "detector_line_summing",
    "focal_length_model.focal_length", "focal2pixel_lines", "focal2pixel_samples", "detector_center.line",
    "detector_center.sample", "starting_detector_line", "starting_detector_sample",
    "reference_height.minheight", "reference_height.maxheight", "radii.semimajor", "radii.semiminor",
    "optical_distortion", "instrument_position.positions", "instrument_position.ephemeris_times",
    "instrument_position.reference_frame", "sun_position.positions", "sun_position.ephemeris_times",
    "sun_position.reference_frame", "instrument_pointing.quaternions", "instrument_pointing.ephemeris_times",
    "instrument_pointing.angular_velocities", "body_rotation.quaternions", "body_rotation.ephemeris_times",
    "body_rotation.angular_velocities",
]  # fmt: skip


def lookup(isd: dict, key: str):
    value = isd
    for part in key.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize("build", [frame_isd, linescan_isd])
def test_isd_has_the_keys_usgscsm_reads(build) -> None:
    isd = json.loads(json.dumps(build(12.0, 34.0, 250e3)))  # JSON-serializable as is
    for key in COMMON_KEYS:
        lookup(isd, key)
    for group in ("instrument_pointing", "body_rotation"):
        # ALE requires constant_rotation when time_dependent_frames is given
        assert len(isd[group]["constant_rotation"]) == 9
        q = np.asarray(isd[group]["quaternions"])
        assert np.allclose(np.linalg.norm(q, axis=1), 1.0)
        assert len(q) == len(isd[group]["ephemeris_times"]) == len(isd[group]["angular_velocities"])
    assert isd["radii"]["unit"] == "km" and isd["radii"]["semimajor"] == pytest.approx(A / 1000)
    if build is linescan_isd:
        assert isd["name_model"] == "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"
        assert len(isd["line_scan_rate"][0]) == 3
    else:
        assert isd["name_model"] == "USGS_ASTRO_FRAME_SENSOR_MODEL"


@pytest.mark.parametrize("build", [frame_isd, linescan_isd])
def test_nadir_view_centre_orientation_and_pixel_size(build) -> None:
    lat, lon, altitude = -35.0, 250.0, 400e3
    cam = from_isd(build(lat, lon, altitude, lines=400, samples=600))
    assert (cam.image_lines, cam.image_samples) == (400, 600)
    assert (cam.semimajor, cam.semiminor) == (A, B)
    centre = np.asarray(cam.image_to_ground([200.0], [300.0]))
    assert np.allclose(centre[0], surface_point(lat, lon, A, B), atol=1e-3)
    pts = np.asarray(cam.image_to_ground([200.0, 201.0, 200.0], [300.0, 300.0, 301.0]))
    plon, plat = lonlat(pts)
    assert plat[1] > plat[0] and plon[2] > plon[0]  # lines run north, samples east
    gsd = altitude * 0.01 / 50.0
    assert np.linalg.norm(pts[1] - pts[0]) == pytest.approx(gsd, rel=0.02)
    assert np.linalg.norm(pts[2] - pts[0]) == pytest.approx(gsd, rel=0.02)


def test_frame_look_at_and_off_nadir() -> None:
    cam = from_isd(frame_isd(0.0, 0.0, 500e3, look_at=(1.0, 2.0)))
    assert np.allclose(
        np.asarray(cam.image_to_ground([256.0], [256.0]))[0], surface_point(1.0, 2.0, A, B), atol=1e-3
    )
    cam = from_isd(frame_isd(20.0, 40.0, 500e3, off_nadir=10.0, azimuth=90.0))
    look = np.asarray(cam.look_direction([256.0], [256.0]))[0]
    position = np.asarray(cam.sensor_position([256.0], [256.0]))[0]
    ground = surface_point(20.0, 40.0, A, B)
    normal = ground / np.array([A**2, A**2, B**2])
    nadir = -normal / np.linalg.norm(normal)
    assert np.degrees(np.arccos(look.dot(nadir) / np.linalg.norm(look))) == pytest.approx(10.0, abs=1e-6)
    assert np.linalg.norm(position - ground) == pytest.approx(500e3, rel=1e-9)
    hit_lon, _ = lonlat(np.asarray(cam.image_to_ground([256.0], [256.0])))
    assert hit_lon[0] > 40.0  # tilted east


def test_linescan_heading_and_roll() -> None:
    cam = from_isd(linescan_isd(0.0, 10.0, 300e3, heading=90.0))
    pts = np.asarray(cam.image_to_ground([0.5, 511.5], [256.0, 256.0]))
    lon, lat = lonlat(pts)
    assert lon[1] > lon[0] and abs(lat[1] - lat[0]) < 1e-6  # flying east along the equator
    rolled = from_isd(linescan_isd(0.0, 10.0, 300e3, roll=5.0))
    lon_r, _ = lonlat(np.asarray(rolled.image_to_ground([256.0], [256.0])))
    assert lon_r[0] > 10.0  # rolled to the right of a northbound track: east


@pytest.mark.parametrize("bad", [{"altitude": -1.0}, {"lines": 0}, {"pixel_pitch": float("nan")}])
def test_invalid_builder_input_raises_camera_error(bad: dict) -> None:
    kwargs = {"altitude": 300e3, **bad}
    with pytest.raises(CameraError, match=next(iter(bad))):
        frame_isd(0.0, 0.0, **kwargs)
    with pytest.raises(CameraError, match=next(iter(bad))):
        linescan_isd(0.0, 0.0, **kwargs)
