"""Ratio test and mutual best, vectorized, shared by every matcher.

A matcher reduces its distances to a :class:`Nearest`: for each query descriptor the best and second
best candidate distance and the best candidate, and for each candidate its best query. The gated
matcher builds it from a flat list of candidate pairs (:func:`nearest_from_pairs`), brute force from
dense blocks; :func:`select` then keeps the queries that pass Lowe's ratio test and, if asked, are
their best candidate's best query too (mutual best, COLMAP's cross-check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class Nearest:
    """Nearest neighbours in descriptor space, both ways; -1 / inf where there is none."""

    best: np.ndarray
    """(n_query,) intp: the best candidate of each query."""
    d1: np.ndarray
    """(n_query,) float32: its distance."""
    d2: np.ndarray
    """(n_query,) float32: the second-best candidate's distance (inf with one candidate)."""
    reverse: np.ndarray
    """(n_candidate,) intp: the best query of each candidate, among the queries it was compared with."""


DENSE_SHARE = 0.02
"""Pairs filling at least this share of the (query x candidate) matrix are reduced as a dense matrix
(a few passes of argmin) rather than sorted: the gated matcher's pilot, ~500 x 20,000 with 12 %."""
DENSE_MAX_BYTES = 256 * 2**20


def _nearest_dense(query, candidate, distance, n_query: int, n_candidate: int) -> Nearest:
    dist = np.full((n_query, n_candidate), np.inf, np.float32)
    dist[query, candidate] = distance
    rows = np.arange(n_query)
    reverse = np.argmin(dist, axis=0)
    reverse = np.where(np.isfinite(dist[reverse, np.arange(n_candidate)]), reverse, -1)
    best = np.argmin(dist, axis=1)
    d1 = dist[rows, best].copy()
    dist[rows, best] = np.inf
    d2 = dist.min(axis=1) if n_candidate > 1 else np.full(n_query, np.inf, np.float32)
    best = np.where(np.isfinite(d1), best, -1)
    return Nearest(best.astype(np.intp), d1, d2.astype(np.float32), reverse.astype(np.intp))


def _group_order(group: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Order by group, then distance, then input position: one float64 argsort of ``group + d / 2 dmax``
    (a three-key lexsort takes ~10x longer on the pilot's million pairs). Distances closer than
    ~1e-9 of the largest one count as equal."""
    dmax = float(distance.max()) if len(distance) else 0.0
    scale = 0.5 / dmax if dmax > 0 else 0.0
    key = group.astype(np.float64) + distance.astype(np.float64) * scale
    return np.argsort(key, kind="stable")


def _first_of_groups(keys: np.ndarray) -> np.ndarray:
    """Positions in a sorted key array where a new key starts."""
    start = np.ones(len(keys), bool)
    start[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(start)


def nearest_from_pairs(
    query: np.ndarray, candidate: np.ndarray, distance: np.ndarray, n_query: int, n_candidate: int
) -> Nearest:
    """:class:`Nearest` from flat candidate pairs ``(query[k], candidate[k], distance[k])``.

    Each pair must appear once. Ties are broken by the order of the pairs.
    """
    best = np.full(n_query, -1, np.intp)
    d1 = np.full(n_query, np.inf, np.float32)
    d2 = np.full(n_query, np.inf, np.float32)
    reverse = np.full(n_candidate, -1, np.intp)
    if len(query) == 0:
        return Nearest(best, d1, d2, reverse)
    cells = n_query * n_candidate
    if len(query) >= DENSE_SHARE * cells and cells * 4 <= DENSE_MAX_BYTES:
        return _nearest_dense(query, candidate, distance, n_query, n_candidate)
    order = _group_order(query, distance)
    q, c, d = query[order], candidate[order], distance[order]
    first = _first_of_groups(q)
    best[q[first]] = c[first]
    d1[q[first]] = d[first]
    nxt = np.minimum(first + 1, len(q) - 1)
    has_second = (first + 1 < len(q)) & (q[nxt] == q[first])
    d2[q[first[has_second]]] = d[nxt[has_second]]
    order = _group_order(candidate, distance)
    q, c = query[order], candidate[order]
    first = _first_of_groups(c)
    reverse[c[first]] = q[first]
    return Nearest(best, d1, d2, reverse)


def select(nearest: Nearest, ratio: float, mutual: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches that pass the ratio test (``d1 < ratio * d2``) and, if ``mutual``, the mutual check.

    Returns
    -------
    index : ndarray of int32, shape (N, 2)
        (query, candidate) pairs, by increasing query.
    distance, ratio : ndarray of float32, shape (N,)
        Best distance and ``d1 / d2`` (0 when there was a single candidate).
    """
    has = nearest.best >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isinf(nearest.d2), 0.0, nearest.d1 / nearest.d2)
    r = np.where(np.isnan(r), 1.0, r).astype(np.float32)  # 0 / 0: two identical candidates
    keep = has & (nearest.d1 < ratio * nearest.d2)
    if mutual:
        rev = np.where(has, nearest.reverse[np.maximum(nearest.best, 0)], -1)
        keep &= rev == np.arange(len(nearest.best))
    q = np.flatnonzero(keep)
    index = np.column_stack([q, nearest.best[q]]).astype(np.int32).reshape(-1, 2)
    return index, nearest.d1[q], r[q]
