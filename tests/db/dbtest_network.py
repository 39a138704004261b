"""Rows of the network tables for the database tests (no files needed)."""

from __future__ import annotations

import numpy as np

from tiepoint.db.network import NewNetwork, PairInputs


def empty_pairs() -> PairInputs:
    return PairInputs(np.empty(0, np.int64), [], np.empty(0, np.int64), np.empty(0, np.int64), [], [])


def network_rows(
    points: list[list[tuple[int, int]]], reference: list[int] | None = None, **extra
) -> NewNetwork:
    """New points given as lists of (image id, keypoint row); reference: index within each point."""
    owner = np.concatenate([np.full(len(p), k) for k, p in enumerate(points)]).astype(np.int64)
    flat = [m for p in points for m in p]
    image = np.array([m[0] for m in flat], dtype=np.int64)
    keypoint = np.array([m[1] for m in flat], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum([len(p) for p in points])[:-1]])
    ref = starts + np.asarray(reference if reference is not None else [0] * len(points))
    n, m = len(points), len(flat)
    return NewNetwork(
        apriori=np.tile([3396190.0, 0.0, 0.0], (n, 1)),
        apriori_method=np.array(["rays"] * n, dtype=object),
        height_m=np.zeros(n),
        convergence_deg=np.full(n, 10.0),
        ray_rms_m=np.ones(n),
        spread_m=np.ones(n),
        lon=np.linspace(10.1, 10.9, n),
        lat=np.linspace(-0.5, 0.5, n),
        reference=ref.astype(np.int64),
        new_point=owner,
        point_row=np.full(m, -1, np.int64),
        image=image,
        keypoint=keypoint,
        x=keypoint * 1.5,
        y=keypoint * 2.5,
        emission_deg=np.full(m, 5.0),
        resolution_m=extra.get("resolution", np.full(m, 6.0)),
    )
