"""Each image's ground offset (pointing error) relative to its neighbours, from pair matches.

Pure numpy/scipy. The ground positions of one ground point, computed through the a-priori cameras of
different images, differ by the images' pointing errors (hundreds of metres for CTX). Estimating
each image's offset from the matches lets :mod:`tiepoint.network.tracks` compare ground positions of
different images at the scale of pixels instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

_OFFSET_CLIP_M = 1.0e6
"""Per-match ground offsets are clipped to this (m) before the per-pair medians."""
_MIN_PAIR_MATCHES = 3
"""Pairs with fewer matches do not take part in estimating the images' ground offsets."""


def image_ground_offsets(
    image_a: np.ndarray, image_b: np.ndarray, ground_a: np.ndarray, ground_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each image's body-fixed ground offset, from the median offsets of its pairs' matches.

    For every image pair, the median (per coordinate) of ``ground_b - ground_a`` over its matches is
    that pair's offset; the offsets ``o`` with ``o[b] - o[a] ~= median(a, b)`` for all pairs with at
    least three matches are then solved in least squares weighted by the square root of the pair's
    match count (the minimum-norm solution: the offsets of each connected group of images average to
    zero), once more without the pairs that fit worse than five robust standard deviations.
    Subtracting ``o[image]`` from a keypoint's ground position removes most
    of the image's pointing error relative to its neighbours. Images in no usable pair get 0.

    Parameters
    ----------
    image_a, image_b : (N,) int
        Image ids of the two ends of each match.
    ground_a, ground_b : (N, 3) float
        Body-fixed ground positions (m) of the two ends; rows must be finite.

    Returns
    -------
    images : (K,) int64
        The distinct image ids, ascending.
    offsets : (K, 3) float64
        Their ground offsets (m).
    """
    ia = np.asarray(image_a, dtype=np.int64)
    ib = np.asarray(image_b, dtype=np.int64)
    images, inv = np.unique(np.concatenate([ia, ib]), return_inverse=True)
    n_img = len(images)
    if len(ia) == 0:
        return images, np.zeros((0, 3))
    a, b = inv[: len(ia)], inv[len(ia) :]
    flip = a > b
    lo, hi = np.where(flip, b, a), np.where(flip, a, b)
    delta = np.asarray(ground_b, dtype=np.float64) - np.asarray(ground_a, dtype=np.float64)
    delta[flip] *= -1.0  # offset of the larger image relative to the smaller one
    pairs, pair_of, counts = np.unique(lo * n_img + hi, return_inverse=True, return_counts=True)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    median_at = start + (counts - 1) // 2  # the lower median of each pair's sorted values
    # One float sort per coordinate orders the matches by pair, then value: pair * span + value.
    span = 4.0 * _OFFSET_CLIP_M
    medians = np.empty((len(pairs), 3))
    for k in range(3):
        ordered = np.sort(pair_of * span + np.clip(delta[:, k], -_OFFSET_CLIP_M, _OFFSET_CLIP_M))
        medians[:, k] = ordered[median_at] - np.arange(len(pairs)) * span
    lo_img, hi_img = pairs // n_img, pairs % n_img
    # pairs with a few matches are unreliable; the least squares is repeated without misfits
    use = counts >= _MIN_PAIR_MATCHES
    offsets = np.zeros((n_img, 3))
    for _ in range(2):
        if not use.any():
            break
        offsets = _solve_offsets(lo_img[use], hi_img[use], medians[use], np.sqrt(counts[use]), n_img)
        misfit = np.linalg.norm(offsets[hi_img] - offsets[lo_img] - medians, axis=1)
        scale = 1.4826 * np.median(misfit[use])
        use &= misfit <= max(5.0 * scale, 1.0)
    return images, offsets


def _solve_offsets(
    lo: np.ndarray, hi: np.ndarray, medians: np.ndarray, weight: np.ndarray, n_img: int
) -> np.ndarray:
    """Minimum-norm weighted least squares of ``o[hi] - o[lo] = medians``.

    The normal equations are a weighted graph Laplacian, singular by one constant per connected group
    of images. One image of each group is held at 0 and the rest is solved by a sparse LU
    factorization (near-linear in the number of images for an archive's overlap graph, where an
    iterative solver needs more iterations the longer the chains of images), then each group is
    shifted to mean zero, which is the minimum-norm solution. Images in no pair get 0.
    """
    k = len(lo)
    rows = np.repeat(np.arange(k), 2)
    cols = np.stack([lo, hi], axis=1).ravel()
    vals = (np.array([-1.0, 1.0])[None, :] * weight[:, None]).ravel()
    design = sp.csr_matrix((vals, (rows, cols)), shape=(k, n_img))
    normal = (design.T @ design).tocsc()
    rhs = np.asarray(design.T @ (medians * weight[:, None]))
    n_groups, group = connected_components(normal, directed=False)
    anchor = np.zeros(n_img, dtype=bool)
    anchor[np.unique(group, return_index=True)[1]] = True  # the first image of each group
    free = np.flatnonzero(~anchor)
    offsets = np.zeros((n_img, 3))
    if len(free):
        offsets[free] = splu(normal[free][:, free].tocsc()).solve(rhs[free])
    sizes = np.bincount(group, minlength=n_groups)
    for j in range(3):
        offsets[:, j] -= (np.bincount(group, weights=offsets[:, j], minlength=n_groups) / sizes)[group]
    return offsets


__all__ = ["image_ground_offsets"]
