"""Fixtures of the tiepoint.io tests: small synthetic arrays with special pixels."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.io.special_pixels import PIXEL_TYPES, PixelType


def random_valid(ptype: PixelType, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random values inside *ptype*'s valid range, in its stored dtype (Real: a wide float range)."""
    if ptype.is_float:
        return rng.normal(0.0, 1e4, shape).astype(np.float32)
    return rng.integers(int(ptype.valid_min), int(ptype.valid_max), shape, endpoint=True).astype(ptype.dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(params=list(PIXEL_TYPES))
def pixel_type(request: pytest.FixtureRequest) -> str:
    return request.param
