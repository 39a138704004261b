"""JSON state round trips, pickling, USGSCSM model states, and camera discovery for images."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import tiepoint.camera as cam
from tiepoint.camera.usgscsm_state import from_usgscsm_state
from tiepoint.errors import CameraError

DATA = Path(__file__).parent / "data"
CTX_NAME = "B10_013615_2178_XI_37N117W.crop.json"


@pytest.fixture(scope="module")
def models(ctx_isd_dir):
    return [cam.from_isd(ctx_isd_dir / CTX_NAME), cam.from_isd(DATA / "simpleFramerISD.json")]


def _probe(model):
    rng = np.random.default_rng(3)
    lines = rng.uniform(0, model.image_lines, 200)
    samples = rng.uniform(0, model.image_samples, 200)
    g = model.image_to_ground(lines, samples, 250.0)
    return g, model.ground_to_image(np.nan_to_num(g)), model.sun_position(lines)


@pytest.mark.parametrize("index", [0, 1])
def test_json_state_round_trip_identical(models, index):
    model = models[index]
    text = model.to_state()
    json.loads(text)  # plain JSON for the database
    again = cam.from_state(text)
    assert type(again) is type(model) and again.model_name == model.model_name
    for a, b in zip(_probe(model), _probe(again), strict=True):
        np.testing.assert_array_equal(a, b)
    assert again.to_state() == text


def test_pickle_round_trip(models):
    for model in models:
        again = pickle.loads(pickle.dumps(model))
        for a, b in zip(_probe(model), _probe(again), strict=True):
            np.testing.assert_array_equal(a, b)


def test_usgscsm_state_matches_usgscsm_reference_point():
    state = json.loads((DATA / "hirise_usgscsm_state_decimated.json").read_text())
    model = from_usgscsm_state(state)
    centre = model.image_to_ground(state["m_nLines"] / 2.0, state["m_nSamples"] / 2.0)[0]
    np.testing.assert_allclose(centre, state["m_referencePointXyz"], atol=1e-4, rtol=0)
    lines, samples = np.meshgrid(np.linspace(0, 40000, 7), np.linspace(0, 20000, 7))
    back = model.ground_to_image(model.image_to_ground(lines, samples))
    np.testing.assert_allclose(back[0], lines.ravel(), atol=1e-3)
    np.testing.assert_allclose(back[1], samples.ravel(), atol=1e-3)


def test_usgscsm_state_adjusted_rejected():
    state = json.loads((DATA / "hirise_usgscsm_state_decimated.json").read_text())
    state["m_currentParameterValue"][0] = 5.0
    with pytest.raises(CameraError, match="not supported: adjusted"):
        from_usgscsm_state(state)


def test_find_camera_sidecar(tmp_path, ctx_isd_dir):
    shutil.copy(ctx_isd_dir / CTX_NAME, tmp_path / "a.crop.json")
    (tmp_path / "a.crop.cub").write_bytes(b"")
    model = cam.find_camera(tmp_path / "a.crop.cub")
    ref = cam.from_isd(ctx_isd_dir / CTX_NAME)
    np.testing.assert_array_equal(model.image_to_ground(10, 20), ref.image_to_ground(10, 20))


def test_find_camera_malformed_sidecar_names_file(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"name_model": "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"}))
    (tmp_path / "x.cub").write_bytes(b"")
    with pytest.raises(CameraError) as err:
        cam.find_camera(tmp_path / "x.cub")
    assert "x.json" in str(err.value) and "missing key" in str(err.value)


def test_find_camera_nothing(tmp_path, cube_dir):
    with pytest.raises(CameraError, match=r"image not found.*nope\.json"):
        cam.find_camera(tmp_path / "nope.cub")
    cube = tmp_path / "HiRISE.cub"
    shutil.copy(cube_dir / "HiRISE_no_change_before.cub", cube)
    with pytest.raises(CameraError) as err:
        cam.find_camera(cube)
    assert "HiRISE.json" in str(err.value) and "CSMState" in str(err.value) and str(cube) in str(err.value)


@pytest.mark.parametrize("kind", ["isd", "usgscsm", "tiepoint"])
def test_find_camera_csmstate_blob(tmp_path, ctx_isd_dir, kind):
    from tiepoint.io.isis_writer import write_cube

    if kind == "isd":
        blob = (ctx_isd_dir / CTX_NAME).read_text()
        ref = cam.from_isd(ctx_isd_dir / CTX_NAME)
    elif kind == "usgscsm":
        state = json.loads((DATA / "hirise_usgscsm_state_decimated.json").read_text())
        blob = "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL\n" + json.dumps(state)
        ref = from_usgscsm_state(state)
    else:
        ref = cam.from_isd(DATA / "simpleFramerISD.json")
        blob = ref.to_state()
    path = write_cube(tmp_path / "img.cub", np.zeros((8, 8), np.int16), csm_state=blob)
    model = cam.find_camera(path)
    assert model.source == str(path)  # errors about this camera name the cube
    lines, samples = [1.0, ref.image_lines / 2], [2.0, ref.image_samples / 2]
    np.testing.assert_array_equal(model.image_to_ground(lines, samples), ref.image_to_ground(lines, samples))


def test_model_remembers_its_isd_file(ctx_isd_dir):
    path = ctx_isd_dir / CTX_NAME
    assert cam.from_isd(path).source == str(path)
    assert cam.from_isd(json.loads(path.read_text())).source is None
