"""Degenerate images record zero keypoints cleanly."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.config import FeaturesConfig
from tiepoint.features import extract, read_keypoints, write_keypoints


@pytest.mark.parametrize(
    "data",
    [
        np.ma.MaskedArray(np.ones((64, 64)), mask=np.ones((64, 64), bool)),  # all no-data
        np.full((64, 64), np.nan),  # all NaN
        np.ones((1, 1)),  # 1 x 1
        np.arange(7.0).reshape(7, 1),  # one sample wide
        np.full((200, 200), 42.0),  # no texture
        np.zeros((0, 0)),  # empty
    ],
    ids=["no-data", "nan", "1x1", "1-wide", "flat", "empty"],
)
@pytest.mark.parametrize("extractor", ["sift", "orb"])
def test_zero_keypoints_recorded(data: np.ndarray, extractor: str, tmp_path) -> None:
    kps = extract(
        data, FeaturesConfig(extractor=extractor, tile_threshold=100, tile_size=128, tile_overlap=16)
    )
    assert len(kps) == 0
    path = write_keypoints(tmp_path / "k.h5", kps, image_path=tmp_path / "a.cub", content_hash="0")
    back, ground, attrs = read_keypoints(path)
    assert len(back) == 0 and attrs["count"] == 0 and ground is None
    assert back.descriptors.shape == kps.descriptors.shape and back.descriptors.shape[0] == 0


def test_tiny_valid_island_in_no_data() -> None:
    data = np.ma.MaskedArray(np.random.default_rng(0).normal(size=(100, 100)), mask=True)
    data.mask[50:53, 50:53] = False  # too small to survive the edge margin
    assert len(extract(data)) == 0
