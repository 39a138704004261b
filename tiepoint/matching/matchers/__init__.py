"""Matcher plug-ins, one module per method, loaded by name (``gated``, ``bf``).

Each module defines a subclass of :class:`Matcher` named ``Matcher`` whose ``default_conf`` is a plain
dict of parameters; :func:`load_matcher` merges user parameters over it (unknown keys are an error
naming the key), as the feature extractors do. One contract for all (kornia's): two
:class:`MatchSide` in, one :class:`Matches` out, an empty result shaped like a full one.

* ``gated``: candidates near each keypoint's a-priori ground position (both sides need ``xyz``);
* ``bf``: exact brute force (BLAS) or FLANN in descriptor space, for pairs without cameras.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tiepoint.errors import MatchingError
from tiepoint.matching.descriptors import Descriptors

MATCHERS = ("gated", "bf")

METHODS = ("gated", "gated-widened", "ungated", "image")
"""How raw matches were found (``PairRecord.method``): within the a-priori radius, within the widened
radius, by descriptors alone although both cameras exist, or in image space (a camera is missing)."""


@dataclass(slots=True, eq=False)
class MatchSide:
    """What a matcher sees of one image: its keypoints inside the pair's (buffered) overlap."""

    rows: np.ndarray
    """int32 rows of these keypoints in the image's keypoint file."""
    x: np.ndarray
    """float64 sample and line, OpenCV convention."""
    y: np.ndarray
    response: np.ndarray
    descriptors: Descriptors
    xyz: np.ndarray | None = None
    """(N, 3) float64 body-fixed ground positions (m) from the a-priori camera; None without one."""

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, keep: np.ndarray) -> MatchSide:
        """The keypoints selected by ``keep`` (index array or boolean mask)."""
        return MatchSide(
            self.rows[keep], self.x[keep], self.y[keep], self.response[keep],
            self.descriptors.subset(keep), None if self.xyz is None else self.xyz[keep],
        )  # fmt: skip


@dataclass(slots=True, eq=False)
class Matches:
    """Raw matches between two :class:`MatchSide`.

    ``index[:, 0]`` indexes side a's arrays, ``index[:, 1]`` side b's (not keypoint-file rows: those
    are ``side.rows[index]``).
    """

    index: np.ndarray
    """(N, 2) int32."""
    distance: np.ndarray
    """(N,) float32 descriptor distance (L2 or Hamming bits)."""
    ratio: np.ndarray
    """(N,) float32 best / second-best distance (0: a single candidate)."""
    method: str
    """One of :data:`METHODS`."""
    info: dict[str, float] = field(default_factory=dict)
    """Matcher diagnostics (candidates per keypoint, radius used, pilot offset, ...)."""

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def empty(cls, method: str, info: dict[str, float] | None = None) -> Matches:
        """No matches, with the shapes of some."""
        return cls(np.empty((0, 2), np.int32), np.empty(0, np.float32), np.empty(0, np.float32), method,
                   dict(info or {}))  # fmt: skip


class Matcher(ABC):
    """A descriptor matcher.

    Parameters
    ----------
    params : dict, optional
        Overrides of :attr:`default_conf`.

    Raises
    ------
    MatchingError
        A parameter name is unknown, or a value is invalid.
    """

    name: ClassVar[str]
    default_conf: ClassVar[dict[str, Any]]
    needs_ground: ClassVar[bool] = False
    """Whether both sides must carry ``xyz`` (pairs without cameras then use ``bf``)."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.default_conf))
        if unknown:
            raise MatchingError(
                f"unknown {self.name} matcher parameter(s) {unknown}; known: {sorted(self.default_conf)}"
            )
        self.params: dict[str, Any] = {**self.default_conf, **params}
        try:
            self._check()
        except (TypeError, ValueError) as exc:
            raise MatchingError(f"invalid {self.name} matcher parameters {self.params}: {exc}") from None

    def _check(self) -> None:  # noqa: B027 - optional hook
        """Validate :attr:`params` (raise ValueError or TypeError)."""

    @abstractmethod
    def match(self, a: MatchSide, b: MatchSide) -> Matches:
        """Raw matches of ``a`` against ``b`` (each keypoint of either side used at most once)."""


def load_matcher(name: str, params: dict[str, Any] | None = None) -> Matcher:
    """Instantiate the matcher plug-in called ``name``.

    Raises
    ------
    MatchingError
        Unknown name or parameter, or an invalid value.
    """
    if name not in MATCHERS:
        raise MatchingError(f"unknown matcher {name!r}; choose one of {list(MATCHERS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.Matcher(params)


def positive(params: dict[str, Any], *names: str) -> None:
    """Raise ValueError unless each named parameter is a number > 0."""
    for name in names:
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
