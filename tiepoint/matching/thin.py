"""Even spatial distribution: keep the best point per grid cell, the cell size chosen for a target count.

:func:`grid_thin` is AutoCNet's spatial suppression (a search over the cell size until about ``k``
points survive, one per cell) without its per-row Python loop: each trial cell size is one
``np.unique`` over integer cell keys, and the size is found by bisection in log space. It serves the
gated matcher (spread pilot keypoints) and the final thinning of verified matches
(:func:`thinning_target` turns a density per km^2 of overlap into a count).
"""

from __future__ import annotations

import numpy as np

_BISECTIONS = 30


def _cell_keys(x: np.ndarray, y: np.ndarray, size: float) -> np.ndarray:
    cx = np.floor(x / size).astype(np.int64)
    cy = np.floor(y / size).astype(np.int64)
    return (cy - cy.min()) * (int(cx.max() - cx.min()) + 1) + (cx - cx.min())


def grid_thin(x: np.ndarray, y: np.ndarray, score: np.ndarray, target: int) -> np.ndarray:
    """Indices of about ``target`` points, at most one per square grid cell, the best of each.

    Parameters
    ----------
    x, y : (N,) arrays
        Positions (any planar unit: pixels, metres).
    score : (N,) array
        Lower is better (e.g. the ratio-test value, or minus the detector response).
    target : int
        How many to keep. The cell size is the one whose occupied cells number closest to
        ``target`` from above; if that is more than ``target``, the best-scored are kept.

    Returns
    -------
    ndarray of intp
        Sorted indices into the inputs; all of them if ``N <= target``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    n = len(x)
    target = int(target)
    if n <= target:
        return np.arange(n)
    if target <= 0:
        return np.empty(0, np.intp)
    x = x - x.min()
    y = y - y.min()
    extent = max(float(x.max()), float(y.max()), 1e-9)
    lo, hi = np.log(extent / (4.0 * np.sqrt(n))), np.log(2.0 * extent)  # hi: one cell
    best_size = np.exp(lo)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        cells = len(np.unique(_cell_keys(x, y, np.exp(mid))))
        if cells >= target:
            lo, best_size = mid, np.exp(mid)
        else:
            hi = mid
    keys = _cell_keys(x, y, best_size)
    order = np.lexsort((score, keys))
    first = np.ones(n, bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    keep = order[first]
    if len(keep) > target:
        keep = keep[np.argsort(score[keep], kind="stable")[:target]]
    return np.sort(keep)


def thinning_target(area_km2: float | None, per_km2: float, max_matches: int) -> int:
    """How many matches to keep: ``per_km2 * area_km2``, at most ``max_matches`` (which alone applies
    when the area is unknown), at least 1."""
    if area_km2 is None or not np.isfinite(area_km2):
        return int(max_matches)
    return int(max(1, min(max_matches, round(per_km2 * area_km2))))
