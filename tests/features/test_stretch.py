"""Percentile stretch on valid pixels only, and no keypoint on or next to no-data."""

from __future__ import annotations

import numpy as np
import pytest
from feature_images import texture
from scipy import ndimage

from tiepoint.config import FeaturesConfig
from tiepoint.features import ArrayImage, extract
from tiepoint.features.stretch import compute_stretch, keypoint_mask, to_uint8


def with_hole(data: np.ndarray, value: float) -> np.ma.MaskedArray:
    """Mask a rectangle and a disc (no-data) and put ``value`` under them."""
    data = data.copy()
    mask = np.zeros(data.shape, bool)
    mask[60:140, 100:180] = True
    lines, samples = np.mgrid[: data.shape[0], : data.shape[1]]
    mask |= (lines - 220) ** 2 + (samples - 300) ** 2 < 35**2
    data[mask] = value
    return np.ma.MaskedArray(data, mask)


def test_percentiles_ignore_special_pixels() -> None:
    rng = np.random.default_rng(0)
    data = with_hole(rng.uniform(100, 1100, (300, 400)), -3.4e38)
    stretch = compute_stretch(ArrayImage(data), (2.0, 98.0))
    valid = data.compressed()
    assert stretch.lo == pytest.approx(np.percentile(valid, 2.0))
    assert stretch.hi == pytest.approx(np.percentile(valid, 98.0))
    # a subsample (every 4th line and sample) gives nearly the same limits
    sub = compute_stretch(ArrayImage(data), (2.0, 98.0), max_samples=data.size // 16)
    assert sub.lo == pytest.approx(stretch.lo, rel=0.03) and sub.hi == pytest.approx(stretch.hi, rel=0.03)


def test_to_uint8_maps_limits_and_fills_no_data() -> None:
    data = np.ma.MaskedArray(np.array([[0.0, 50.0, 100.0, 200.0], [-5.0, np.nan, 75.0, 1e30]]))
    data[1, 3] = np.ma.masked
    stretch = compute_stretch(ArrayImage(data), (0.0, 100.0))
    img, valid = to_uint8(data, stretch)
    assert valid.tolist() == [[True] * 4, [True, False, True, False]]  # NaN counts as no-data
    lo, hi = stretch.lo, stretch.hi
    expected = np.clip(
        np.round((np.array([0.0, 50.0, 100.0, 200.0, -5.0, 75.0]) - lo) / (hi - lo) * 255), 0, 255
    )
    np.testing.assert_array_equal(img[valid], expected)
    assert (
        img[1, 1]
        == img[1, 3]
        == stretch.fill
        == round((np.median(data.compressed()[np.isfinite(data.compressed())]) - lo) / (hi - lo) * 255)
    )


def test_mask_keeps_margin_from_no_data() -> None:
    valid = np.ones((50, 60), bool)
    valid[20:25, 30:33] = False
    mask = keypoint_mask(valid, 4)
    dist = ndimage.distance_transform_cdt(valid, metric="chessboard")  # steps to nearest no-data
    np.testing.assert_array_equal(mask > 0, dist > 4)
    assert keypoint_mask(np.ones((5, 5), bool), 4).all()  # image edges are not no-data


@pytest.mark.parametrize("margin", [0, 8])
def test_no_keypoint_on_or_near_no_data(margin: int) -> None:
    data = with_hole(texture((300, 400)), 0.0)
    kps = extract(data, FeaturesConfig(edge_margin=margin))
    dist = ndimage.distance_transform_cdt(~data.mask, metric="chessboard")
    at = dist[np.round(kps.y).astype(int), np.round(kps.x).astype(int)]
    assert at.min() > margin
    assert (at <= margin + 6).any()  # the mask does not swallow more than it should


def test_values_under_the_mask_change_nothing() -> None:
    base = texture((300, 400))
    a = extract(with_hole(base, 0.0))
    b = extract(with_hole(base, 1e30))
    assert len(a) > 100
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.descriptors, b.descriptors)


def grey_change(a, b) -> float:
    """Largest change of the 8-bit value (before rounding) between two stretches over both ranges."""
    v = np.array([a.lo, a.hi, b.lo, b.hi])  # the maps are linear: the extremes are at these values
    return float(np.max(np.abs((v - a.lo) * a.scale - (v - b.lo) * b.scale)))


@pytest.mark.parametrize("shape", [(1500, 1500), (2600, 900)])
def test_sampled_stretch_matches_all_pixels(shape: tuple[int, int]) -> None:
    # the default subsample (every 2nd / 3rd line and sample here) against every valid pixel: the
    # 8-bit mapping moves by less than half a grey level, so no pixel's 8-bit value moves by more than 1
    rng = np.random.default_rng(4)
    data = np.round(texture(shape, seed=9, scale=3000.0) + rng.normal(0, 40, shape) + 2000.0)
    masked = np.ma.MaskedArray(data, np.zeros(shape, bool))
    masked[:50] = np.ma.masked
    every = compute_stretch(ArrayImage(masked), max_samples=10**12)
    sampled = compute_stretch(ArrayImage(masked))
    valid = masked.compressed()
    assert every.lo == np.percentile(valid, 0.5) and every.hi == np.percentile(valid, 99.5)
    assert grey_change(every, sampled) < 0.5
    assert abs(every.fill - sampled.fill) <= 1


def test_stretch_reads_only_the_sampled_lines() -> None:
    from tiepoint.features.stretch import MAX_SAMPLES, sample_step

    shape = (3000, 1000)  # 3 MP: every 2nd line and sample
    step = sample_step(shape)
    assert step == 2 and shape[0] * shape[1] / step**2 <= MAX_SAMPLES

    class Recording(ArrayImage):
        def __init__(self, data: np.ndarray) -> None:
            super().__init__(data)
            self.lines: list[int] = []

        def read(self, window=None):
            (l0, l1), _ = window
            self.lines.extend(range(l0, l1))
            return super().read(window)

    image = Recording(texture(shape, seed=3))
    stretch = compute_stretch(image)
    assert image.lines == list(range(0, shape[0], step))
    full = np.asarray(image.data)[::step, ::step]
    assert stretch.lo == np.percentile(full, 0.5) and stretch.hi == np.percentile(full, 99.5)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32])
def test_histogram_percentiles_equal_numpy(dtype) -> None:
    from tiepoint.features.stretch import percentiles_of

    rng = np.random.default_rng(5)
    info = np.iinfo(dtype)
    for n in (1, 2, 7, 1001, 200_000):
        values = rng.integers(max(info.min, -5000), min(info.max, 60000), n).astype(dtype)
        for q in ([0.5, 50.0, 99.5], [0.0, 100.0, 37.3]):
            want = np.percentile(values.astype(np.float64), q)
            np.testing.assert_allclose(percentiles_of(values, q), want, rtol=1e-12, atol=1e-9)
    wide = np.array([-(2**30), 0, 2**30], np.int32)  # too wide for a histogram: numpy's path
    np.testing.assert_array_equal(percentiles_of(wide, [50.0]), [0.0])
