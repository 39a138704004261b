"""Benchmark tiepoint.synthetic: rendering speed and memory on real CTX geometry (same run baselines).

Usage: ``python bench/bench_synthetic.py [--size N] [--big LINESxSAMPLES]``. Prints, for an N x N
render of the G02 crop geometry: megapixels/s with the camera evaluated every 8 pixels (the default)
versus at every pixel (the baseline), the texture's share of the time, and a streamed CTX-size cube
(default 7168 x 5000, the full G02 image) written with ``synthesize``: seconds and peak memory.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tiepoint.camera import from_isd  # noqa: E402
from tiepoint.synthetic import GroundTexture, load_isd, render, rescale_isd, synthesize  # noqa: E402
from tiepoint.synthetic.render import ground_grid, interpolate_ground  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tiepoint" / "synthetic" / "data" / "ctx"
ISD = DATA / "G02_019154_1800_XN_00N133W.crop.json"


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--big", default="7168x5000", help="LINESxSAMPLES of the streamed cube; 0 skips")
    args = parser.parse_args()
    big = None
    if args.big and args.big != "0":  # first, so the peak memory is this run's
        lines, samples = (int(v) for v in args.big.lower().split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            res = synthesize(ISD, tmp, lines=lines, samples=samples)
            rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            size = res.cube.stat().st_size / 2**20
        big_mpx = lines * samples / 1e6
        big = (
            f"streamed cube {lines} x {samples} ({big_mpx:.1f} Mpx, {size:.0f} MiB UnsignedWord): "
            f"{res.seconds:.1f} s, {big_mpx / res.seconds:.2f} Mpx/s, peak RSS {rss1:.0f} MiB "
            f"(after imports: {rss0:.0f} MiB; the image as float32 alone would be {big_mpx * 4:.0f} MB)"
        )

    n = args.size
    cam = from_isd(rescale_isd(load_isd(ISD), lines=n, samples=n))
    tex = GroundTexture(cam.semimajor)
    mpx = n * n / 1e6
    t_grid8 = timed(lambda: render(cam, tex, grid_step=8))
    t_grid1 = timed(lambda: render(cam, tex, grid_step=1))
    grid = ground_grid(cam, 8)
    xyz = interpolate_ground(grid, 0, n, cam.semimajor, cam.semiminor).reshape(-1, 3)
    sun = cam.sun_position([n / 2])[0] - xyz[len(xyz) // 2]
    sun /= np.linalg.norm(sun)
    t_tex = timed(lambda: tex.shade(xyz, sun, pixel_size=5.0))
    t_cam = timed(lambda: cam.image_to_ground(*(np.indices((n, n)).reshape(2, -1) + 0.5)))

    print(f"render {n} x {n} (G02 crop geometry), one core")
    print(f"{'variant':<42}{'seconds':>9}{'Mpx/s':>8}{'ratio':>7}")
    rows = [
        ("camera at every pixel (baseline)", t_grid1, 1.0),
        ("camera every 8 px, interpolated (default)", t_grid8, t_grid1 / t_grid8),
        ("  texture alone (shade, 1 chunk)", t_tex, None),
        ("  camera alone (image_to_ground, all px)", t_cam, None),
    ]
    for label, sec, ratio in rows:
        r = f"{ratio:>7.2f}" if ratio is not None else ""
        print(f"{label:<42}{sec:>9.2f}{mpx / sec:>8.2f}{r}")
    if big:
        print(big)


if __name__ == "__main__":
    main()
