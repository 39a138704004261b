"""The in-memory keypoint set.

Coordinates are OpenCV's (``x`` = sample, ``y`` = line, centre of the first pixel at 0); the
conversions to USGSCSM and ISIS coordinates are in :mod:`tiepoint.pixels`.

SIFT is run with ``enable_precise_upscale`` so that its doubled first octave maps pixel ``x`` to ``2x``
and keypoints carry no quarter-pixel bias (tested against blobs with analytic centres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True, eq=False)
class Keypoints:
    """Interest points of one image and their descriptors (one row per keypoint).

    Attributes
    ----------
    x, y : ndarray of float64
        Sample and line in full-image pixels, OpenCV convention (see the module docstring).
    response, size, angle : ndarray of float32
        Detector response, diameter of the meaningful neighbourhood (px) and orientation (degrees,
        -1 when the detector gives none).
    octave : ndarray of int32
        Pyramid octave as the OpenCV detector packs it (SIFT: ``octave & 255`` is the signed octave,
        ``(octave >> 8) & 255`` the layer).
    descriptors : ndarray, shape (N, D)
        uint8 or float32, as the extractor produces them.
    extractor : str
        Extractor name (``sift``, ``orb``, ``akaze``).
    params : dict
        The extractor parameters actually used.
    """

    x: np.ndarray
    y: np.ndarray
    response: np.ndarray
    size: np.ndarray
    angle: np.ndarray
    octave: np.ndarray
    descriptors: np.ndarray
    extractor: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float64).reshape(-1)
        self.y = np.ascontiguousarray(self.y, dtype=np.float64).reshape(-1)
        self.response = np.ascontiguousarray(self.response, dtype=np.float32).reshape(-1)
        self.size = np.ascontiguousarray(self.size, dtype=np.float32).reshape(-1)
        self.angle = np.ascontiguousarray(self.angle, dtype=np.float32).reshape(-1)
        self.octave = np.ascontiguousarray(self.octave, dtype=np.int32).reshape(-1)
        self.descriptors = np.ascontiguousarray(self.descriptors)
        n = self.x.shape[0]
        lengths = {len(a) for a in (self.y, self.response, self.size, self.angle, self.octave)}
        if lengths != {n} or self.descriptors.ndim != 2 or self.descriptors.shape[0] != n:
            raise ValueError(
                f"keypoint arrays disagree in length: {n} positions, lengths {sorted(lengths)}, "
                f"descriptors {self.descriptors.shape}"
            )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @classmethod
    def empty(
        cls, extractor: str, descriptor_size: int, descriptor_dtype: Any, params: dict[str, Any] | None = None
    ) -> Keypoints:
        """A set with no keypoints (descriptors of shape ``(0, descriptor_size)``)."""
        f = np.zeros(0, np.float64)
        return cls(
            f, f, f, f, f, np.zeros(0, np.int32), np.zeros((0, descriptor_size), descriptor_dtype),
            extractor, dict(params or {}),
        )  # fmt: skip

    def select(self, index: np.ndarray) -> Keypoints:
        """The keypoints at ``index`` (boolean mask or integer indices), in that order."""
        return Keypoints(
            self.x[index], self.y[index], self.response[index], self.size[index], self.angle[index],
            self.octave[index], self.descriptors[index], self.extractor, dict(self.params),
        )  # fmt: skip

    def shifted(self, dx: float, dy: float) -> Keypoints:
        """A copy with ``dx`` added to x and ``dy`` to y (tile to full-image coordinates)."""
        out = self.select(slice(None))
        out.x = out.x + dx
        out.y = out.y + dy
        return out

    @classmethod
    def concatenate(cls, parts: list[Keypoints], order: np.ndarray | None = None) -> Keypoints:
        """Join sets from the same extractor, then take rows ``order`` (all, in order, if None).

        Builds one field at a time, so the peak extra memory is one field, not a second full copy.
        """
        if not parts:
            raise ValueError("nothing to concatenate")
        index = slice(None) if order is None else order
        fields = {
            name: np.concatenate([getattr(p, name) for p in parts], axis=0)[index]
            for name in ("x", "y", "response", "size", "angle", "octave", "descriptors")
        }
        return cls(**fields, extractor=parts[0].extractor, params=dict(parts[0].params))

    def bbox(self) -> tuple[float, float, float, float] | None:
        """``(x_min, y_min, x_max, y_max)`` of the positions; None if there are none."""
        if not len(self):
            return None
        return (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))
