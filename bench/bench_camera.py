"""Benchmark tiepoint.camera's line-scan model on the real CTX ISDs: vectorized vs a per-point loop.

Usage: ``python bench/bench_camera.py [ISD ...] [--points N] [--loop-points M] [--repeats R]``
(default: every ISD in ``$TIEPOINT_SHARED/data/isd/ctx``, ``../shared`` unless set). One thread. For
each ISD it prints the vectorized points/s of ``image_to_ground`` and ``ground_to_image`` (best of R
interleaved repeats), the same model called point by point (the same-run baseline) and the speed-up,
then the median over the ISDs against the bar of issue 17: USGSCSM's C++ library (-O3), one core, on
these ISDs, about 3.5 M ``imageToGround`` and 1.0 M ``groundToImage`` points/s measured on this kind
of machine. C++ numbers move with the machine's load; the same-run loop baseline does not.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tiepoint.camera as cam  # noqa: E402

SHARED = Path(os.environ.get("TIEPOINT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CTX = SHARED / "data/isd/ctx"
CXX_BAR = {"image_to_ground": 3.5e6, "ground_to_image": 1.0e6}
"""USGSCSM C++ points/s per core on the CTX ISDs (issue 17): the bar to meet."""


def import_seconds() -> float:
    """Wall time of ``import tiepoint.camera`` in a fresh interpreter, less that of ``import numpy``."""

    def run(stmt: str) -> float:
        code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout)

    both = min(run("import numpy, tiepoint.camera") for _ in range(3))
    return both - min(run("import numpy") for _ in range(3))


def bench_isd(path: Path, n: int, m: int, repeats: int) -> dict[str, float]:
    """Points/s of both directions on one ISD, vectorized and point by point."""
    t0 = time.perf_counter()
    model = cam.from_isd(path)
    build = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    lines = rng.uniform(0, model.image_lines, n)
    samples = rng.uniform(0, model.image_samples, n)
    ground = model.image_to_ground(lines, samples)
    i2g, g2i = [], []
    for _ in range(repeats):  # interleaved, so a burst of load hits both alike
        t0 = time.perf_counter()
        model.image_to_ground(lines, samples)
        i2g.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.ground_to_image(ground)
        g2i.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(m):
        model.image_to_ground(lines[i], samples[i])
    i2g_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(m):
        model.ground_to_image(ground[i : i + 1])
    g2i_loop = time.perf_counter() - t0
    back_l, back_s = model.ground_to_image(ground)
    return {
        "image_to_ground": n / min(i2g),
        "ground_to_image": n / min(g2i),
        "image_to_ground loop": m / i2g_loop,
        "ground_to_image loop": m / g2i_loop,
        "error": float(max(np.abs(back_l - lines).max(), np.abs(back_s - samples).max())),
        "build": build,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("isd", nargs="*", help="ISD files (default: shared/data/isd/ctx/*.json)")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--loop-points", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    paths = [Path(p) for p in args.isd] or sorted(CTX.glob("*.json"))
    if not paths:
        parser.error(f"no ISD given and none in {CTX} (set TIEPOINT_SHARED)")

    imported = import_seconds() * 1e3
    print(f"import tiepoint.camera: {imported:.0f} ms beyond numpy (pure numpy: nothing compiled)")
    print(f"points: {args.points} vectorized (best of {args.repeats}), {args.loop_points} point by point")
    head = f"{'ISD':<44}{'build s':>8}{'i2g pts/s':>12}{'loop':>9}{'x':>6}"
    print(head + f"{'g2i pts/s':>12}{'loop':>9}{'x':>6}{'err px':>9}")
    rows = []
    for path in paths:
        r = bench_isd(path, args.points, args.loop_points, args.repeats)
        rows.append(r)
        print(
            f"{path.stem:<44}{r['build']:>8.2f}"
            f"{r['image_to_ground']:>12,.0f}{r['image_to_ground loop']:>9,.0f}"
            f"{r['image_to_ground'] / r['image_to_ground loop']:>5.0f}x"
            f"{r['ground_to_image']:>12,.0f}{r['ground_to_image loop']:>9,.0f}"
            f"{r['ground_to_image'] / r['ground_to_image loop']:>5.0f}x{r['error']:>9.1e}"
        )
    print()
    for name, bar in CXX_BAR.items():
        med = float(np.median([r[name] for r in rows]))
        loop = float(np.median([r[f"{name} loop"] for r in rows]))
        print(
            f"{name}: median {med:,.0f} pts/s = {med / loop:.0f}x the same-run per-point loop, "
            f"{med / bar:.2f}x USGSCSM C++ ({bar:,.0f} pts/s)"
        )


if __name__ == "__main__":
    main()
