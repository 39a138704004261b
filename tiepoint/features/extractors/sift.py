"""SIFT (OpenCV): the default extractor; uint8 descriptors (128 values in 0..255)."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from tiepoint.features.extractors import Extractor as _Base


class Extractor(_Base):
    """Scale-invariant feature transform."""

    name = "sift"
    default_conf: ClassVar[dict[str, Any]] = {
        "nfeatures": 0,  # 0: keep all
        "nOctaveLayers": 3,
        "contrastThreshold": 0.04,
        "edgeThreshold": 10.0,
        "sigma": 1.6,
        "descriptor_type": "uint8",  # or "float32"
        "enable_precise_upscale": True,  # no quarter-pixel bias from the doubled first octave
    }
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
