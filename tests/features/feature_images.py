"""Synthetic images for the feature tests (small: the whole area runs in well under a minute)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def texture(shape: tuple[int, int], seed: int = 1, sigma: float = 2.0, scale: float = 1000.0) -> np.ndarray:
    """Smoothed Gaussian noise: blob-like detail at a few pixels' scale, float64."""
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), sigma) * scale
