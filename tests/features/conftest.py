"""Fixtures of the feature tests; the images themselves are made in :mod:`feature_images`."""

from __future__ import annotations

import numpy as np
import pytest
from feature_images import texture


@pytest.fixture
def textured() -> np.ndarray:
    """A 300 x 400 textured image with physical values around 0 (+-100)."""
    return texture((300, 400))
