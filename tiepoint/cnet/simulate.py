"""Random control networks with every field in use, for tests and benchmarks.

:func:`random_network` draws a network the way a CTX tie-point run could look: points with 2 to 6
measures (some with none), serial numbers from a pool of images, a-priori and adjusted ground
points on a Mars-sized sphere, covariances for constrained points, correlation logs on measures,
and every optional field sometimes unset, so that codecs are exercised on presence as well as values.
"""

from __future__ import annotations

import numpy as np

from tiepoint.cnet.model import ControlNetwork, LogTable, NetworkHeader, Strings
from tiepoint.cnet.schema import LOG_FIELDS, MEASURE_FIELDS, POINT_FIELDS, UNSET, empty_column

MARS_RADIUS_M = 3_396_190.0


def _maybe(rng: np.random.Generator, n: int, p: float, values: np.ndarray, unset) -> np.ndarray:
    out = np.asarray(values).copy()
    out[rng.random(n) >= p] = unset
    return out


def _strings(rng: np.random.Generator, n: int, p: float, pool: list[str]) -> Strings:
    codes = rng.integers(0, len(pool), n).astype(np.int32)
    codes[rng.random(n) >= p] = UNSET
    return Strings(codes, np.array(pool, dtype=object))


def random_network(
    n_measures: int, seed: int = 0, n_images: int = 500, empty_points: float = 0.01
) -> ControlNetwork:
    """A random network with about *n_measures* measures (exactly, when no point is empty).

    Parameters
    ----------
    n_measures : int
        Total number of measures.
    seed : int
        Random seed (the network is a function of the arguments).
    n_images : int
        Size of the serial-number pool.
    empty_points : float
        Fraction of extra points with no measures (valid in ISIS; seedgrid writes them).
    """
    rng = np.random.default_rng(seed)
    counts = []
    total = 0
    while total < n_measures:
        c = rng.integers(2, 7, max(16, (n_measures - total) // 3))
        csum = np.cumsum(c)
        c = c[csum <= n_measures - total]
        if not c.size:
            c = np.array([n_measures - total])
        counts.append(c)
        total += int(c.sum())
    counts_arr = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    n_empty = round(empty_points * counts_arr.size)
    counts_arr = np.insert(counts_arr, rng.integers(0, counts_arr.size + 1, n_empty), 0)
    n_p = counts_arr.size
    offsets = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(counts_arr, out=offsets[1:])
    n_m = int(offsets[-1])

    p: dict[str, object] = {f.name: empty_column(f.kind, n_p) for f in POINT_FIELDS if f.kind != "str"}
    p["id"] = np.array([f"tp_{seed}_{i:08d}" for i in range(n_p)], dtype=object)
    p["type"] = rng.choice(np.array([2, 2, 2, 3, 4], dtype=np.int8), n_p)
    p["chooser_name"] = _strings(rng, n_p, 0.9, ["tiepoint", "pointreg", "jigsaw"])
    p["datetime"] = _strings(rng, n_p, 0.9, [f"2026-11-{d:02d}T12:00:{d:02d}" for d in range(1, 29)])
    p["edit_lock"] = _maybe(rng, n_p, 0.05, np.ones(n_p, np.int8), UNSET)
    p["ignore"] = _maybe(rng, n_p, 0.1, rng.integers(0, 2, n_p).astype(np.int8), UNSET)
    p["jigsaw_rejected"] = _maybe(rng, n_p, 0.02, np.ones(n_p, np.int8), UNSET)
    ref = (rng.random(n_p) * np.maximum(counts_arr, 1)).astype(np.int32)
    ref[(counts_arr == 0) | (rng.random(n_p) < 0.2)] = UNSET
    p["reference_index"] = ref
    p["apriori_surf_source"] = _maybe(rng, n_p, 0.8, rng.choice(np.array([2, 6, 7], np.int8), n_p), UNSET)
    p["apriori_radius_source"] = _maybe(rng, n_p, 0.8, rng.choice(np.array([2, 5, 7], np.int8), n_p), UNSET)
    p["apriori_surf_source_file"] = _strings(rng, n_p, 0.05, ["$base/basemap.cub"])
    p["apriori_radius_source_file"] = _strings(rng, n_p, 0.05, ["$base/dems/mola.cub"])
    lat = np.arcsin(rng.uniform(-1, 1, n_p))
    lon = rng.uniform(0, 2 * np.pi, n_p)
    xyz = MARS_RADIUS_M * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)
    has_apriori = rng.random(n_p) < 0.9
    has_adjusted = rng.random(n_p) < 0.5
    for k, axis in enumerate("xyz"):
        p[f"apriori_{axis}"] = np.where(has_apriori, xyz[:, k], np.nan)
        p[f"adjusted_{axis}"] = np.where(has_adjusted, xyz[:, k] + rng.normal(0, 50, n_p), np.nan)
    constrained = has_apriori & (p["type"] != 2)
    covar = np.abs(rng.normal(100.0, 30.0, (n_p, 6)))
    p["apriori_covar"] = np.where(constrained[:, None], covar, np.nan)
    p["adjusted_covar"] = np.where(has_adjusted[:, None], covar * 0.5, np.nan)
    for axis in ("latitude", "longitude", "radius"):
        p[f"{axis}_constrained"] = np.where(constrained, 1, UNSET).astype(np.int8)

    m: dict[str, object] = {f.name: empty_column(f.kind, n_m) for f in MEASURE_FIELDS if f.kind != "str"}
    images = [f"MRO/CTX/{1_000_000_000 + 97_531 * k}:{k % 256:03d}" for k in range(n_images)]
    m["serial"] = Strings(rng.integers(0, n_images, n_m).astype(np.int32), np.array(images, dtype=object))
    m["type"] = rng.choice(np.array([0, 1, 2, 3, 3, 3], dtype=np.int8), n_m)
    m["sample"] = rng.uniform(1, 5000, n_m)
    m["line"] = rng.uniform(1, 20000, n_m)
    m["sample_residual"] = _maybe(rng, n_m, 0.5, rng.normal(0, 0.3, n_m), np.nan)
    m["line_residual"] = np.where(np.isnan(m["sample_residual"]), np.nan, rng.normal(0, 0.3, n_m))
    m["chooser_name"] = _strings(rng, n_m, 0.95, ["tiepoint", "pointreg", "jigsaw", "qnet"])
    m["datetime"] = _strings(rng, n_m, 0.9, [f"2026-11-{d:02d}T13:14:{d:02d}" for d in range(1, 29)])
    m["edit_lock"] = _maybe(rng, n_m, 0.02, np.ones(n_m, np.int8), UNSET)
    m["ignore"] = _maybe(rng, n_m, 0.05, np.ones(n_m, np.int8), UNSET)
    m["jigsaw_rejected"] = _maybe(rng, n_m, 0.01, np.ones(n_m, np.int8), UNSET)
    m["diameter"] = _maybe(rng, n_m, 0.01, rng.uniform(10, 1000, n_m), np.nan)
    m["apriori_sample"] = _maybe(rng, n_m, 0.8, m["sample"] + rng.normal(0, 2, n_m), np.nan)
    m["apriori_line"] = np.where(np.isnan(m["apriori_sample"]), np.nan, m["line"] + rng.normal(0, 2, n_m))
    m["sample_sigma"] = _maybe(rng, n_m, 0.3, rng.uniform(0.1, 1, n_m), np.nan)
    m["line_sigma"] = np.where(np.isnan(m["sample_sigma"]), np.nan, rng.uniform(0.1, 1, n_m))

    per_measure = rng.choice(np.array([0, 1, 2, 2, 3]), n_m)
    owner = np.repeat(np.arange(n_m), per_measure)
    n_logs = owner.size
    log_cols = {f.name: empty_column(f.kind, n_logs) for f in LOG_FIELDS}
    log_cols["double_type"] = rng.choice(np.array([2, 6, 7], dtype=np.int32), n_logs)
    log_cols["double_value"] = rng.uniform(0.5, 1.0, n_logs)
    odd = rng.random(n_logs) < 0.001  # a few entries with the boolean fields instead
    log_cols["double_type"][odd], log_cols["double_value"][odd] = UNSET, np.nan
    log_cols["bool_type"][odd], log_cols["bool_value"][odd] = 3, rng.integers(0, 2, int(odd.sum()))
    measure_logs = LogTable.from_entries(n_m, owner, **log_cols)
    p_owner = np.flatnonzero(rng.random(n_p) < 0.02)
    point_logs = LogTable.from_entries(
        n_p,
        p_owner,
        double_type=np.full(p_owner.size, UNSET, np.int32),
        double_value=np.full(p_owner.size, np.nan),
        bool_type=np.full(p_owner.size, 1, np.int32),
        bool_value=np.ones(p_owner.size, np.int8),
    )
    header = NetworkHeader(
        network_id=f"simulated-{seed}",
        target_name="Mars",
        created="2026-11-29T12:00:00",
        last_modified="2026-11-29T12:30:00",
        description="tiepoint simulated network",
        user_name="tiepoint",
        target_radii=(MARS_RADIUS_M, MARS_RADIUS_M, 3_376_200.0),
    )
    return ControlNetwork(header, p, m, offsets, point_logs, measure_logs)
