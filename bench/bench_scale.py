"""Scale rehearsal (plain script; prints tables): how the stages that see the whole archive grow.

No pixels: what grows with the number of images is measured on simulated inputs of CTX size.

1. **Overlap graph**: N simulated CTX footprints (strips ~30 km x 100-200 km, ~10 overlapping
   neighbours each, some split at 0/360 E; ``bench_overlaps.ctx_strips``) written to a GeoPackage,
   then ``Database.update_overlaps`` over all of them.
2. **Points from matches**: N images x ~10 neighbours of simulated verified pair matches with known
   points, 300 m pointing offsets and wrong matches (``tiepoint.synthetic.matches.simulate_matches``),
   made into multi-image points by ``tiepoint.network.build_tracks`` with ground checks.
3. **Control network I/O**: an ISIS V5 network of M measures (``tiepoint.cnet.random_network``)
   written and read back.

Each (stage, size) runs in a fresh process, so its peak RSS (``ru_maxrss``) is its own. The growth
columns are the ratio of time (and memory) to the smallest size's; linear growth from 1k to 10k images
is 10x. Anchors: ISIS findimageoverlaps took 83 h for 5,546 images (ISIS3 #714); the USGS CTX
equatorial mosaic used ~50-70k images and 2.4 M tie points.

Usage: ``python bench/bench_scale.py [--sizes 1000,2000,5000,10000] [--points-per-image 200]
[--measures 1000000,10000000] [--stages overlaps,points,cnet]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_overlaps(n: int) -> dict[str, float]:
    """Write *n* simulated CTX footprints to a GeoPackage and build the overlap graph."""
    from bench_overlaps import ctx_strips, records

    from tiepoint.config import PairsConfig
    from tiepoint.db import Database

    polys = ctx_strips(n, seed=0)
    with tempfile.TemporaryDirectory() as tmp, Database(f"sqlite:///{tmp}/scale.gpkg") as db:
        t0 = time.perf_counter()
        recs = records(polys)
        for start in range(0, n, 2000):
            db.write_images(recs[start : start + 2000])
        t_write = time.perf_counter() - t0
        t0 = time.perf_counter()
        update = db.update_overlaps(None, PairsConfig())
        t_graph = time.perf_counter() - t0
        pairs = sum(db.pair_counts().values())
    return {"write_s": t_write, "graph_s": t_graph, "pairs": pairs, "added": update.added}


def child_points(n: int, points_per_image: int) -> dict[str, float]:
    """Simulated matches of *n* images with ~10 neighbours each, made into points."""
    import numpy as np

    from tiepoint.network import build_tracks
    from tiepoint.synthetic.matches import simulate_matches

    t0 = time.perf_counter()
    sim = simulate_matches(points_per_image * n, n_images=n, neighbours=10, depth=(2, 6), wrong=0.002, seed=1)
    t_sim = time.perf_counter() - t0
    peak_before = _peak_mb()
    t0 = time.perf_counter()
    tracks = build_tracks(
        sim.image_a,
        sim.kp_a,
        sim.image_b,
        sim.kp_b,
        sim.score,
        sim.ground_a,
        sim.ground_b,
        max_spread_m=100.0,
    )
    t_tracks = time.perf_counter() - t0
    return {
        "matches": float(len(sim.image_a)),
        "points": float(int(tracks.point.max()) + 1 if len(tracks.point) else 0),
        "measures": float(len(tracks.point)),
        "simulate_s": t_sim,
        "tracks_s": t_tracks,
        "sim_peak_mb": peak_before,
        "mean_depth": float(np.mean(tracks.depth)) if len(tracks.depth) else 0.0,
    }


def child_cnet(m: int) -> dict[str, float]:
    """Write and read an ISIS V5 network of *m* measures."""
    from tiepoint import cnet

    net = cnet.random_network(m, seed=2, n_images=max(500, m // 1000))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.net"
        t0 = time.perf_counter()
        cnet.write(net, path, version=5)
        t_write = time.perf_counter() - t0
        size = path.stat().st_size
        del net
        t0 = time.perf_counter()
        back = cnet.read(path)
        t_read = time.perf_counter() - t0
        n = len(back.measures.sample)
    return {"measures": float(n), "write_s": t_write, "read_s": t_read, "file_mb": size / 2**20}


def run_child(stage: str, size: int, args: argparse.Namespace) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        stage,
        str(size),
        "--points-per-image",
        str(args.points_per_image),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{stage} {size} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(title: str, rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000", help="image counts")
    parser.add_argument("--points-per-image", type=int, default=200)
    parser.add_argument("--measures", default="1000000,10000000", help="network sizes (measures)")
    parser.add_argument("--stages", default="overlaps,points,cnet")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, size = args.child[0], int(args.child[1])
        if stage == "overlaps":
            result = child_overlaps(size)
        elif stage == "points":
            result = child_points(size, args.points_per_image)
        else:
            result = child_cnet(size)
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    stages = args.stages.split(",")
    print(f"bench_scale: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if "overlaps" in stages:
        res = {n: run_child("overlaps", n, args) for n in sizes}
        base = res[sizes[0]]
        rows = [
            [f"{n:,}", f"{r['pairs']:,.0f}", f"{r['write_s']:.1f}", f"{r['graph_s']:.1f}",
             f"{r['graph_s'] / base['graph_s']:.1f}x", f"{r['peak_mb']:,.0f}",
             f"{r['peak_mb'] / base['peak_mb']:.1f}x"]
            for n, r in res.items()
        ]  # fmt: skip
        header = ["images", "pairs", "write s", "graph s", "growth", "peak MB", "growth"]
        _table("1. overlap graph (GeoPackage; anchor: findimageoverlaps 83 h for 5,546)", rows, header)
    if "points" in stages:
        res = {n: run_child("points", n, args) for n in sizes}
        base = res[sizes[0]]
        rows = [
            [f"{n:,}", f"{r['matches']:,.0f}", f"{r['points']:,.0f}", f"{r['measures']:,.0f}",
             f"{r['mean_depth']:.2f}", f"{r['tracks_s']:.1f}", f"{r['tracks_s'] / base['tracks_s']:.1f}x",
             f"{r['peak_mb']:,.0f}", f"{r['peak_mb'] / base['peak_mb']:.1f}x"]
            for n, r in res.items()
        ]  # fmt: skip
        header = [
            "images",
            "matches",
            "points",
            "measures",
            "depth",
            "tracks s",
            "growth",
            "peak MB",
            "growth",
        ]
        _table(
            f"2. points from matches ({args.points_per_image} points per image, ~10 neighbours)", rows, header
        )
    if "cnet" in stages:
        measures = [int(m) for m in args.measures.split(",")]
        res = {m: run_child("cnet", m, args) for m in measures}
        base = res[measures[0]]
        rows = [
            [f"{m:,}", f"{r['file_mb']:,.0f}", f"{r['write_s']:.1f}", f"{r['measures'] / r['write_s']:,.0f}",
             f"{r['read_s']:.1f}", f"{r['measures'] / r['read_s']:,.0f}", f"{r['peak_mb']:,.0f}",
             f"{r['write_s'] / base['write_s']:.1f}x"]
            for m, r in res.items()
        ]  # fmt: skip
        header = ["measures", "file MB", "write s", "write/s", "read s", "read/s", "peak MB", "growth"]
        _table("3. ISIS V5 control network written and read (one core)", rows, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
