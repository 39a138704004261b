"""Helpers of the matching tests: the synthetic CTX data set and its truth (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

G02, N06 = "G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop"
B10, K12, N12 = (
    "B10_013615_2178_XI_37N117W.crop",
    "K12_058001_2177_XI_37N117W.crop",
    "N12_067021_2177_XN_37N117W.crop",
)
OVERLAPPING = [(G02, N06), (B10, N12), (K12, N12)]
DISJOINT = (B10, K12)  # same area, but the crops do not overlap (their cameras say so)
SIZE = 800
ERROR_M = 300.0


@dataclass
class Rendered:
    folder: Path
    results: dict  # name -> SynthResult

    def cube(self, name: str) -> Path:
        return self.results[name].cube

    def truth(self, name: str) -> Path:
        return self.results[name].truth


def truth_errors(ctx: Rendered, a: str, b: str, x_a, y_a, x_b, y_b) -> np.ndarray:
    """Distance (px in image b) of each matched keypoint of b from the true correspondence of a's."""
    from tiepoint.synthetic import true_correspondence

    tx, ty = true_correspondence(ctx.truth(a), ctx.truth(b), x_a, y_a)
    return np.hypot(tx - x_b, ty - y_b)


def true_pairs(ctx: Rendered, a: str, b: str, kp_a: Path, kp_b: Path, tolerance: float = 1.0) -> set:
    """(row a, row b) of keypoints of a whose true correspondence has a keypoint of b within
    ``tolerance`` px: what an ideal matcher could find."""
    from tiepoint.features import read_positions
    from tiepoint.synthetic import true_correspondence

    xa, ya, _ = read_positions(kp_a)
    xb, yb, _ = read_positions(kp_b)
    tx, ty = true_correspondence(ctx.truth(a), ctx.truth(b), xa, ya)
    ok = np.isfinite(tx) & (tx > 0) & (ty > 0) & (tx < SIZE - 1) & (ty < SIZE - 1)
    dist, nn = cKDTree(np.column_stack([xb, yb])).query(np.column_stack([tx[ok], ty[ok]]))
    rows = np.flatnonzero(ok)
    return {(int(i), int(j)) for i, j, d in zip(rows, nn, dist, strict=True) if d < tolerance}
