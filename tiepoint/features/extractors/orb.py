"""ORB (OpenCV): FAST corners + rotated BRIEF, 32-byte binary descriptors (match with Hamming)."""

# ruff: noqa: N815  (parameter names are OpenCV's own, as users know them from its documentation)
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from tiepoint.features.extractors import Extractor as _Base
from tiepoint.features.extractors import ExtractorParams


class Extractor(_Base):
    """Oriented FAST and rotated BRIEF."""

    class Params(ExtractorParams):
        """``cv2.ORB_create`` parameters."""

        nfeatures: int = Field(20000, ge=1)
        scaleFactor: float = Field(1.2, gt=1)
        nlevels: int = Field(8, ge=1)
        edgeThreshold: int = Field(31, ge=0)
        firstLevel: int = Field(0, ge=0)
        WTA_K: Literal[2, 3, 4] = 2
        scoreType: Literal["harris", "fast"] = "harris"
        patchSize: int = Field(31, ge=2)
        fastThreshold: int = Field(20, ge=0, le=255)

    name = "orb"
    descriptor_dtype = np.uint8
    norm = "hamming"

    def _create(self) -> cv2.Feature2D:
        p = self.params
        scores = {"harris": cv2.ORB_HARRIS_SCORE, "fast": cv2.ORB_FAST_SCORE}
        if p["scoreType"] not in scores:
            raise ValueError(f"scoreType must be one of {list(scores)}")
        return cv2.ORB_create(
            int(p["nfeatures"]), float(p["scaleFactor"]), int(p["nlevels"]), int(p["edgeThreshold"]),
            int(p["firstLevel"]), int(p["WTA_K"]), scores[p["scoreType"]], int(p["patchSize"]),
            int(p["fastThreshold"]),
        )  # fmt: skip

    @property
    def descriptor_size(self) -> int:
        return 32

    @property
    def max_features(self) -> int:
        return int(self.params["nfeatures"])

    @property
    def pad(self) -> int:
        return int(self.params["edgeThreshold"])
