"""ORB (OpenCV): FAST corners + rotated BRIEF, 32-byte binary descriptors (match with Hamming)."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from tiepoint.features.extractors import Extractor as _Base


class Extractor(_Base):
    """Oriented FAST and rotated BRIEF."""

    name = "orb"
    default_conf: ClassVar[dict[str, Any]] = {
        "nfeatures": 20000,
        "scaleFactor": 1.2,
        "nlevels": 8,
        "edgeThreshold": 31,
        "firstLevel": 0,
        "WTA_K": 2,
        "scoreType": "harris",  # or "fast"
        "patchSize": 31,
        "fastThreshold": 20,
    }
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
