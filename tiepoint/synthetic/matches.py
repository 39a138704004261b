"""Simulated pair matches with known multi-image points, for testing and benchmarking tracks.

:func:`simulate_matches` lays ground points along a strip of overlapping images (image ``i`` sees
the ground of images ``i .. i + neighbours - 1``), gives each point a random set of images, numbers
the keypoints of every image, and emits every pair of a point's measures as a match (optionally only
a fraction of them), plus optional wrong matches between keypoints of different points. Ground
positions carry each image's pointing offset and per-keypoint noise, as keypoint files would.
Everything is vectorized, so ten million matches take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARS_RADIUS_M = 3396190.0


@dataclass(frozen=True, slots=True)
class SimulatedMatches:
    """Matches (``image_a .. ground_b``, one row per match) and the truth behind them."""

    image_a: np.ndarray
    kp_a: np.ndarray
    image_b: np.ndarray
    kp_b: np.ndarray
    score: np.ndarray
    """Lower is better: correct matches in [0, 0.6), wrong ones in [0.3, 0.8)."""
    ground_a: np.ndarray
    ground_b: np.ndarray
    wrong: np.ndarray
    """(N,) bool: the match joins keypoints of two different points."""
    point: np.ndarray
    """(M,) true point of each keypoint ``(image[i], keypoint[i])``."""
    image: np.ndarray
    keypoint: np.ndarray
    xyz: np.ndarray
    """(P, 3) true ground position of each point (m, body-fixed)."""
    image_offset: np.ndarray
    """(n_images, 3) pointing offset added to the ground positions of each image's keypoints (m)."""


def simulate_matches(
    n_points: int,
    *,
    n_images: int = 100,
    depth: tuple[int, int] = (2, 6),
    neighbours: int = 6,
    keep: float = 1.0,
    wrong: float = 0.0,
    wrong_distance_m: float | None = None,
    offset_m: float = 300.0,
    noise_m: float = 3.0,
    spacing_m: float = 20.0,
    seed: int = 0,
) -> SimulatedMatches:
    """Simulate the verified matches of a network whose points are known.

    Parameters
    ----------
    n_points : int
        Ground points.
    n_images : int
        Images along the strip (ids ``0 .. n_images - 1``).
    depth : (int, int)
        Smallest and largest number of images per point (uniform); at most *neighbours*.
    neighbours : int
        A point is seen by images among ``base .. base + neighbours - 1``.
    keep : float
        Fraction of the pairs of each point's measures emitted as matches (1: every pair).
    wrong : float
        Wrong matches to add, as a fraction of the correct ones; each joins a keypoint to a keypoint
        of another point in a different image.
    wrong_distance_m : float, optional
        If given, a wrong match joins points at most this far apart on the ground (their true
        positions), the kind that survives ground-gated matching; otherwise any two points of
        neighbouring images.
    offset_m : float
        Standard deviation of each image's ground offset (pointing error), per axis.
    noise_m : float
        Standard deviation of each keypoint's ground position noise, per axis.
    spacing_m : float
        Mean distance between neighbouring points along the strip.
    seed : int
        Random seed.
    """
    lo_d, hi_d = depth
    if not 2 <= lo_d <= hi_d <= neighbours or neighbours > n_images:
        raise ValueError(
            f"need 2 <= depth[0] <= depth[1] <= neighbours <= n_images, got {depth}, {neighbours}"
        )
    rng = np.random.default_rng(seed)
    d = rng.integers(lo_d, hi_d + 1, n_points)
    base = np.sort(rng.integers(0, n_images - neighbours + 1, n_points))  # points in strip order
    # d distinct images per point: the first d of a random permutation of its neighbourhood
    choice = np.argsort(rng.random((n_points, neighbours)), axis=1)
    take = np.arange(neighbours)[None, :] < d[:, None]
    point = np.repeat(np.arange(n_points), d)
    image = (base[:, None] + choice)[take]
    # keypoint rows: numbered per image in a random order
    order = np.lexsort((rng.random(len(point)), image))
    count = np.bincount(image, minlength=n_images)
    keypoint = np.empty(len(point), np.int64)
    keypoint[order] = np.arange(len(point)) - np.repeat(np.cumsum(count) - count, count)
    # ground: points along a strip near the equator, images offset, keypoints noisy
    along = np.sort(rng.uniform(0, n_points * spacing_m, n_points))
    lon = along / MARS_RADIUS_M
    lat = rng.uniform(-1, 1, n_points) * neighbours * spacing_m / MARS_RADIUS_M
    xyz = MARS_RADIUS_M * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)
    image_offset = rng.normal(0.0, offset_m, (n_images, 3))
    ground = xyz[point] + image_offset[image] + rng.normal(0.0, noise_m, (len(point), 3))
    # correct matches: pairs of measures of each point
    start = np.cumsum(d) - d
    ia, ib = [], []
    for k in range(lo_d, hi_d + 1):
        pts = np.flatnonzero(d == k)
        i, j = np.triu_indices(k, 1)
        ia.append((start[pts, None] + i).ravel())
        ib.append((start[pts, None] + j).ravel())
    ma, mb = np.concatenate(ia), np.concatenate(ib)
    if keep < 1.0:
        sel = rng.random(len(ma)) < keep
        ma, mb = ma[sel], mb[sel]
    n_wrong = round(wrong * len(ma))
    wa, wb = _wrong_partners(rng, n_wrong, point, image, xyz, wrong_distance_m)
    bad = np.concatenate([np.zeros(len(ma), bool), np.ones(len(wa), bool)])
    ma, mb = np.concatenate([ma, wa]), np.concatenate([mb, wb])
    score = np.where(bad, rng.uniform(0.3, 0.8, len(ma)), rng.uniform(0.0, 0.6, len(ma)))
    # shuffle the matches and the direction of each
    perm = rng.permutation(len(ma))
    ma, mb, bad, score = ma[perm], mb[perm], bad[perm], score[perm]
    flip = rng.random(len(ma)) < 0.5
    ma, mb = np.where(flip, mb, ma), np.where(flip, ma, mb)
    return SimulatedMatches(
        image[ma], keypoint[ma], image[mb], keypoint[mb], score, ground[ma], ground[mb], bad,
        point, image, keypoint, xyz, image_offset,
    )  # fmt: skip


def _wrong_partners(
    rng: np.random.Generator,
    n: int,
    point: np.ndarray,
    image: np.ndarray,
    xyz: np.ndarray,
    max_distance_m: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """*n* pairs of measures of different points in different images."""
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    out_a, out_b, have = [], [], 0
    while have < n:
        a = rng.integers(0, len(point), 2 * n)
        # measures are ordered by point, points along the strip: nearby indices are nearby points
        b = np.clip(a + rng.integers(-40, 41, 2 * n), 0, len(point) - 1)
        ok = (point[a] != point[b]) & (image[a] != image[b])
        if max_distance_m is not None:
            ok &= np.linalg.norm(xyz[point[a]] - xyz[point[b]], axis=1) <= max_distance_m
        out_a.append(a[ok])
        out_b.append(b[ok])
        have += int(ok.sum())
    return np.concatenate(out_a)[:n], np.concatenate(out_b)[:n]


__all__ = ["SimulatedMatches", "simulate_matches"]
