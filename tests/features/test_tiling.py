"""Tiled extraction: cores partition the image; tiled == whole at seams, one copy of each keypoint."""

from __future__ import annotations

import numpy as np
import pytest
from feature_images import texture
from scipy.spatial import cKDTree

from tiepoint.config import FeaturesConfig
from tiepoint.features import ArrayImage, extract
from tiepoint.features.tiling import ALIGN, tile_grid

TILED = FeaturesConfig(tile_threshold=1000, tile_size=256, tile_overlap=64)
WHOLE = FeaturesConfig(tile_threshold=10**12)


@pytest.mark.parametrize("shape", [(700, 900), (256, 257), (1000, 300), (100, 100)])
def test_cores_partition_the_image(shape: tuple[int, int]) -> None:
    owners = np.zeros(shape, int)
    tiles = tile_grid(shape, 256, 64, margin=20)
    for tile in tiles:
        (l0, l1), (s0, s1) = tile.window
        (c0, c1), (d0, d1) = tile.core
        assert l0 % ALIGN == 0 and s0 % ALIGN == 0 and l1 - l0 <= 256 and s1 - s0 <= 256
        # a core stays >= margin away from every inner tile edge
        assert c0 == 0 or c0 - l0 >= 20
        assert c1 == shape[0] or l1 - c1 >= 20
        assert d0 == 0 or d0 - s0 >= 20
        assert d1 == shape[1] or s1 - d1 >= 20
        lines, samples = np.mgrid[: shape[0], : shape[1]]
        owners += tile.owns(samples.astype(float), lines.astype(float))
    assert (owners == 1).all()
    # positions exactly on a pixel boundary (x.5) belong to one tile too
    xs = np.arange(-0.5, shape[1] - 0.5, 0.5)
    count = sum(t.owns(xs, np.zeros_like(xs)).astype(int) for t in tiles)
    assert (count == 1).all()


def _match(a, b, tol: float = 1e-3) -> np.ndarray:
    """For each keypoint of ``a``, how many of ``b`` share its position (tol px), size and angle."""
    tree = cKDTree(np.c_[b.x, b.y])
    hits = tree.query_ball_point(np.c_[a.x, a.y], tol)
    return np.array(
        [sum(abs(b.angle[j] - a.angle[i]) < 1e-2 and abs(b.size[j] - a.size[i]) < 1e-2 for j in h)
         for i, h in enumerate(hits)]
    )  # fmt: skip


def test_tiled_equals_whole_at_seams() -> None:
    data = texture((700, 900), seed=5)
    whole = extract(data, WHOLE)
    tiled = extract(data, TILED)
    assert len(tile_grid(data.shape, 256, 64)) == 20
    # keypoints whose support (~4 x size) fits in the 32 px core margin see the same pixels in their
    # tile as in the whole image: exactly one tiled copy of each, none lost, none doubled
    small_w = whole.select(whole.size < 8)
    small_t = tiled.select(tiled.size < 8)
    assert len(small_w) > 0.95 * len(whole)
    np.testing.assert_array_equal(_match(small_w, tiled), 1)
    np.testing.assert_array_equal(_match(small_t, whole), 1)
    # every tiled keypoint, at any scale, is there once only
    np.testing.assert_array_equal(_match(tiled, tiled), 1)
    # larger ones near a seam may move by a few hundredths of a pixel or change orientation
    assert (_match(whole, tiled) == 1).mean() > 0.997


def test_wide_overlap_reproduces_every_scale() -> None:
    data = texture((700, 900), seed=5)
    whole = extract(data, WHOLE)
    tiled = extract(data, TILED.model_copy(update={"tile_size": 384, "tile_overlap": 192}))
    np.testing.assert_array_equal(_match(whole, tiled), 1)
    np.testing.assert_array_equal(_match(tiled, whole), 1)


def test_seams_have_keypoints() -> None:
    data = texture((700, 900), seed=5)
    tiled = extract(data, TILED)
    seams = [b for t in tile_grid(data.shape, 256, 64) for b in t.core[1] if 0 < b < 900]
    near = np.min(np.abs(tiled.x[:, None] - np.array(seams)[None, :]), axis=1) < 2
    whole = extract(data, WHOLE)
    near_w = np.min(np.abs(whole.x[:, None] - np.array(seams)[None, :]), axis=1) < 2
    assert near.sum() == near_w.sum() > 50


def test_tiled_nfeatures_is_the_global_strongest() -> None:
    data = texture((700, 900), seed=5)
    cap = 300
    whole = extract(data, WHOLE.model_copy(update={"params": {"nfeatures": cap}}))
    tiled = extract(data, TILED.model_copy(update={"params": {"nfeatures": cap}}))
    assert len(tiled) == cap
    # the strongest keypoints have small support, so the same ones are kept
    assert (_match(tiled, whole) == 1).mean() > 0.98


def test_tiles_are_read_through_windows() -> None:
    data = texture((700, 900), seed=5)

    class Recording(ArrayImage):
        def __init__(self, array):
            super().__init__(array)
            self.windows = []

        def read(self, window=None):
            self.windows.append(window)
            return super().read(window)

    image = Recording(data)
    extract(image, TILED)
    assert None not in image.windows
    largest = max(
        (w[0][1] - w[0][0]) * (w[1][1] - w[1][0]) for w in image.windows if w[0][1] - w[0][0] <= 256
    )
    assert largest <= 256 * 256
    assert len(image.windows) >= 20


def test_orb_tiled_has_no_duplicates() -> None:
    data = texture((700, 900), seed=5)
    config = TILED.model_copy(update={"extractor": "orb"})
    tiled = extract(data, config)
    whole = extract(data, WHOLE.model_copy(update={"extractor": "orb"}))
    assert len(tiled) > 1000
    np.testing.assert_array_equal(_match(tiled, tiled), 1)
    assert len(tiled) == pytest.approx(len(whole), rel=0.15)
