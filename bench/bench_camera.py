"""Benchmark tiepoint.camera on a real CTX ISD: vectorized vs a per-point Python loop (same model, same run).

Usage: ``python bench/bench_camera.py [ISD] [--points N] [--loop-points M]``. Prints points/s and the
speed-up. Goals: line-scan image_to_ground >= 500k points/s on one core and >= 100x the loop;
ground_to_image >= 100k points/s.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tiepoint.camera as cam  # noqa: E402

DEFAULT_ISD = (
    Path(__file__).resolve().parents[2] / "shared/data/isd/ctx/G02_019154_1800_XN_00N133W.ellipsoid.crop.json"
)


def best_of(fn, repeats: int = 3) -> float:
    """Fastest wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("isd", nargs="?", default=str(DEFAULT_ISD))
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--loop-points", type=int, default=2_000)
    args = parser.parse_args()

    model = cam.from_isd(args.isd)
    rng = np.random.default_rng(0)
    n, m = args.points, args.loop_points
    lines = rng.uniform(0, model.image_lines, n)
    samples = rng.uniform(0, model.image_samples, n)
    ground = model.image_to_ground(lines, samples)

    t_i2g = best_of(lambda: model.image_to_ground(lines, samples))
    t_g2i = best_of(lambda: model.ground_to_image(ground))
    t_i2g_loop = best_of(lambda: [model.image_to_ground(lines[i], samples[i]) for i in range(m)], 1)
    t_g2i_loop = best_of(lambda: [model.ground_to_image(ground[i : i + 1]) for i in range(m)], 1)

    back_l, back_s = model.ground_to_image(ground)
    err = max(np.abs(back_l - lines).max(), np.abs(back_s - samples).max())

    rows = [
        ("image_to_ground", n / t_i2g, m / t_i2g_loop, 500_000),
        ("ground_to_image", n / t_g2i, m / t_g2i_loop, 100_000),
    ]
    print(f"model: {model.model_name} {model.image_lines}x{model.image_samples} ({Path(args.isd).name})")
    print(f"points: {n} vectorized, {m} in the per-point loop; round-trip max error {err:.2e} px")
    print(f"{'operation':<18}{'vectorized pts/s':>18}{'loop pts/s':>14}{'speed-up':>10}{'goal pts/s':>12}")
    for name, vec, loop, goal in rows:
        print(f"{name:<18}{vec:>18,.0f}{loop:>14,.0f}{vec / loop:>9.0f}x{goal:>12,}")


if __name__ == "__main__":
    main()
