"""Bad ISDs raise CameraError naming the file and the problem."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import tiepoint.camera as cam
from tiepoint.errors import CameraError, TiepointError


@pytest.fixture(scope="module")
def ctx_isd(ctx_isd_dir) -> dict:
    return json.loads((ctx_isd_dir / "G02_019154_1800_XN_00N133W.crop.json").read_text())


def write(tmp_path, isd, name="bad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(isd))
    return path


def test_missing_file(tmp_path):
    with pytest.raises(CameraError, match="not found") as err:
        cam.from_isd(tmp_path / "nope.json")
    assert err.value.path == str(tmp_path / "nope.json")


def test_not_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(CameraError, match="not valid JSON") as err:
        cam.from_isd(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (("name_model",), "name_model"),
        (("line_scan_rate",), "line_scan_rate"),
        (("instrument_position",), "instrument_position.positions"),
        (("instrument_pointing", "quaternions"), "instrument_pointing.quaternions"),
        (("body_rotation",), "body_rotation.quaternions"),
        (("sun_position",), "sun_position.positions"),
        (("focal_length_model",), "focal_length_model.focal_length"),
        (("detector_center", "sample"), "detector_center.sample"),
        (("radii", "semimajor"), "radii.semimajor"),
        (("optical_distortion",), "optical_distortion"),
        (("image_lines",), "image_lines"),
        (("center_ephemeris_time",), "center_ephemeris_time"),
    ],
)
def test_missing_key_is_named(tmp_path, ctx_isd, remove, named):
    isd = copy.deepcopy(ctx_isd)
    node = isd
    for key in remove[:-1]:
        node = node[key]
    del node[remove[-1]]
    path = write(tmp_path, isd)
    with pytest.raises(CameraError) as err:
        cam.from_isd(path)
    assert f"'{named}'" in str(err.value) and str(path) in str(err.value)


def test_malformed_values(tmp_path, ctx_isd):
    isd = copy.deepcopy(ctx_isd)
    isd["instrument_position"]["positions"] = [[1.0, 2.0]]
    with pytest.raises(CameraError, match=r"instrument_position\.positions.*shape"):
        cam.from_isd(write(tmp_path, isd))
    isd = copy.deepcopy(ctx_isd)
    isd["focal_length_model"]["focal_length"] = "long"
    with pytest.raises(CameraError, match=r"focal_length.*not a number"):
        cam.from_isd(isd)
    isd = copy.deepcopy(ctx_isd)
    isd["body_rotation"]["ephemeris_times"] = isd["body_rotation"]["ephemeris_times"][::-1]
    with pytest.raises(CameraError, match="must increase"):
        cam.from_isd(isd)


def test_unsupported_model_and_distortion(ctx_isd):
    isd = dict(ctx_isd, name_model="USGS_ASTRO_SAR_SENSOR_MODEL")
    with pytest.raises(CameraError, match="not supported: USGS_ASTRO_SAR_SENSOR_MODEL"):
        cam.from_isd(isd)
    isd = dict(ctx_isd, optical_distortion={"cahvor": {"coefficients": [0, 0, 0, 0, 0]}})
    with pytest.raises(CameraError, match="not supported: cahvor"):
        cam.from_isd(isd)


def test_errors_are_tiepoint_errors_and_misses_are_nan(ctx_isd):
    assert issubclass(CameraError, TiepointError)
    model = cam.from_isd(ctx_isd)
    with pytest.raises(CameraError, match="shape"):
        model.ground_to_image(np.zeros((4, 2)))
    # A ray far outside the field of view (sample -1e7) misses the body: NaN, not an exception.
    out = model.image_to_ground([500.0, 500.0], [500.0, -1e7])
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1]))


def test_bad_state():
    with pytest.raises(CameraError, match="camera state"):
        cam.from_state("{}")
    with pytest.raises(CameraError, match="not supported"):
        cam.from_state(json.dumps({"model_name": "X", "state": {}}))
