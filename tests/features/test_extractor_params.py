"""Extractor parameters are checked (type and range, per plug-in) at config load and extractor creation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from feature_images import texture

from tiepoint.config import load_config
from tiepoint.errors import ConfigError, FeatureError
from tiepoint.features import extract
from tiepoint.features.extractors import EXTRACTORS, load_extractor
from tiepoint.features.extractors.akaze import available as akaze_available

BAD = [
    ("sift", "nfeatures", -5),
    ("sift", "nfeatures", 2.5),
    ("sift", "nfeatures", "100"),
    ("sift", "sigma", 0.0),
    ("sift", "sigma", float("nan")),
    ("sift", "edgeThreshold", float("inf")),
    ("sift", "descriptor_type", "float64"),
    ("sift", "enable_precise_upscale", "no"),
    ("orb", "nfeatures", 0),
    ("orb", "scaleFactor", 1.0),
    ("orb", "WTA_K", 5),
    ("orb", "nlevels", True),
    ("orb", "fastThreshold", 300),
    ("akaze", "descriptor_channels", 4),
    ("akaze", "descriptor_channels", 1),  # OpenCV's AKAZE corrupts memory with 1 or 2 channels
    ("akaze", "threshold", -0.001),
    ("akaze", "max_points", -2),
    ("akaze", "descriptor_size", 487),
]


@pytest.mark.parametrize(("extractor", "key", "value"), BAD, ids=[f"{e}-{k}-{v!r}" for e, k, v in BAD])
def test_bad_parameter_is_named_at_config_load(extractor, key, value):
    with pytest.raises(ConfigError) as err:
        load_config({"features": {"extractor": extractor, "params": {key: value}}})
    message = str(err.value)
    assert "features.params" in message and f"{key} = {value!r}" in message and extractor in message


@pytest.mark.parametrize(("extractor", "key", "value"), BAD, ids=[f"{e}-{k}-{v!r}" for e, k, v in BAD])
def test_bad_parameter_is_named_at_extractor_creation(extractor, key, value):
    if extractor == "akaze" and not akaze_available():
        pytest.skip("no AKAZE in this OpenCV build")
    with pytest.raises(FeatureError, match=f"invalid {extractor} parameters: {key} = "):
        load_extractor(extractor, {key: value})


GOOD = [
    ("sift", {"nfeatures": 0, "contrastThreshold": 0.0, "descriptor_type": "float32", "nOctaveLayers": 1}),
    ("sift", {"edgeThreshold": 5, "sigma": 2}),  # ints where floats are expected are fine
    ("orb", {"nfeatures": 1, "WTA_K": 4, "scoreType": "fast", "fastThreshold": 255, "edgeThreshold": 0}),
    ("akaze", {"descriptor_channels": 3, "max_points": 0, "descriptor_size": 486}),
    ("akaze", {"descriptor_size": 8, "nOctaves": 1, "nOctaveLayers": 1}),
]


@pytest.mark.parametrize(("extractor", "params"), GOOD, ids=[f"{e}-{i}" for i, (e, _) in enumerate(GOOD)])
def test_accepted_parameters_are_accepted_by_opencv(extractor, params):
    """The ranges are not stricter than OpenCV: values at their edges build a working detector."""
    if extractor == "akaze" and not akaze_available():
        pytest.skip("no AKAZE in this OpenCV build")
    config = load_config({"features": {"extractor": extractor, "params": params}}).features
    try:
        kps = extract(texture((160, 160)), config)
    except cv2.error as exc:  # pragma: no cover - what the test guards against
        pytest.fail(f"OpenCV refused accepted parameters {params}: {exc}")
    assert kps.params == {**load_extractor(extractor).params, **params}
    assert np.all(np.isfinite(kps.x))


@pytest.mark.parametrize("name", EXTRACTORS)
def test_defaults_pass_their_own_check(name):
    if name == "akaze" and not akaze_available():
        pytest.skip("no AKAZE in this OpenCV build")
    extractor = load_extractor(name)
    assert extractor.params == type(extractor).default_conf == type(extractor).Params().model_dump()
