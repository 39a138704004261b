"""DN to 8 bit: a robust percentile stretch computed on valid pixels, and the keypoint mask.

The stretch limits come from a deterministic regular subsample of the valid pixels: every ``step``-th
sample of every ``step``-th line, counted from the image origin, with ``step`` chosen so that at most
:data:`MAX_SAMPLES` pixels are drawn. Only the sampled lines are read (in strips when every line is
sampled), so the pass costs little time and memory whatever the image size. The same subsample is
used whether the image is then processed whole or in tiles, and every tile is stretched with the same
mapping, so tiles agree at their seams.

Sampling error: the limits move by at most a few DN from those of all pixels; on the test and
benchmark images (``tests/features/test_stretch.py``) the 8-bit mapping changes by at most 0.25 of a
grey level, below the half grey level at which a pixel's rounded 8-bit value could change by more
than one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tiepoint.features.source import ImageSource

MAX_SAMPLES = 1_000_000
"""Most pixels the percentile subsample takes."""
STRIP_PIXELS = 4_000_000
"""Pixels per strip read while sampling every line (bounds memory: ~10 bytes per pixel)."""


@dataclass(frozen=True, slots=True)
class Stretch:
    """A linear map of physical values ``[lo, hi]`` to ``[0, 255]``; no-data becomes ``fill``."""

    lo: float
    hi: float
    fill: int

    @property
    def scale(self) -> float:
        return 255.0 / (self.hi - self.lo) if self.hi > self.lo else 0.0


def sample_step(shape: tuple[int, int], max_samples: int = MAX_SAMPLES) -> int:
    """Line and sample step of the percentile subsample of an image of ``shape``."""
    return max(1, math.ceil(math.sqrt(shape[0] * shape[1] / max_samples)))


def valid_pixels(data: np.ma.MaskedArray) -> np.ndarray:
    """Boolean array: not masked and finite."""
    valid = ~np.ma.getmaskarray(data)
    if np.issubdtype(data.dtype, np.floating):
        valid &= np.isfinite(np.ma.getdata(data))
    return valid


def compute_stretch(
    image: ImageSource, percentiles: tuple[float, float] = (0.5, 99.5), max_samples: int = MAX_SAMPLES
) -> Stretch | None:
    """Percentile stretch limits of an image's valid pixels.

    Parameters
    ----------
    image : ImageSource
        Read strip by strip.
    percentiles : (float, float)
        Lower and upper percentiles (0..100) mapped to 0 and 255.
    max_samples : int
        Size of the regular subsample the percentiles are computed on.

    Returns
    -------
    Stretch or None
        None when the image has no valid pixel.
    """
    lines, samples = image.shape[-2:]
    step = sample_step((lines, samples), max_samples)
    chunks = []
    for window in _sample_windows(lines, samples, step):
        data = _band0(image.read(window=window))[::step, ::step]
        chunks.append(np.ma.getdata(data)[valid_pixels(data)])
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    if values.size == 0:
        return None
    lo, median, hi = percentiles_of(values, [percentiles[0], 50.0, percentiles[1]])
    stretch = Stretch(float(lo), float(hi), 0)
    fill = int(np.clip(round((median - lo) * stretch.scale), 0, 255))
    return Stretch(float(lo), float(hi), fill)


HISTOGRAM_BINS = 1 << 20
"""Integer samples spanning at most this many values get exact percentiles from a histogram."""


def percentiles_of(values: np.ndarray, q: list[float]) -> np.ndarray:
    """``np.percentile(values, q)`` (linear interpolation between order statistics).

    Integer values spanning at most :data:`HISTOGRAM_BINS` take the order statistics from a histogram
    (one counting pass, no sort of a float copy); the result is the same.
    """
    if values.dtype.kind in "iu" and values.size:
        low = int(values.min())
        if int(values.max()) - low < HISTOGRAM_BINS:
            cumulative = np.cumsum(np.bincount(np.subtract(values, low, dtype=np.intp)))
            rank = (values.size - 1) * np.asarray(q, dtype=float) / 100.0
            below = np.floor(rank)
            order = np.searchsorted(cumulative, np.stack([below, np.minimum(below + 1, values.size - 1)]),
                                    side="right") + low  # fmt: skip
            a, b = order.astype(float)
            return a + (b - a) * (rank - below)
    return np.percentile(values.astype(np.float64, copy=False), q)


def _sample_windows(lines: int, samples: int, step: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Windows holding the sampled lines ``0, step, 2 step, ...``: strips when every line is sampled,
    else one line each (the lines in between are never read)."""
    if step == 1:
        strip = max(1, STRIP_PIXELS // max(samples, 1))
        return [((l0, min(l0 + strip, lines)), (0, samples)) for l0 in range(0, lines, strip)]
    return [((l0, l0 + 1), (0, samples)) for l0 in range(0, lines, step)]


def _band0(data: np.ma.MaskedArray) -> np.ma.MaskedArray:
    return data[0] if data.ndim == 3 else data


def to_uint8(data: np.ma.MaskedArray, stretch: Stretch) -> tuple[np.ndarray, np.ndarray]:
    """Stretch one window to 8 bit.

    Returns
    -------
    image : ndarray of uint8
        ``round((v - lo) * 255 / (hi - lo))`` clipped to 0..255; no-data set to ``stretch.fill`` (the
        median's grey) so its edge makes no artificial gradient.
    valid : ndarray of bool
        Where the pixel has data.
    """
    data = _band0(data)
    valid = valid_pixels(data)
    raw = np.ma.getdata(data)
    out = np.subtract(raw, stretch.lo, dtype=np.float32)
    out *= np.float32(stretch.scale)
    np.clip(out, 0.0, 255.0, out=out)
    out += np.float32(0.5)
    out[~valid] = stretch.fill  # also replaces NaN/inf before the cast
    return out.astype(np.uint8), valid


def keypoint_mask(valid: np.ndarray, edge_margin: int) -> np.ndarray:
    """8-bit detection mask: valid pixels at least ``edge_margin`` px (square) from any no-data pixel.

    The area outside the array counts as valid (an image edge is not no-data; detectors keep their own
    border). Returns 255 where a keypoint may lie, 0 elsewhere.
    """
    mask = valid.astype(np.uint8) * np.uint8(255)
    if edge_margin > 0 and not valid.all():
        kernel = np.ones((2 * edge_margin + 1, 2 * edge_margin + 1), np.uint8)
        mask = cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=255)
    return mask
