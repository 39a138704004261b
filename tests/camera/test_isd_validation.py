"""Hostile ISDs: every failure is a CameraError naming the file and the key, never a bare exception
deep from numpy, and a camera never silently carries a NaN/inf essential number."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import tiepoint.camera as cam
from tiepoint.camera import find_camera, from_usgscsm_state
from tiepoint.errors import CameraError
from tiepoint.io.isis_writer import write_cube

DATA = Path(__file__).parent / "data"
CTX = "G02_019154_1800_XN_00N133W.crop.json"
HOSTILE = [float("nan"), float("inf"), float("-inf"), "x", True, None, [], {}, [[1, 2], [3]], 10**400]


@pytest.fixture(scope="module")
def ctx_isd(ctx_isd_dir) -> dict:
    return json.loads((ctx_isd_dir / CTX).read_text())


@pytest.fixture(scope="module")
def frame_isd() -> dict:
    return json.loads((DATA / "simpleFramerISD.json").read_text())


def _write(tmp_path: Path, isd: dict, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(isd))  # json writes NaN / Infinity literals, as a careless tool would
    return path


def _leaves(node, prefix=()):
    """Dotted paths (with list indices) to the values of an ISD: each key, and the first entries of lists."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _leaves(value, (*prefix, key))
    elif isinstance(node, list) and node:
        for i in range(min(len(node), 3)):
            yield (*prefix, i)
            if isinstance(node[i], list | dict):
                yield from _leaves(node[i], (*prefix, i))
                break


def _replaced(isd: dict, where: tuple, value) -> dict:
    out = copy.deepcopy(isd)
    node = out
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return out


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["NaN", "inf", "-inf"])
def test_non_finite_focal_length_is_named(tmp_path, ctx_isd, value):
    path = _write(tmp_path, _replaced(ctx_isd, ("focal_length_model", "focal_length"), value))
    assert "focal_length" in path.read_text()
    with pytest.raises(CameraError) as err:
        cam.from_isd(path)
    word = "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    assert f"invalid ISD: focal_length_model.focal_length is {word}" in str(err.value)
    assert err.value.path == str(path)


@pytest.mark.parametrize("value", [0.0, -352.9])
def test_non_positive_focal_length_is_refused(tmp_path, ctx_isd, value):
    path = _write(tmp_path, _replaced(ctx_isd, ("focal_length_model", "focal_length"), value))
    with pytest.raises(CameraError, match=r"invalid ISD: focal_length_model\.focal_length must be positive"):
        cam.from_isd(path)


@pytest.mark.parametrize("which", ["ctx", "frame"])
def test_hostile_values_anywhere_raise_camera_errors_or_change_nothing(tmp_path, ctx_isd, frame_isd, which):
    """Replace each value of a real ISD in turn by a hostile one. from_isd must raise a CameraError naming
    the file, or build a model; a model built despite a NaN/inf must give the reference model's ground
    points (the value was one the model does not use), never NaN from a poisoned number."""
    isd = ctx_isd if which == "ctx" else frame_isd
    ref = cam.from_isd(isd)
    lines = np.array([0.5, ref.image_lines / 2, ref.image_lines - 0.5])
    samples = np.array([0.5, ref.image_samples / 2, ref.image_samples - 0.5])
    expected = ref.image_to_ground(lines, samples)
    path = tmp_path / "hostile.json"
    unexpected = []
    for where in dict.fromkeys(_leaves(isd)):
        for value in HOSTILE:
            try:
                text = json.dumps(_replaced(isd, where, value))
            except (ValueError, OverflowError):
                continue
            path.write_text(text)
            try:
                model = cam.from_isd(path)
            except CameraError as err:
                if err.path != str(path):
                    unexpected.append((where, value, f"error does not name the file: {err}"))
                continue
            except Exception as err:
                unexpected.append((where, value, f"{type(err).__name__}: {err}"))
                continue
            if isinstance(value, float) and not math.isfinite(value):
                got = model.image_to_ground(lines, samples)
                if not np.array_equal(got, expected, equal_nan=True):
                    unexpected.append((where, value, "accepted and changed the camera"))
    assert not unexpected, unexpected[:10]


def test_usgscsm_state_hostile_values(tmp_path):
    state = json.loads((DATA / "hirise_usgscsm_state_decimated.json").read_text())
    unexpected = []
    for key in state:
        for value in HOSTILE:
            try:
                from_usgscsm_state(_replaced(state, (key,), value), "state.json")
            except CameraError as err:
                if err.path != "state.json":
                    unexpected.append((key, value, str(err)))
            except Exception as err:
                unexpected.append((key, value, f"{type(err).__name__}: {err}"))
    assert not unexpected, unexpected[:10]


def test_image_size_must_be_a_positive_whole_number(tmp_path, ctx_isd):
    for value, says in [(1.5, "positive whole number, got 1.5"), (0, "got 0"), (float("inf"), "is inf")]:
        with pytest.raises(CameraError, match=f"image_lines.*{says}"):
            cam.from_isd(_write(tmp_path, _replaced(ctx_isd, ("image_lines",), value)))


def test_isd_file_that_is_not_an_isd(tmp_path):
    random_bytes = tmp_path / "random.json"
    random_bytes.write_bytes(np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CameraError, match=r"not JSON text.*not UTF-8") as err:
        cam.from_isd(random_bytes)
    assert err.value.path == str(random_bytes)

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CameraError, match="nests arrays/objects too deeply") as err:
        cam.from_isd(deep)
    assert err.value.path == str(deep)

    array = _write(tmp_path, [1, 2, 3], "array.json")  # type: ignore[arg-type]
    with pytest.raises(CameraError, match=r"not a JSON object.*JSON array"):
        cam.from_isd(array)


def test_wrong_types_are_named(tmp_path, ctx_isd):
    with pytest.raises(CameraError, match="'name_model' is a JSON array, not a string"):
        cam.from_isd(_write(tmp_path, dict(ctx_isd, name_model=["USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"])))
    with pytest.raises(CameraError, match="ISD key 'radii' is a JSON number, not an object"):
        cam.from_isd(_write(tmp_path, dict(ctx_isd, radii=3396.19)))
    with pytest.raises(CameraError, match=r"detector_center\.line' is not a number: True"):
        cam.from_isd(_write(tmp_path, _replaced(ctx_isd, ("detector_center", "line"), True)))


def test_camera_state_that_is_malformed(ctx_isd):
    state = json.loads(cam.from_isd(ctx_isd).to_state())
    del state["state"]["positions"]
    with pytest.raises(CameraError, match=r"malformed .* camera state"):
        cam.from_state(state)


# -- does the camera describe the image? -------------------------------------------------------------


def test_find_camera_checks_the_image_size(tmp_path, ctx_isd_dir):
    image = tmp_path / "a.crop.cub"
    image.write_bytes(b"")
    sidecar = tmp_path / "a.crop.json"
    sidecar.write_text((ctx_isd_dir / CTX).read_text())
    size = json.loads(sidecar.read_text())
    lines, samples = size["image_lines"], size["image_samples"]
    assert find_camera(image, shape=(lines, samples)).image_lines == lines  # its own size: fine
    assert find_camera(image).image_lines == lines  # no size given: not checked
    with pytest.raises(CameraError) as err:
        find_camera(image, shape=(300, 301))
    message = str(err.value)
    assert err.value.path == str(image) and str(sidecar) in message
    assert f"{lines} lines x {samples} samples" in message and "300 lines x 301 samples" in message


def test_size_check_of_a_csmstate_blob_names_the_blob(tmp_path):
    ref = cam.from_isd(DATA / "simpleFramerISD.json")
    path = write_cube(tmp_path / "img.cub", np.zeros((8, 9), np.int16), csm_state=ref.to_state())
    with pytest.raises(
        CameraError, match=r"CSMState blob describes an image of 15 lines x 15 samples.*8 lines x 9"
    ):
        find_camera(path, shape=(8, 9))
    cam.check_image_size(find_camera(path), (15, 15), path)  # the camera's own size passes


def test_sidecar_that_is_not_a_file_says_what_it_is(tmp_path):
    image = write_cube(tmp_path / "x.cub", np.zeros((8, 8), np.int16))
    (tmp_path / "x.json").mkdir()
    with pytest.raises(CameraError, match=r"x\.json beside the image is a directory, not an ISD file") as err:
        find_camera(image)
    assert err.value.path == str(image) and "CSMState" in str(err.value)
    (tmp_path / "x.json").rmdir()
    os.symlink(tmp_path / "gone.json", tmp_path / "x.json")
    with pytest.raises(CameraError, match=r"x\.json beside the image is a broken symbolic link"):
        find_camera(image)


def test_sidecar_that_is_not_a_file_beside_a_csmstate_blob_is_a_warning(tmp_path, caplog):
    ref = cam.from_isd(DATA / "simpleFramerISD.json")
    image = write_cube(tmp_path / "y.cub", np.zeros((15, 15), np.int16), csm_state=ref.to_state())
    (tmp_path / "y.json").mkdir()
    with caplog.at_level("WARNING", logger="tiepoint.camera.discovery"):
        model = find_camera(image, shape=(15, 15))
    assert model.source == str(image)
    assert (
        "y.json beside the image is a directory, not an ISD file; using the camera of its CSMState blob"
        in (caplog.text)
    )
