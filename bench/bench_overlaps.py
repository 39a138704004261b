"""Benchmark the overlap graph: ``Database.update_overlaps`` on simulated CTX footprints.

CTX-like strips (~30 km wide, 100-200 km long, near north-south, ~120 vertices each) are scattered
over an equatorial band (crossing 0/360 E) and a mid-latitude band at a density that gives each
image about ten overlapping neighbours. They are stored with ``Database.write_images`` (fake
records, no pixels), then timed: the full overlap graph, and adding one image's pairs to the
largest database. Runs on a GeoPackage file and on PostGIS (a throwaway server started like the
tests do, or ``$TIEPOINT_TEST_DATABASE_URL``).

Baseline, measured in the same run: a naive all-pairs shapely loop (``a.intersects(b)``, then the
intersection and its ellipsoid area) over the smallest size, scaled quadratically to the others; its
pairs must equal the database's. Anchor: ISIS ``findimageoverlaps`` took 83 h for 5,546 images
(ISIS3 #714). Goals: full graph of 10,000 footprints < 60 s on the embedded database, one image < 1 s.

Usage: ``python bench/bench_overlaps.py [--sizes 1000,10000] [--repeat 3] [--adds 20]
[--backends sqlite,postgres]``
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_db

from tiepoint.config import BodyConfig, PairsConfig
from tiepoint.db import Database
from tiepoint.footprint import ellipsoid_area
from tiepoint.records import ImageRecord

GOAL_FULL_S = 60.0
GOAL_ADD_S = 1.0
ANCHOR = (83 * 3600 + 25 * 60, 5546)  # ISIS findimageoverlaps: seconds, images
BODY = BodyConfig()
KM_PER_DEG = math.radians(1.0) * BODY.semimajor / 1e3
NEIGHBOUR_AREA_KM2 = 60.0 * 300.0  # centres closer than (w1+w2) x (l1+l2) overlap (aligned strips)
BANDS = ((-10.0, 10.0, 355.0), (35.0, 50.0, 150.0))  # (lat min, lat max, first longitude)


def _split_360(geom: shapely.Geometry) -> shapely.Geometry:
    """Bring a footprint east of 360 E back into 0..360, split at the meridian as tiepoint's are."""
    x0, _, x1, _ = geom.bounds
    if x1 <= 360.0:
        return geom
    if x0 >= 360.0:
        return shapely.transform(geom, lambda c: c - [360.0, 0.0])
    inside = geom.intersection(shapely.box(0, -90, 360, 90))
    beyond = shapely.transform(geom.intersection(shapely.box(360, -90, 720, 90)), lambda c: c - [360.0, 0.0])
    return shapely.multipolygons([*shapely.get_parts(inside), *shapely.get_parts(beyond)])


def ctx_strips(n: int, seed: int = 0, neighbours: float = 11.0) -> np.ndarray:
    """*n* CTX-like footprints (lon 0-360 E, planetocentric lat), ~*neighbours* overlaps each."""
    rng = np.random.default_rng(seed)
    band = rng.integers(0, len(BANDS), n)
    out = np.empty(n, dtype=object)
    for k, (lat0, lat1, lon0) in enumerate(BANDS):
        m = int((band == k).sum())
        area_km2 = m * NEIGHBOUR_AREA_KM2 / neighbours
        height_km = (lat1 - lat0) * KM_PER_DEG
        coslat = math.cos(math.radians((lat0 + lat1) / 2))
        span = area_km2 / height_km / (KM_PER_DEG * coslat)
        lat = rng.uniform(lat0, lat1, m)
        lon = lon0 + rng.uniform(0, span, m)
        w_km, l_km = rng.uniform(27, 33, m), rng.uniform(100, 200, m)
        heading = np.radians(rng.normal(-3.0, 1.0, m))  # near-polar orbit, a few degrees off north
        half = np.stack([[-w_km, -l_km], [w_km, -l_km], [w_km, l_km], [-w_km, l_km]], axis=0) / 2  # (4,2,m)
        half = half.transpose(2, 0, 1)  # (m, 4, 2) km
        cos, sin = np.cos(heading)[:, None], np.sin(heading)[:, None]
        east = half[..., 0] * cos + half[..., 1] * sin
        north = -half[..., 0] * sin + half[..., 1] * cos
        x = lon[:, None] + east / (KM_PER_DEG * np.cos(np.radians(lat))[:, None])
        y = lat[:, None] + north / KM_PER_DEG
        ring = np.concatenate([np.stack([x, y], -1), np.stack([x, y], -1)[:, :1]], axis=1)
        out[band == k] = shapely.segmentize(shapely.polygons(ring), 3.0 / KM_PER_DEG)  # ~3 km edges
    return np.array([_split_360(p) for p in out], dtype=object)


def records(polys: np.ndarray, prefix: str = "img") -> list[ImageRecord]:
    """Fake CTX-size ingest records (5,000 x 30,000 px, 30,000 keypoints) with these footprints."""
    return bench_db.records(polys, prefix, lines=30000, samples=5000, keypoints=30000)


def naive_pairs(polys: np.ndarray, min_km2: float) -> tuple[set[tuple[int, int]], float]:
    """All-pairs shapely loop (0-based indices of overlapping pairs) and its run time."""
    t0 = time.perf_counter()
    found = set()
    geoms = list(polys)
    for i, a in enumerate(geoms):
        for j in range(i + 1, len(geoms)):
            b = geoms[j]
            if a.intersects(b) and shapely.relate_pattern(a, b, "T********"):
                area = ellipsoid_area(a.intersection(b), BODY.semimajor, BODY.semiminor) / 1e6
                if area >= min_km2:
                    found.add((i, j))
    return found, time.perf_counter() - t0


def _reset(db: Database) -> None:
    db.execute_sql("DELETE FROM pairs")
    db.execute_sql("UPDATE images SET overlaps_done = NULL")


def _vacuum(db: Database) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE")


def run_backend(url: str, polys: np.ndarray, repeat: int, adds: int, extra: np.ndarray) -> dict:
    cfg = PairsConfig()
    with Database(url) as db:
        t0 = time.perf_counter()
        ids = []
        recs = records(polys)
        for k in range(0, len(recs), 1000):
            ids += db.write_images(recs[k : k + 1000])
        insert_s = time.perf_counter() - t0
        times = []
        for r in range(repeat):
            if r:
                _reset(db)
            t0 = time.perf_counter()
            result = db.update_overlaps(config=cfg)
            times.append(time.perf_counter() - t0)
        n_pairs = result.added
        _vacuum(db)  # the rebuilds above left dead rows; autovacuum would clean them in normal use
        keys = {tuple(int(x) for x in row[0].split("-")) for row in db.execute_sql("SELECT key FROM pairs")}
        index = {image_id: i for i, image_id in enumerate(ids)}
        pairs = {(index[a], index[b]) for a, b in keys}
        add_times, add_pairs = [], []
        for rec in records(extra[:adds], prefix="new"):
            db.write_image(rec)
            t0 = time.perf_counter()
            one = db.update_overlaps(config=cfg)
            add_times.append(time.perf_counter() - t0)
            add_pairs.append(one.added)
        ranked_times = []
        ranked = PairsConfig(max_neighbours=5)
        db.update_overlaps(config=ranked, force=True)
        for rec in records(extra[adds : 2 * adds], prefix="ranked"):
            db.write_image(rec)
            t0 = time.perf_counter()
            db.update_overlaps(config=ranked)
            ranked_times.append(time.perf_counter() - t0)
    return {
        "insert_s": insert_s,
        "full_s": min(times),
        "full_median_s": float(np.median(times)),
        "pairs": n_pairs,
        "pair_set": pairs,
        "add_median_s": float(np.median(add_times)) if add_times else math.nan,
        "add_max_s": max(add_times) if add_times else math.nan,
        "add_pairs": float(np.mean(add_pairs)) if add_pairs else math.nan,
        "ranked_median_s": float(np.median(ranked_times)) if ranked_times else math.nan,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of footprints, smallest first")
    parser.add_argument("--repeat", type=int, default=3, help="full-graph runs per size (best and median)")
    parser.add_argument("--adds", type=int, default=20, help="single images added to the largest database")
    parser.add_argument("--backends", default="sqlite,postgres", help="of sqlite, sqlite-wal, postgres")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    data = {n: ctx_strips(n, seed=n) for n in sizes}
    extra = ctx_strips(10_000, seed=12345)[: 2 * args.adds]  # same density as the largest
    smallest = sizes[0]
    naive, naive_s = naive_pairs(data[smallest], PairsConfig().min_overlap_km2)
    vertices = np.mean([len(shapely.get_coordinates(p)) for p in data[sizes[-1]]])
    print(
        f"overlap-graph benchmark: simulated CTX strips (~30 x 100-200 km, {vertices:.0f} vertices, "
        f"{sum(isinstance(p, shapely.MultiPolygon) for p in data[sizes[-1]])} of {sizes[-1]} split at 360 E)"
    )
    print(
        f"baseline: naive all-pairs shapely loop, {smallest} footprints: {naive_s:.1f} s, "
        f"{len(naive)} pairs ({2 * len(naive) / smallest:.1f} neighbours per image); scaled as n^2"
    )
    anchor_s, anchor_n = ANCHOR
    print(f"anchor: ISIS findimageoverlaps {anchor_s / 3600:.0f} h for {anchor_n} images (ISIS3 #714)")
    header = (
        f"{'backend':<10} {'images':>7} {'pairs':>7} {'nbrs':>5} {'insert s':>9} {'graph s':>8} "
        f"{'median s':>9} {'img/s':>7} {'vs naive':>9} {'growth':>7} {'add1 ms':>8} {'max ms':>7} "
        f"{'k=5 ms':>7} {'goal':>5}"
    )
    print(header)
    print("-" * len(header))
    failed = False
    per_image: dict[str, tuple[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tiepoint-bench-") as tmp:
        for backend in args.backends.split(","):
            server = None
            if backend == "postgres":
                from pg_server import server_for_tests

                server = server_for_tests()
            first = None
            try:
                for n in sizes:
                    if backend == "sqlite":
                        url = f"sqlite:///{Path(tmp) / f'bench-{n}.gpkg'}"
                    elif backend == "sqlite-wal":
                        wal = "?journal_mode=wal&synchronous=normal"
                        url = f"sqlite:///{Path(tmp) / f'bench-wal-{n}.gpkg'}{wal}"
                    else:
                        url = server.new_database(f"tiepoint_bench_{n}")
                    adds = args.adds if n == sizes[-1] else 0
                    r = run_backend(url, data[n], args.repeat, adds, extra)
                    if n == smallest and r["pair_set"] != naive:
                        raise SystemExit(f"{backend}: the database's pairs differ from the naive loop's")
                    first = first or r["full_s"]
                    naive_n = naive_s * (n / smallest) ** 2
                    ok = r["full_s"] < GOAL_FULL_S * n / 10_000 if backend.startswith("sqlite") else True
                    if adds:
                        ok = ok and r["add_max_s"] < GOAL_ADD_S
                    failed |= not ok
                    per_image[backend] = (n, r["full_s"])
                    add = (
                        f"{r['add_median_s'] * 1e3:>8.0f} {r['add_max_s'] * 1e3:>7.0f} "
                        if adds
                        else f"{'':>16} "
                    )
                    ranked = f"{r['ranked_median_s'] * 1e3:>7.0f}" if adds else f"{'':>7}"
                    print(
                        f"{backend:<10} {n:>7} {r['pairs']:>7} {2 * r['pairs'] / n:>5.1f} "
                        f"{r['insert_s']:>9.1f} "
                        f"{r['full_s']:>8.2f} {r['full_median_s']:>9.2f} {n / r['full_s']:>7.0f} "
                        f"{naive_n / r['full_s']:>8.0f}x {r['full_s'] / first:>6.1f}x {add}{ranked} "
                        f"{'ok' if ok else 'MISS':>5}",
                        flush=True,
                    )
            finally:
                if server is not None:
                    server.stop(remove=True) if hasattr(server, "root") else server.stop()
    print(
        f"graph s: best of {args.repeat} full builds (all pairs from an empty pairs table); growth: vs the "
        f"smallest size; vs naive: naive loop time scaled to n / graph s; add1: update_overlaps() after "
        f"write_image of one new footprint (median, max of {args.adds}); k=5: the same with max_neighbours=5"
    )
    for backend, (n, seconds) in per_image.items():
        anchor_per_image = anchor_s / anchor_n
        print(
            f"{backend}: {seconds / n * 1e3:.2f} ms per image at {n} images; ISIS findimageoverlaps "
            f"{anchor_per_image:.0f} s per image at {anchor_n} ({anchor_per_image / (seconds / n):,.0f}x)"
        )
    print(
        f"goals: full graph of 10,000 < {GOAL_FULL_S:.0f} s (embedded database), "
        f"add one image < {GOAL_ADD_S:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
