"""Extractor plug-ins, one module per method, loaded by name (``sift``, ``orb``, ``akaze``).

Each module defines a subclass of :class:`Extractor` named ``Extractor`` whose ``default_conf`` is a
plain dict of OpenCV constructor parameters; :func:`load_extractor` merges user parameters over it
(unknown keys are an error naming the key). Its ``norm`` says how its descriptors are compared
(``l2`` or ``hamming``); :func:`descriptor_norm` reads it by name, for matching.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar, get_args

import cv2
import numpy as np

from tiepoint.config import ExtractorName
from tiepoint.errors import FeatureError
from tiepoint.features.keypoints import Keypoints

EXTRACTORS: tuple[str, ...] = get_args(ExtractorName)
"""The extractor names, as the configuration defines them (one module each in this package)."""


class Extractor(ABC):
    """An interest-point detector + descriptor working on 8-bit images.

    Parameters
    ----------
    params : dict, optional
        Overrides of :attr:`default_conf`.
    """

    name: ClassVar[str]
    default_conf: ClassVar[dict[str, Any]]
    descriptor_dtype: ClassVar[type]
    norm: ClassVar[str] = "l2"
    """How descriptors are compared: ``l2`` (Euclidean) or ``hamming`` (binary, bits packed in uint8)."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.default_conf))
        if unknown:
            raise FeatureError(
                f"unknown {self.name} parameter(s) {unknown}; known: {sorted(self.default_conf)}"
            )
        self.params: dict[str, Any] = {**self.default_conf, **params}
        try:
            self.detector = self._create()
        except (cv2.error, TypeError, ValueError) as exc:
            raise FeatureError(f"invalid {self.name} parameters {self.params}: {exc}") from None

    @abstractmethod
    def _create(self) -> cv2.Feature2D:
        """Build the OpenCV object from :attr:`params`."""

    @property
    @abstractmethod
    def descriptor_size(self) -> int:
        """Number of descriptor elements per keypoint."""

    @property
    def max_features(self) -> int:
        """The cap on keypoints per image (0: none); tiled extraction applies it after merging."""
        return 0

    @property
    def pad(self) -> int:
        """Pixels next to an image edge where the detector finds nothing (tiles must overlap more)."""
        return 0

    def empty(self) -> Keypoints:
        """A keypoint set with no rows and this extractor's descriptor shape."""
        return Keypoints.empty(self.name, self.descriptor_size, self.descriptor_dtype, self.params)

    def detect(self, image: np.ndarray, mask: np.ndarray | None = None) -> Keypoints:
        """Detect and describe keypoints.

        Parameters
        ----------
        image : ndarray of uint8, shape (lines, samples)
        mask : ndarray of uint8, optional
            Non-zero where keypoints may lie.

        Returns
        -------
        Keypoints
            In the image's own pixel coordinates (OpenCV convention).
        """
        if image.size == 0 or min(image.shape) < 2:
            return self.empty()
        kps, desc = self.detector.detectAndCompute(image, mask)
        if not kps or desc is None:
            return self.empty()
        # one pass over OpenCV's KeyPoint objects (it has no array accessor); the rest is vectorized
        rows = np.array([(*k.pt, k.response, k.size, k.angle, k.octave) for k in kps], dtype=np.float64)
        return Keypoints(
            rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5].astype(np.int32),
            desc.astype(self.descriptor_dtype, copy=False), self.name, dict(self.params),
        )  # fmt: skip


def _module(name: str) -> Any:
    if name not in EXTRACTORS:
        raise FeatureError(f"unknown extractor {name!r}; choose one of {list(EXTRACTORS)}")
    return importlib.import_module(f"{__name__}.{name}")


def descriptor_norm(name: str) -> str:
    """``l2`` or ``hamming``: how the descriptors of extractor ``name`` are compared (no detector built).

    Raises
    ------
    FeatureError
        Unknown name.
    """
    return str(_module(name).Extractor.norm)


def load_extractor(name: str, params: dict[str, Any] | None = None) -> Extractor:
    """Instantiate the extractor plug-in called ``name``.

    Raises
    ------
    FeatureError
        Unknown name, unknown parameter, or the method is missing from this OpenCV build.
    """
    return _module(name).Extractor(params)
