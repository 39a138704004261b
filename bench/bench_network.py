"""Benchmark: sub-pixel registration (goal >= 2,000 measures/s per core on 31-px templates), tracks
from 10 million simulated pair matches (goal < 60 s), points and measures written to the database
at scale, and registration jobs end to end.

Run: ``.venv/bin/python bench/bench_network.py [--repeat N] [--matches 1e7] [--measures 1.2e6]
[--postgres URL]``. One core: OpenCV and BLAS run single-threaded. Baselines measured in the same run:

Registration rates are per CPU second (``time.process_time``), so they hold on a busy machine.

- registration: ``cv2.matchTemplate(TM_CCOEFF_NORMED)`` of the 31-px template over the whole search
  chip and ``cv2.minMaxLoc`` (an integer peak, no masks, no checks, no sub-pixel fit), per measure,
  on the same chips. The chips are real renders: G02 and N06 (real CTX geometry) at 800 x 800;
- tracks: numbering the nodes with ``numpy.unique`` and ``scipy``'s ``connected_components`` on the
  same matches: the least work any union-find over (image, keypoint) nodes needs;
- rows: the same measure rows inserted with ``sqlite3.executemany`` into a bare table (no key, index,
  constraint or trigger): the floor of writing them; the points and measures tables add their unique
  constraints, foreign keys, the GeoPackage R-tree and the id bookkeeping;
- registration jobs: :func:`tiepoint.network.job.register_image` (the job a worker runs: windowed
  reads of both images, affines, warps, kernel) per CPU second against the same ``matchTemplate``
  baseline; then the same measures through a :class:`tiepoint.dispatch.NetworkRegistrar` on a
  one-worker LocalCluster (task built from the database, the job, results written back), wall time.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

from tiepoint.camera import from_isd  # noqa: E402
from tiepoint.config import RegistrationConfig  # noqa: E402
from tiepoint.io import open_image, write_cube  # noqa: E402
from tiepoint.network import (  # noqa: E402
    build_tracks,
    extend_tracks,
    local_affine,
    read_chips,
    register_batch,
    register_measures,
    warp_chips,
)
from tiepoint.pixels import from_camera_coords, to_camera_coords  # noqa: E402
from tiepoint.synthetic import render, rescale_isd  # noqa: E402
from tiepoint.synthetic.matches import simulate_matches  # noqa: E402

PACKAGED = Path(__file__).resolve().parents[1] / "tiepoint" / "synthetic" / "data" / "ctx"
SHARED = Path(os.environ.get("TIEPOINT_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
CTX = SHARED / "data" / "isd" / "ctx" if (SHARED / "data" / "isd" / "ctx").is_dir() else PACKAGED
PAIR = ("G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop")


def best_of(fn, repeat: int) -> float:
    """Smallest CPU time of ``repeat`` calls (seconds): the per-core cost, even on a busy machine."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def rendered_pair(folder: Path, size: int = 800):
    """G02 and N06 rendered under one sun; their cameras; true correspondences on a grid."""
    isds = [rescale_isd(json.loads((CTX / f"{n}.json").read_text()), lines=size, samples=size) for n in PAIR]
    cams = [from_isd(isd) for isd in isds]
    sun = cams[0].sun_position([size / 2])[0]
    paths = []
    for name, cam in zip(PAIR, cams, strict=True):
        path = folder / f"{name}.cub"
        write_cube(path, render(cam, sun_position=sun), pixel_type="UnsignedWord")
        paths.append(path)
    step = 3.0
    xs, ys = np.meshgrid(np.arange(40, size - 40, step), np.arange(40, size - 40, step))
    xa, ya = xs.ravel(), ys.ravel()
    xb, yb = from_camera_coords(*cams[1].ground_to_image(cams[0].image_to_ground(*to_camera_coords(xa, ya))))
    inside = (xb > 40) & (xb < size - 40) & (yb > 40) & (yb < size - 40)
    rng = np.random.default_rng(0)
    x0 = xb[inside] + rng.uniform(-2, 2, inside.sum())
    y0 = yb[inside] + rng.uniform(-2, 2, inside.sum())
    return paths, cams, xa[inside], ya[inside], x0, y0


def bench_registration(repeat: int) -> None:
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        paths, cams, xa, ya, x0, y0 = rendered_pair(Path(tmp))
        n = len(xa)
        configs = {
            "31 px": RegistrationConfig(template_px=31, second_template_px=None, search_px=45),
            "31 px + 41 px consensus": RegistrationConfig(template_px=31, second_template_px=41),
            "defaults (41 px + 31 px)": RegistrationConfig(),
        }
        big = max(max(c.template_px, c.second_template_px or 0) for c in configs.values())
        search_px = max(c.search_px for c in configs.values())
        with open_image(paths[0]) as ref, open_image(paths[1]) as meas:
            affine = local_affine(cams[0], cams[1], xa, ya)
            templates = warp_chips(ref, xa, ya, affine, x0, y0, big)
            searches = read_chips(meas, x0, y0, search_px)
        # the baseline: a 31-px template over a 45-px search chip, integer peak
        o, so = (big - 31) // 2, (search_px - 45) // 2
        t31 = np.ascontiguousarray(templates.data[:, o : o + 31, o : o + 31], dtype=np.float32)
        s45 = np.ascontiguousarray(searches.data[:, so : so + 45, so : so + 45], dtype=np.float32)

        def baseline() -> None:
            for i in range(n):
                cv2.minMaxLoc(cv2.matchTemplate(s45[i], t31[i], cv2.TM_CCOEFF_NORMED))

        t_base = best_of(baseline, repeat)
        print(f"registration of {n} measures (G02 -> N06, 800 x 800 renders), one core")
        head = f"{'':30s} {'template':>8s} {'search':>6s} {'measures/s':>11s} {'ok %':>6s}"
        print(f"{head} {'baseline/s':>11s} {'time ratio':>10s}")
        for name, cfg in configs.items():
            r = cfg.template_px if cfg.second_template_px is None else big
            off, soff = (big - r) // 2, (search_px - cfg.search_px) // 2
            tt = templates[:, off : off + r, off : off + r]
            ss = searches[:, soff : soff + cfg.search_px, soff : soff + cfg.search_px]
            result = register_batch(tt, ss, cfg)
            t = best_of(lambda tt=tt, ss=ss, cfg=cfg: register_batch(tt, ss, cfg), repeat)
            print(f"{'kernel, ' + name:30s} {cfg.template_px:8d} {cfg.search_px:6d} {n / t:11.0f} "
                  f"{100 * result.ok.mean():6.1f} {n / t_base:11.0f} {t / t_base:10.2f}")  # fmt: skip
        cfg = RegistrationConfig()
        t_all = best_of(
            lambda: register_measures(paths[0], paths[1], cams[0], cams[1], xa, ya, x0, y0, cfg), repeat
        )
        print(f"{'register_measures, defaults':30s} {cfg.template_px:8d} {cfg.search_px:6d} {n / t_all:11.0f}"
              f" {'':6s} {n / t_base:11.0f} {t_all / t_base:10.2f}")  # fmt: skip
        print("(register_measures: windowed reads, local affines, warps and the kernel)")


def _peak_mb(fn):
    """Result, wall time (s), CPU time (s) and peak traced memory (MB) of one call."""
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, wall, cpu, peak / 2**20


def _components_baseline(sim) -> None:
    keys = np.concatenate([sim.image_a * 2**32 + sim.kp_a, sim.image_b * 2**32 + sim.kp_b])
    nodes, inv = np.unique(keys, return_inverse=True)
    n = len(sim.image_a)
    graph = sp.coo_matrix((np.ones(n, np.int8), (inv[:n], inv[n:])), shape=(len(nodes),) * 2).tocsr()
    connected_components(graph, directed=False)


def bench_tracks(matches: float) -> None:
    n_points = int(matches / 7.0)  # depth 2..6 uniform: 7 pairs per point on average
    start = time.perf_counter()
    sim = simulate_matches(n_points, n_images=max(100, n_points // 1000), wrong=0.01, seed=0)
    t_sim = time.perf_counter() - start
    n = len(sim.image_a)
    print(f"\ntracks from {n:,} simulated pair matches ({n_points:,} points, 1 % wrong)")
    print(f"(simulated in {t_sim:.1f} s)")
    _, w_base, c_base, m_base = _peak_mb(lambda: _components_baseline(sim))
    head = f"{'':34s} {'wall s':>7s} {'cpu s':>7s} {'peak MB':>8s} {'points':>10s} {'measures':>10s}"
    print(f"{head} {'cpu ratio':>9s}")
    print(f"{'baseline: unique + components':34s} {w_base:7.1f} {c_base:7.1f} {m_base:8.0f}")
    args = (sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score)
    ground = {"ground_a": sim.ground_a, "ground_b": sim.ground_b, "max_spread_m": 50.0}
    for name, kwargs in (("build_tracks", {}), ("build_tracks + ground (50 m)", ground)):
        t, wall, cpu, peak = _peak_mb(lambda kwargs=kwargs: build_tracks(*args, **kwargs))
        print(f"{name:34s} {wall:7.1f} {cpu:7.1f} {peak:8.0f} {t.n_points:10,d} {t.n_measures:10,d} "
              f"{cpu / c_base:9.2f}")  # fmt: skip
    # incremental: 90 % of the images first, then the matches that involve the last 10 %
    last = sim.image_offset.shape[0] * 9 // 10
    new = (sim.image_a >= last) | (sim.image_b >= last)
    first = build_tracks(*(v[~new] for v in args))
    upd, wall, cpu, peak = _peak_mb(
        lambda: extend_tracks(first.point, first.image, first.keypoint, *(v[new] for v in args))
    )
    label = f"extend_tracks ({new.sum():,} new)"
    print(f"{label:34s} {wall:7.1f} {cpu:7.1f} {peak:8.0f} {upd.new.n_points:10,d} "
          f"{len(upd.added_point) + upd.new.n_measures:10,d}")  # fmt: skip
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _image_records(n: int):
    """*n* image rows with small box footprints along a strip (no files; for the rows benchmark)."""
    from shapely.geometry import box

    from tiepoint.records import ImageRecord, KeypointSummary

    return [
        ImageRecord(
            path=f"/bench/img{i:05d}.cub", name=f"img{i:05d}", lines=1000, samples=1000, bands=1,
            content_hash="0" * 64, footprint=box(10 + 0.01 * i, 0.0, 10.05 + 0.01 * i, 0.05),
            footprint_xyz=None, camera_model="none", camera_state="{}",
            keypoints=KeypointSummary(f"/bench/img{i:05d}.h5", 0, "sift", None),
        )
        for i in range(n)
    ]  # fmt: skip


def _rows(tracks, sim, image_ids: np.ndarray):
    """NewNetwork rows of *tracks* (a-priori: the mean of the measures' ground, as without cameras)."""
    from tiepoint.camera import latlon
    from tiepoint.db.network import NewNetwork

    key = np.searchsorted(sim.image * 2**32 + sim.keypoint, tracks.image * 2**32 + tracks.keypoint,
                          sorter=np.argsort(sim.image * 2**32 + sim.keypoint))  # fmt: skip
    order = np.argsort(sim.image * 2**32 + sim.keypoint)
    truth = sim.xyz[sim.point[order[key]]] + sim.image_offset[tracks.image]
    p = tracks.n_points
    xyz = np.stack([np.bincount(tracks.point, truth[:, k], p) for k in range(3)], axis=1)
    xyz /= tracks.depth[:, None]
    lat, lon = latlon(xyz, 3396190.0, 3376200.0)
    m = tracks.n_measures
    return NewNetwork(
        apriori=xyz, apriori_method=np.full(p, "average_of_measures", dtype=object), height_m=np.zeros(p),
        convergence_deg=np.full(p, np.nan), ray_rms_m=np.full(p, np.nan), spread_m=tracks.spread_m,
        lon=lon, lat=lat, reference=tracks.offsets[:-1], new_point=tracks.point,
        point_row=np.full(m, -1, np.int64), image=image_ids[tracks.image], keypoint=tracks.keypoint,
        x=(tracks.keypoint % 1000).astype(float), y=(tracks.keypoint // 1000).astype(float),
        emission_deg=np.full(m, 5.0), resolution_m=np.full(m, 6.0),
    )  # fmt: skip


def bench_rows(measures: float, postgres: str | None) -> None:
    import sqlite3

    from tiepoint.db import Database
    from tiepoint.db.network import PairInputs

    n_points = int(measures / 4.0)  # depth 2..6: 4 measures per point on average
    sim = simulate_matches(n_points, n_images=max(100, n_points // 2000), seed=1)
    print(f"\npoints and measures from {len(sim.image_a):,} simulated pair matches ({n_points:,} points)")
    head = f"{'':44s} {'wall s':>7s} {'cpu s':>7s} {'peak MB':>8s} {'rows/s':>9s}"
    print(f"{head} {'ratio':>6s}")
    no_pairs = PairInputs(np.empty(0, np.int64), [], np.empty(0, np.int64), np.empty(0, np.int64), [], [])
    args = (sim.image_a, sim.kp_a, sim.image_b, sim.kp_b, sim.score, sim.ground_a, sim.ground_b)
    start_w, start_c = time.perf_counter(), time.process_time()
    tracks = build_tracks(*args, max_spread_m=50.0)
    wall, cpu = time.perf_counter() - start_w, time.process_time() - start_c
    peak = _peak_mb(lambda: build_tracks(*args, max_spread_m=50.0))[3]
    print(f"{'build_tracks + ground (50 m)':44s} {wall:7.1f} {cpu:7.1f} {peak:8.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        # the floor: the same measure rows into a bare table
        bare = sqlite3.connect(Path(tmp) / "bare.db")
        bare.execute("CREATE TABLE m (id, point_id, image_id, keypoint, x, y, apriori_x, apriori_y, type, "
                     "ignore, status, emission_deg, resolution_m, jigsaw_rejected, created)")  # fmt: skip
        m = tracks.n_measures
        cols = [np.arange(1, m + 1).tolist(), tracks.point.tolist(), tracks.image.tolist()]
        cols += [tracks.keypoint.tolist()] + [np.zeros(m).tolist()] * 4
        cols += [["Candidate"] * m, [0] * m, ["pending"] * m, np.full(m, 5.0).tolist()]
        cols += [np.full(m, 6.0).tolist(), [0] * m, ["2026-01-01T00:00:00.000000Z"] * m]
        start_w, start_c = time.perf_counter(), time.process_time()
        bare.executemany(f"INSERT INTO m VALUES ({', '.join(['?'] * 15)})", list(zip(*cols, strict=True)))
        bare.commit()
        base_w, base_c = time.perf_counter() - start_w, time.process_time() - start_c
        bare.close()
        label = "baseline: sqlite3 executemany, bare table"
        print(f"{label:44s} {base_w:7.1f} {base_c:7.1f} {'':8s} {m / base_w:9.0f}")
        urls = {"GeoPackage": f"sqlite:///{Path(tmp) / 'rows.gpkg'}"}
        if postgres:
            urls["PostGIS"] = postgres
        for label, url in urls.items():
            walls, peak = [], 0.0
            for traced in (False, True):  # timed without tracemalloc (it slows), then traced for memory
                if traced and label == "PostGIS":
                    break  # one PostGIS database: timed only
                db = Database(url if not traced else f"sqlite:///{Path(tmp) / 'traced.gpkg'}")
                ids = np.asarray(db.write_images(_image_records(int(tracks.image.max()) + 1)), dtype=np.int64)
                rows = _rows(tracks, sim, ids)
                if traced:
                    peak = _peak_mb(lambda db=db, rows=rows: db.write_network(rows, no_pairs))[3]
                else:
                    start_w, start_c = time.perf_counter(), time.process_time()
                    db.write_network(rows, no_pairs)
                    walls = [time.perf_counter() - start_w, time.process_time() - start_c]
                db.close()
            wall, cpu = walls
            total = rows.n_points + rows.n_measures
            shown = f"{peak:8.0f}" if peak else f"{'':8s}"
            print(f"{'write_network, ' + label:44s} {wall:7.1f} {cpu:7.1f} {shown} {total / wall:9.0f} "
                  f"{wall / base_w:6.2f}")  # fmt: skip
    print(f"({tracks.n_points:,} points + {tracks.n_measures:,} measures; rows/s counts both; ratio: "
          "wall time over the baseline's, which writes the measures only; times without tracemalloc, peak "
          "memory traced in a second run)")  # fmt: skip


def bench_jobs(repeat: int) -> None:
    from datetime import UTC, datetime

    from tiepoint.db import Database
    from tiepoint.db.network import NewNetwork, PairInputs
    from tiepoint.dispatch import NetworkRegistrar
    from tiepoint.footprint import latlon_footprint
    from tiepoint.network.job import register_image
    from tiepoint.records import ImageRecord, KeypointSummary, RegistrationTask

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        paths, cams, xa, ya, x0, y0 = rendered_pair(Path(tmp))
        n = len(xa)
        task = RegistrationTask(
            key=str(paths[1]), image=str(paths[1]), camera=cams[1].to_state(), measure_ids=np.arange(n),
            x=x0, y=y0, reference=np.zeros(n, np.int32), ref_x=xa, ref_y=ya, height=np.zeros(n),
            references=((str(paths[0]), cams[0].to_state()),),
        )  # fmt: skip
        with open_image(paths[0]) as ref, open_image(paths[1]) as meas:
            affine = local_affine(cams[0], cams[1], xa, ya)
            t31 = np.ascontiguousarray(warp_chips(ref, xa, ya, affine, x0, y0, 31).data, dtype=np.float32)
            s45 = np.ascontiguousarray(read_chips(meas, x0, y0, 45).data, dtype=np.float32)

        def baseline() -> None:
            for i in range(n):
                cv2.minMaxLoc(cv2.matchTemplate(s45[i], t31[i], cv2.TM_CCOEFF_NORMED))

        t_base = best_of(baseline, repeat)
        print(f"\nregistration jobs: {n} measures of N06 registered to G02 (800 x 800 renders)")
        print(f"{'':44s} {'measures/s':>11s} {'baseline/s':>11s} {'time ratio':>10s}")
        for label, cfg in (
            ("job (register_image), 31 px", {"template_px": 31, "second_template_px": None, "search_px": 45}),
            ("job (register_image), defaults", {}),
        ):
            conf = {"registration": cfg}
            t = best_of(lambda conf=conf: register_image(task, conf), repeat)
            print(f"{label + ', per CPU second':44s} {n / t:11.0f} {n / t_base:11.0f} {t / t_base:10.2f}")
        # the same measures through the dispatcher: database -> task -> job on one worker -> database
        url = f"sqlite:///{Path(tmp) / 'jobs.gpkg'}"
        db = Database(url)
        recs = [
            ImageRecord(
                path=str(p), name=p.stem, lines=800, samples=800, bands=1, content_hash="0" * 64,
                footprint=latlon_footprint(c), footprint_xyz=None, camera_model=c.model_name,
                camera_state=c.to_state(),
                keypoints=KeypointSummary(str(p.with_suffix(".h5")), n, "sift", None),
            )
            for p, c in zip(paths, cams, strict=True)
        ]  # fmt: skip
        ia, ib = db.write_images(recs)
        rows = NewNetwork(
            apriori=np.full((n, 3), np.nan), apriori_method=np.full(n, "none", dtype=object),
            height_m=np.zeros(n), convergence_deg=np.zeros(n), ray_rms_m=np.zeros(n), spread_m=np.zeros(n),
            lon=np.full(n, np.nan), lat=np.full(n, np.nan), reference=2 * np.arange(n),
            new_point=np.repeat(np.arange(n), 2), point_row=np.full(2 * n, -1, np.int64),
            image=np.tile([ia, ib], n), keypoint=np.repeat(np.arange(n), 2),
            x=np.stack([xa, x0], 1).ravel(), y=np.stack([ya, y0], 1).ravel(),
            emission_deg=np.zeros(2 * n), resolution_m=np.tile([1.0, 2.0], n),
        )  # fmt: skip
        e = np.empty(0, np.int64)
        db.write_network(rows, PairInputs(e, [], e, e, [], []))
        db.close()
        cfg = {"database": {"url": url}, "cluster": {"workers": 1, "dashboard": False, "memory_limit": None}}
        with NetworkRegistrar(cfg) as reg:
            start = time.perf_counter()
            reg.register_pending()
            reg.wait()
            wall = time.perf_counter() - start
        db = Database(url)
        ok = db.execute_sql("SELECT count(*) FROM measures WHERE status = 'ok'")[0][0]
        db.close()
        print(f"{'NetworkRegistrar, 1 worker, wall':44s} {n / wall:11.0f} {'':11s} {'':10s}  ({ok} ok, "
              f"{datetime.now(UTC):%H:%M})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--matches", type=float, default=1e7)
    parser.add_argument("--skip-registration", action="store_true")
    parser.add_argument("--skip-tracks", action="store_true")
    parser.add_argument("--measures", type=float, default=1.2e6, help="measures of the rows benchmark")
    parser.add_argument("--postgres", help="also write the rows to this (empty) PostGIS database")
    parser.add_argument("--skip-rows", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    args = parser.parse_args()
    if not args.skip_registration:
        bench_registration(args.repeat)
    if not args.skip_jobs:
        bench_jobs(args.repeat)
    if not args.skip_rows:
        bench_rows(args.measures, args.postgres)
    if not args.skip_tracks:
        bench_tracks(args.matches)


if __name__ == "__main__":
    main()
