"""Gather the keypoints of an image tile by tile with no second copy of them in memory.

A big image has millions of keypoints (~160 bytes each with a SIFT descriptor); joining per-tile sets
at the end would hold them twice. :class:`KeypointCollector` instead appends each tile's keypoints to
columns that grow in place (``ndarray.resize``: a ``realloc``, which for large blocks remaps pages
rather than copying them), and with a feature cap it drops the weaker keypoints as it goes.
"""

from __future__ import annotations

import numpy as np

from tiepoint.features.keypoints import Keypoints

FIELDS = ("x", "y", "response", "size", "angle", "octave", "descriptors")


class KeypointCollector:
    """Keypoints appended part by part, in order; with ``cap > 0`` only the strongest ``cap`` are kept.

    Parameters
    ----------
    template : Keypoints
        Any set from the extractor (gives the extractor name, parameters and column types).
    cap : int
        Keep the ``cap`` keypoints of highest response over all parts (0: keep all). Ties go to the
        earlier keypoint; the kept ones stay in their order.
    """

    def __init__(self, template: Keypoints, cap: int = 0) -> None:
        self.cap = int(cap)
        self._extractor = template.extractor
        self._params = dict(template.params)
        self._columns: dict[str, np.ndarray] | None = {
            name: np.empty((0, *getattr(template, name).shape[1:]), getattr(template, name).dtype)
            for name in FIELDS
        }
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, part: Keypoints) -> None:
        """Append the keypoints of ``part`` (copied; ``part`` may be freed afterwards)."""
        if self._columns is None:
            raise RuntimeError("KeypointCollector.add after result()")
        n, m = self._count, len(part)
        if not m:
            return
        for name, column in self._columns.items():
            column.resize((n + m, *column.shape[1:]), refcheck=False)  # owned by us alone
            column[n:] = getattr(part, name)
        self._count = n + m
        if self.cap and self._count > 2 * self.cap:
            self._keep_strongest()

    def _keep_strongest(self) -> None:
        """Drop all but the ``cap`` strongest (the strongest of the whole image are among them)."""
        strongest = np.argsort(-self._columns["response"], kind="stable")[: self.cap]
        keep = np.zeros(self._count, bool)
        keep[strongest] = True
        self._columns = {name: column[keep] for name, column in self._columns.items()}
        self._count = int(keep.sum())

    def result(self) -> Keypoints:
        """All kept keypoints as one set (the collector should not be used afterwards)."""
        if self.cap and self._count > self.cap:
            self._keep_strongest()
        columns, self._columns = self._columns, None  # the result owns them: no more resizing
        return Keypoints(**columns, extractor=self._extractor, params=self._params)
