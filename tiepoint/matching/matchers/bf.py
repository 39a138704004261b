"""Image-space matching: every descriptor of a against every one of b, ratio test and mutual best.

``algorithm: exact`` computes all distances in blocks through BLAS (:meth:`Descriptors.dense`; the
Hamming distance of binary descriptors as a dot product of +-1 bits), keeping per row the two
smallest and per column the smallest, so memory stays at one block. ``algorithm: flann`` asks
OpenCV's FLANN (kd-trees for L2, LSH for binary) for the two nearest neighbours each way and then
computes their exact distances, for very large sets. Used for pairs without cameras, and as the gated
matcher's last resort.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from tiepoint.errors import MatchingError
from tiepoint.matching.descriptors import Descriptors
from tiepoint.matching.matchers import Matcher as _Base
from tiepoint.matching.matchers import Matches, MatchSide, positive
from tiepoint.matching.select import Nearest, select

BLOCK_BYTES = 64 * 2**20
"""Memory of one block of dense distances."""

_FLANN_KDTREE, _FLANN_LSH = 1, 6


class Matcher(_Base):
    """Exhaustive (or FLANN) descriptor matching with ratio test and mutual best."""

    name = "bf"
    default_conf: ClassVar[dict[str, Any]] = {
        "ratio": 0.8,  # Lowe's ratio test: best < ratio * second best
        "mutual": True,  # keep a match only if each is the other's best
        "algorithm": "exact",  # exact (BLAS blocks) | flann (approximate, for very large sets)
        "flann_trees": 4,  # kd-trees (L2) of the FLANN index
        "flann_checks": 64,  # leaves FLANN visits per query
    }

    def _check(self) -> None:
        positive(self.params, "ratio", "flann_trees", "flann_checks")
        if self.params["algorithm"] not in ("exact", "flann"):
            raise ValueError(f"algorithm must be 'exact' or 'flann', got {self.params['algorithm']!r}")

    def match(self, a: MatchSide, b: MatchSide) -> Matches:
        """Match ``a`` against ``b`` in descriptor space (positions are not used)."""
        method = "ungated" if a.xyz is not None and b.xyz is not None else "image"
        if len(a) == 0 or len(b) == 0:
            return Matches.empty(method)
        if self.params["algorithm"] == "flann":
            nearest = _flann(a.descriptors, b.descriptors, self.params)
        else:
            nearest = exact_nearest(a.descriptors, b.descriptors)
        index, distance, ratio = select(nearest, float(self.params["ratio"]), bool(self.params["mutual"]))
        return Matches(index, distance, ratio, method, {"candidates_per_keypoint": float(len(b))})


def exact_nearest(a: Descriptors, b: Descriptors) -> Nearest:
    """:class:`Nearest` by exhaustive comparison, block by block."""
    na, nb = len(a), len(b)
    best = np.full(na, -1, np.intp)
    d1 = np.full(na, np.inf, np.float32)
    d2 = np.full(na, np.inf, np.float32)
    col_best = np.full(nb, np.inf, np.float32)
    reverse = np.full(nb, -1, np.intp)
    block = max(1, BLOCK_BYTES // (4 * nb))
    for start in range(0, na, block):
        rows = slice(start, min(start + block, na))
        dist = a.dense(b, rows)
        n = dist.shape[0]
        arg = np.argmin(dist, axis=0)
        low = dist[arg, np.arange(nb)]
        better = low < col_best
        col_best[better] = low[better]
        reverse[better] = arg[better] + start
        arg = np.argmin(dist, axis=1)
        best[rows] = arg
        d1[rows] = dist[np.arange(n), arg]
        if nb > 1:
            dist[np.arange(n), arg] = np.inf
            d2[rows] = dist.min(axis=1)
    return Nearest(best, d1, d2, reverse)


def _knn(index_data: np.ndarray, query: np.ndarray, k: int, params: dict[str, Any], binary: bool):
    import cv2  # here: validating parameters must not load OpenCV

    if binary:
        index_params = {"algorithm": _FLANN_LSH, "table_number": 6, "key_size": 12, "multi_probe_level": 1}
    else:
        index_params = {"algorithm": _FLANN_KDTREE, "trees": int(params["flann_trees"])}
        index_data, query = index_data.astype(np.float32), query.astype(np.float32)
    try:
        index = cv2.flann_Index(index_data, index_params)
        found, _ = index.knnSearch(query, k, params={"checks": int(params["flann_checks"])})
    except cv2.error as exc:
        raise MatchingError(f"FLANN matching failed: {exc}") from None
    found = np.asarray(found, dtype=np.intp).reshape(len(query), k)
    found[(found < 0) | (found >= len(index_data))] = -1
    return found


def _flann(a: Descriptors, b: Descriptors, params: dict[str, Any]) -> Nearest:
    """:class:`Nearest` from FLANN's two nearest each way; distances recomputed exactly."""
    binary = a.norm == "hamming"
    k = 2 if len(b) > 1 else 1
    fwd = _knn(b.data, a.data, k, params, binary)
    rev = _knn(a.data, b.data, 1, params, binary)[:, 0]
    rows = np.arange(len(a))

    def dist(col: np.ndarray) -> np.ndarray:
        out = np.full(len(a), np.inf, np.float32)
        ok = col >= 0
        out[ok] = a.pairs(b, rows[ok], col[ok])
        return out

    first = dist(fwd[:, 0])
    second = dist(fwd[:, 1]) if k == 2 else np.full(len(a), np.inf, np.float32)
    swap = second < first  # approximate search may return them out of order
    best = np.where(swap, fwd[:, -1], fwd[:, 0])
    d1, d2 = np.minimum(first, second), np.maximum(first, second)
    d2 = np.where(np.isfinite(d1), d2, np.inf).astype(np.float32)
    return Nearest(best, d1.astype(np.float32), d2, rev)
