"""AKAZE (OpenCV): nonlinear scale space, binary M-LDB descriptors (61 bytes by default).

OpenCV 5 moved AKAZE out of the main modules into ``opencv-contrib`` (``cv2.xfeatures2d``); this
plug-in uses whichever the installed build has and otherwise raises a :class:`FeatureError` saying so.
"""

# ruff: noqa: N815  (parameter names are OpenCV's own, as users know them from its documentation)
from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field

from tiepoint.errors import FeatureError
from tiepoint.features.extractors import Extractor as _Base
from tiepoint.features.extractors import ExtractorParams


def _akaze_factory() -> Any:
    for owner in (cv2, getattr(cv2, "xfeatures2d", None), getattr(cv2, "features2d", None)):
        create = getattr(owner, "AKAZE_create", None) if owner is not None else None
        if create is not None:
            return create
    return None


def available() -> bool:
    """Whether this OpenCV build has AKAZE."""
    return _akaze_factory() is not None


class Extractor(_Base):
    """Accelerated KAZE."""

    class Params(ExtractorParams):
        """``cv2.AKAZE_create`` parameters."""

        descriptor_size: int = Field(
            0, ge=0, le=486, description="bits; 0: full size (486 = 162 x 3 channels)"
        )
        descriptor_channels: Literal[3] = Field(
            3, description="3 only: OpenCV's AKAZE corrupts memory with 1 or 2 (tiepoint's tests found it)"
        )
        threshold: float = Field(0.001, gt=0)
        nOctaves: int = Field(4, ge=1)
        nOctaveLayers: int = Field(4, ge=1)
        max_points: int = Field(-1, ge=-1, description="keep the strongest N; -1: keep all")

    name = "akaze"
    descriptor_dtype = np.uint8
    norm = "hamming"

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        if not available():
            raise FeatureError(
                f"AKAZE is not in this OpenCV build (cv2 {cv2.__version__}); OpenCV 5 moved it to "
                "opencv-contrib: install opencv-contrib-python-headless, or use extractor sift/orb"
            )
        super().__init__(params)

    def _create(self) -> cv2.Feature2D:
        p = self.params
        create = _akaze_factory()
        kwargs = {
            "descriptor_size": int(p["descriptor_size"]),
            "descriptor_channels": int(p["descriptor_channels"]),
            "threshold": float(p["threshold"]),
            "nOctaves": int(p["nOctaves"]),
            "nOctaveLayers": int(p["nOctaveLayers"]),
        }
        if int(p["max_points"]) != -1:
            kwargs["max_points"] = int(p["max_points"])
        return create(**kwargs)

    @property
    def descriptor_size(self) -> int:
        return int(self.detector.descriptorSize())

    @property
    def max_features(self) -> int:
        return max(int(self.params["max_points"]), 0)
