"""Fixtures of the tiepoint.io tests: small synthetic arrays with special pixels."""

from __future__ import annotations

import numpy as np
import pytest

from tiepoint.io.special_pixels import PIXEL_TYPES


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(params=list(PIXEL_TYPES))
def pixel_type(request: pytest.FixtureRequest) -> str:
    return request.param
