"""Benchmark tiepoint.db: insert N synthetic footprints, then "images intersecting" queries.

Runs on a GeoPackage file and on PostGIS (a throwaway server started like the tests do, or
``$TIEPOINT_TEST_DATABASE_URL``). The baseline, measured in the same run, is an exact shapely scan
over all footprints held in memory (no index, no database). Goal: <= 100 ms per query on both.

Usage: ``python bench/bench_db.py [--n 100000] [--queries 200] [--backends sqlite,sqlite-wal,postgres]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tiepoint.db import Database
from tiepoint.records import ImageRecord, KeypointSummary

GOAL_MS = 100.0


def footprints(n: int, seed: int = 0) -> np.ndarray:
    """*n* rotated rectangles 0.1-0.6 degrees wide, 32 vertices each, spread over 0-360E, 60S-60N."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(0, 359, n), rng.uniform(-60, 60, n)
    w, h, ang = rng.uniform(0.1, 0.6, n), rng.uniform(0.2, 1.2, n), rng.uniform(0, np.pi, n)
    corners = np.stack([[-w, -h], [w, -h], [w, h], [-w, h]], axis=0).transpose(2, 0, 1) / 2  # (n, 4, 2)
    cos, sin = np.cos(ang)[:, None], np.sin(ang)[:, None]
    x = corners[..., 0] * cos - corners[..., 1] * sin + cx[:, None]
    y = corners[..., 0] * sin + corners[..., 1] * cos + cy[:, None]
    rings = np.concatenate([np.stack([x, y], axis=-1), np.stack([x, y], axis=-1)[:, :1]], axis=1)
    polys = shapely.polygons(rings)
    return shapely.segmentize(polys, max_segment_length=np.hypot(w, h)[:, None].min() / 4)


def records(
    polys: np.ndarray, prefix: str = "img", lines: int = 5000, samples: int = 5000, keypoints: int = 1000
) -> list[ImageRecord]:
    """Fake ingest records with these footprints (no pixels): what the database benches write."""
    bbox = (0.0, 0.0, float(samples), float(lines))
    kp = KeypointSummary(path="/bench/kp.h5", count=keypoints, extractor="sift", bbox=bbox)
    return [
        ImageRecord(
            path=f"/bench/{prefix}{i:06d}.cub",
            name=f"{prefix}{i:06d}",
            lines=lines,
            samples=samples,
            bands=1,
            content_hash=f"{i:064x}",
            footprint=p,
            footprint_xyz=None,
            camera_model="USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL",
            camera_state='{"bench": true}',
            keypoints=kp,
        )
        for i, p in enumerate(polys)
    ]


def query_boxes(k: int, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(0, 359, k), rng.uniform(-60, 59, k)
    return [box(x, y, x + 1.0, y + 1.0) for x, y in zip(xs, ys, strict=True)]


def run_backend(url: str, recs: list[ImageRecord], queries: list, batch: int) -> dict[str, float]:
    with Database(url) as db:
        t0 = time.perf_counter()
        for i in range(0, len(recs), batch):
            db.write_images(recs[i : i + batch])
        insert_s = time.perf_counter() - t0
        db.images_intersecting(queries[0])  # warm caches
        times, hits = [], 0
        for q in queries:
            t0 = time.perf_counter()
            hits += len(db.images_intersecting(q))
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        n_pairs = len(db.overlapping_pairs())
        pairs_s = time.perf_counter() - t0
        single = [
            ImageRecord(**{**{s: getattr(r, s) for s in ImageRecord.__slots__}, "path": r.path + ".single"})
            for r in recs[:300]
        ]
        t0 = time.perf_counter()
        for r in single:
            db.write_image(r)
        single_s = (time.perf_counter() - t0) / len(single)
    ms = np.array(times) * 1e3
    return {
        "inserts_per_s": len(recs) / insert_s,
        "single_per_s": 1.0 / single_s,
        "q_median_ms": float(np.median(ms)),
        "q_p95_ms": float(np.percentile(ms, 95)),
        "q_max_ms": float(ms.max()),
        "hits": hits / len(queries),
        "pairs": n_pairs,
        "pairs_s": pairs_s,
    }


def baseline(polys: np.ndarray, queries: list) -> dict[str, float]:
    times, hits = [], 0
    for q in queries:
        t0 = time.perf_counter()
        hits += int(shapely.intersects(polys, q).sum())
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return {
        "q_median_ms": float(np.median(ms)),
        "q_p95_ms": float(np.percentile(ms, 95)),
        "hits": hits / len(queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000, help="records per write_images transaction")
    parser.add_argument("--backends", default="sqlite,postgres", help="of sqlite, sqlite-wal, postgres")
    args = parser.parse_args()

    polys = footprints(args.n)
    recs = records(polys)
    queries = query_boxes(args.queries)
    base = baseline(polys, queries)
    print(
        f"tiepoint.db benchmark: {args.n} footprints (32 vertices), "
        f"{args.queries} 1x1-degree intersects queries"
    )
    print(f"baseline (in-memory shapely scan, no index): median {base['q_median_ms']:.2f} ms/query")
    header = (
        f"{'backend':<9} {'inserts/s':>10} {'1-row tx/s':>10} {'q median ms':>11} {'q p95 ms':>9} "
        f"{'q max ms':>9} {'vs scan':>8} {'hits/q':>7} {'pairs':>7} {'pairs s':>8} {'goal':>5}"
    )
    print(header)
    print("-" * len(header))
    failed = False
    with tempfile.TemporaryDirectory(prefix="tiepoint-bench-") as tmp:
        for backend in args.backends.split(","):
            server = None
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.gpkg'}"
            elif backend == "sqlite-wal":  # local-disk tuning: WAL journal, fsync at checkpoints only
                url = f"sqlite:///{Path(tmp) / 'bench-wal.gpkg'}?journal_mode=wal&synchronous=normal"
            else:
                from pg_server import server_for_tests

                server = server_for_tests()
                url = server.new_database("tiepoint_bench")
            try:
                r = run_backend(url, recs, queries, args.batch)
            finally:
                if server is not None:
                    server.stop(remove=True) if hasattr(server, "root") else server.stop()
            ok = r["q_p95_ms"] <= GOAL_MS
            failed |= not ok
            assert abs(r["hits"] - base["hits"]) < 1e-9, "database and baseline disagree on the hits"
            print(
                f"{backend:<9} {r['inserts_per_s']:>10.0f} {r['single_per_s']:>10.0f} "
                f"{r['q_median_ms']:>11.2f} {r['q_p95_ms']:>9.2f} {r['q_max_ms']:>9.2f} "
                f"{base['q_median_ms'] / r['q_median_ms']:>7.1f}x "
                f"{r['hits']:>7.1f} {r['pairs']:>7d} {r['pairs_s']:>8.2f} {'ok' if ok else 'MISS':>5}"
            )
    print(f"goal: p95 <= {GOAL_MS:.0f} ms per query; 'vs scan' = baseline median / backend median")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
