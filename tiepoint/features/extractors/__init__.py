"""Extractor plug-ins, one module per method, loaded by name (``sift``, ``orb``, ``akaze``).

Each module defines a subclass of :class:`Extractor` named ``Extractor`` with a ``Params`` model (an
:class:`ExtractorParams`: the OpenCV constructor parameters with their types, ranges and defaults);
``default_conf`` is the plain dict of those defaults. :func:`load_extractor` merges user parameters over
it; an unknown key, a wrong type or a value out of range is a :class:`FeatureError` naming the key.
:func:`check_params` does the same check without building the detector (the configuration uses it).

Each plug-in's ``norm`` says how its descriptors are compared (``l2`` or ``hamming``);
:func:`descriptor_norm` reads it by name, for matching.

Public API: ``EXTRACTORS``, :class:`Extractor`, :class:`ExtractorParams`, :func:`load_extractor`,
:func:`check_params`, :func:`descriptor_norm`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar, get_args

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tiepoint.config import ExtractorName
from tiepoint.errors import FeatureError
from tiepoint.features.keypoints import Keypoints

EXTRACTORS: tuple[str, ...] = get_args(ExtractorName)
"""The extractor names, as the configuration defines them (one module each in this package)."""


class ExtractorParams(BaseModel):
    """Base of each plug-in's ``Params``: strict types (no ``"5"`` for 5, no ``True`` for 1), finite
    numbers, unknown keys refused; ranges are declared per field with ``Field(..., ge=..)``."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Extractor(ABC):
    """An interest-point detector + descriptor working on 8-bit images.

    Parameters
    ----------
    params : dict, optional
        Overrides of :attr:`default_conf`.
    """

    name: ClassVar[str]
    Params: ClassVar[type[ExtractorParams]]
    default_conf: ClassVar[dict[str, Any]]
    """The defaults of :attr:`Params`, as a plain dict (set for each plug-in from its ``Params``)."""
    descriptor_dtype: ClassVar[type]
    norm: ClassVar[str] = "l2"
    """How descriptors are compared: ``l2`` (Euclidean) or ``hamming`` (binary, bits packed in uint8)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Params" in cls.__dict__:
            cls.default_conf = cls.Params().model_dump()

    @classmethod
    def validate_params(cls, params: dict[str, Any] | None) -> dict[str, Any]:
        """The defaults with ``params`` merged over them, every key checked.

        Raises
        ------
        FeatureError
            Naming each unknown key, or the key, its value and what it should be.
        """
        params = dict(params or {})
        unknown = sorted(set(params) - set(cls.default_conf))
        if unknown:
            known = sorted(cls.default_conf)
            raise FeatureError(f"unknown {cls.name} parameter(s) {unknown}; known: {known}")
        try:
            cls.Params.model_validate(params)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])} = {e['input']!r}: {e['msg']}" if e["loc"] else e["msg"]
                for e in exc.errors()
            )
            raise FeatureError(f"invalid {cls.name} parameters: {problems}") from None
        return {**cls.default_conf, **params}

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = self.validate_params(params)
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


def _plugin(name: str) -> type[Extractor]:
    if name not in EXTRACTORS:
        raise FeatureError(f"unknown extractor {name!r}; choose one of {list(EXTRACTORS)}")
    return importlib.import_module(f"{__name__}.{name}").Extractor


def descriptor_norm(name: str) -> str:
    """``l2`` or ``hamming``: how the descriptors of extractor ``name`` are compared (no detector built).

    Raises
    ------
    FeatureError
        Unknown name.
    """
    return str(_plugin(name).norm)


def load_extractor(name: str, params: dict[str, Any] | None = None) -> Extractor:
    """Instantiate the extractor plug-in called ``name``.

    Raises
    ------
    FeatureError
        Unknown name, unknown or invalid parameter (named), or the method is missing from this OpenCV
        build.
    """
    return _plugin(name)(params)


def check_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Check ``params`` of extractor ``name`` as :func:`load_extractor` does, without building it.

    Returns
    -------
    dict
        The full parameters (defaults merged).

    Raises
    ------
    FeatureError
        Unknown extractor, unknown key, wrong type or value out of range (naming the key).
    """
    return _plugin(name).validate_params(params)
