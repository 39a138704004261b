"""Benchmark: footprint time per image (goal <= 20 ms for a CTX ISD) and keypoint ground throughput.

Run: ``.venv/bin/python bench/bench_footprint.py [--repeat N]``. Baselines measured in the same run:
one ``image_to_ground`` call on as many points as the footprint's ring (the least work any footprint
needs), and a bare ``image_to_ground`` of the 100k keypoints.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from tiepoint.camera import from_isd
from tiepoint.footprint import compute_footprint, keypoint_ground

SHARED = Path(os.environ.get("TIEPOINT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
CTX = SHARED / "data" / "isd" / "ctx"


def best_of(fn, repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keypoints", type=int, default=100_000)
    args = parser.parse_args()

    header = f"{'image':45s} {'size':>11s} {'ring':>5s} {'footprint ms':>12s} {'baseline ms':>11s}"
    print(f"{header} {'ratio':>6s}")
    for path in sorted(CTX.glob("*.json")):
        cam = from_isd(path)
        result = compute_footprint(cam)
        ring = result.boundary.image
        t_fp = best_of(lambda cam=cam: compute_footprint(cam), args.repeat)
        t_base = best_of(lambda cam=cam, ring=ring: cam.image_to_ground(ring[:, 0], ring[:, 1]), args.repeat)
        size = f"{cam.image_lines}x{cam.image_samples}"
        print(f"{path.stem:45s} {size:>11s} {len(ring):5d} {t_fp * 1e3:12.2f} {t_base * 1e3:11.2f} "
              f"{t_fp / t_base:6.1f}")  # fmt: skip

    cam = from_isd(CTX / "G02_019154_1800_XN_00N133W.ellipsoid.crop.json")
    rng = np.random.default_rng(0)
    lines = rng.uniform(0, cam.image_lines, args.keypoints)
    samples = rng.uniform(0, cam.image_samples, args.keypoints)
    t_kp = best_of(lambda: keypoint_ground(cam, lines, samples), max(1, args.repeat // 2))
    t_raw = best_of(lambda: cam.image_to_ground(lines, samples), max(1, args.repeat // 2))
    print()
    header = f"{'keypoints':>10s} {'keypoint_ground s':>18s} {'points/s':>12s} {'image_to_ground s':>18s}"
    print(f"{header} {'ratio':>6s}")
    rate = args.keypoints / t_kp
    print(f"{args.keypoints:10d} {t_kp:18.3f} {rate:12.3g} {t_raw:18.3f} {t_kp / t_raw:6.2f}")


if __name__ == "__main__":
    main()
