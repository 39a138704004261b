"""SIFT (OpenCV): the default extractor; uint8 descriptors (128 values in 0..255)."""

# ruff: noqa: N815  (parameter names are OpenCV's own, as users know them from its documentation)
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from tiepoint.features.extractors import Extractor as _Base
from tiepoint.features.extractors import ExtractorParams


class Extractor(_Base):
    """Scale-invariant feature transform."""

    class Params(ExtractorParams):
        """``cv2.SIFT_create`` parameters."""

        nfeatures: int = Field(0, ge=0, description="keep the strongest N; 0: keep all")
        nOctaveLayers: int = Field(3, ge=1)
        contrastThreshold: float = Field(0.04, ge=0)
        edgeThreshold: float = Field(10.0, gt=0)
        sigma: float = Field(1.6, gt=0)
        descriptor_type: Literal["uint8", "float32"] = "uint8"
        enable_precise_upscale: bool = Field(True, description="no quarter-pixel bias from octave -1")

    name = "sift"
    descriptor_dtype = np.uint8

    def _create(self) -> cv2.Feature2D:
        p = self.params
        kinds = {"uint8": (cv2.CV_8U, np.uint8), "float32": (cv2.CV_32F, np.float32)}
        if p["descriptor_type"] not in kinds:
            raise ValueError(f"descriptor_type must be one of {list(kinds)}")
        cv_type, self.descriptor_dtype = kinds[p["descriptor_type"]]
        return cv2.SIFT_create(
            int(p["nfeatures"]), int(p["nOctaveLayers"]), float(p["contrastThreshold"]),
            float(p["edgeThreshold"]), float(p["sigma"]), cv_type, bool(p["enable_precise_upscale"]),
        )  # fmt: skip

    @property
    def descriptor_size(self) -> int:
        return 128

    @property
    def max_features(self) -> int:
        return int(self.params["nfeatures"])

    @property
    def pad(self) -> int:
        return 5  # SIFT_IMG_BORDER in OpenCV's sift.dispatch.cpp
