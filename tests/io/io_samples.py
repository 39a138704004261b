"""Sample data helpers of the tiepoint.io tests."""

from __future__ import annotations

import numpy as np

from tiepoint.io.special_pixels import PixelType


def random_valid(ptype: PixelType, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random values inside *ptype*'s valid range, in its stored dtype (Real: a wide float range)."""
    if ptype.is_float:
        return rng.normal(0.0, 1e4, shape).astype(np.float32)
    return rng.integers(int(ptype.valid_min), int(ptype.valid_max), shape, endpoint=True).astype(ptype.dtype)
