"""AKAZE (OpenCV): nonlinear scale space, binary M-LDB descriptors (61 bytes by default).

OpenCV 5 moved AKAZE out of the main modules into ``opencv-contrib`` (``cv2.xfeatures2d``); this
plug-in uses whichever the installed build has and otherwise raises a :class:`FeatureError` saying so.
"""

# ruff: noqa: N815  (parameter names are OpenCV's own, as users know them from its documentation)
from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

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

        descriptor_size: int = Field(0, ge=0, le=486, description="bits; 0: full size")
        descriptor_channels: Literal[1, 2, 3] = 3
        threshold: float = Field(0.001, gt=0)
        nOctaves: int = Field(4, ge=1)
        nOctaveLayers: int = Field(4, ge=1)
        max_points: int = Field(-1, ge=-1, description="keep the strongest N; -1: keep all")

        @model_validator(mode="after")
        def _fits_the_full_descriptor(self) -> Extractor.Params:
            full = 162 * self.descriptor_channels  # M-LDB: 162 comparisons per channel
            if self.descriptor_size > full:
                raise PydanticCustomError(
                    "akaze_descriptor_size",
                    "descriptor_size = {size}: more than the {full} bits of a full descriptor with "
                    "descriptor_channels = {channels}",
                    {"size": self.descriptor_size, "full": full, "channels": self.descriptor_channels},
                )
            return self

    name = "akaze"
    descriptor_dtype = np.uint8

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
