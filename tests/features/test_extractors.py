"""Extractor plug-ins: loading by name, parameters, and each method really detecting."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.config import FeaturesConfig
from tiepoint.errors import FeatureError
from tiepoint.features import EXTRACTORS, confs, extract, load_extractor
from tiepoint.features.extractors import akaze


def test_unknown_extractor_and_parameter_are_named() -> None:
    with pytest.raises(FeatureError, match="unknown extractor 'surf'"):
        load_extractor("surf")
    with pytest.raises(FeatureError, match=r"unknown sift parameter\(s\) \['nfeature'\]"):
        load_extractor("sift", {"nfeature": 10})
    with pytest.raises(FeatureError, match="invalid orb parameters"):
        load_extractor("orb", {"scoreType": "best"})


@pytest.mark.parametrize("name", ["sift", "orb"])
def test_extractor_finds_and_describes(name: str, textured: np.ndarray) -> None:
    extractor = load_extractor(name)
    kps = extract(textured, FeaturesConfig(extractor=name))
    assert len(kps) > 100
    assert kps.extractor == name and kps.params == extractor.params
    assert kps.descriptors.shape == (len(kps), extractor.descriptor_size)
    assert kps.descriptors.dtype == np.uint8
    assert kps.descriptors.any(axis=1).all()  # real descriptors, not zero rows
    lines, samples = textured.shape
    assert (kps.x >= 0).all() and (kps.x <= samples - 1).all()
    assert (kps.y >= 0).all() and (kps.y <= lines - 1).all()


def test_nfeatures_caps_the_count_keeping_the_strongest(textured: np.ndarray) -> None:
    everything = extract(textured)
    capped = extract(textured, {"params": {"nfeatures": 50}})
    assert len(everything) > 50 >= len(capped) >= 45  # OpenCV keeps ties at the cut
    assert capped.response.min() >= np.sort(everything.response)[::-1][60]


def test_sift_float_descriptors(textured: np.ndarray) -> None:
    kps = extract(textured, {"params": {"descriptor_type": "float32"}})
    as_uint8 = extract(textured)
    assert kps.descriptors.dtype == np.float32
    np.testing.assert_array_equal(kps.descriptors, as_uint8.descriptors.astype(np.float32))


def test_akaze_runs(textured: np.ndarray) -> None:
    assert akaze.available(), "the project pins an OpenCV with AKAZE (opencv-python-headless < 5)"
    kps = extract(textured, FeaturesConfig(extractor="akaze"))
    assert len(kps) > 10 and kps.descriptors.dtype == np.uint8


def test_named_confs_are_valid() -> None:
    assert set(EXTRACTORS) <= set(confs)
    for name, conf in confs.items():
        load_extractor(conf["extractor"], conf["params"])
        assert FeaturesConfig.model_validate(conf).extractor == conf["extractor"], name
    with pytest.raises(FeatureError, match="unknown feature configuration"):
        extract(np.zeros((10, 10)), "nope")
