"""Benchmark tiepoint.features: time, peak memory and keypoints lost to tiling, per image size.

For each image size it writes a synthetic 16-bit CTX-like ISIS3 cube (with a NULL strip) through
tiepoint.io, then runs each configuration in a fresh process (so each peak is its own), with OpenCV on
one thread as in a worker:

  opencv      raw OpenCV SIFT on the whole 8-bit image: the time of ``detectAndCompute`` alone (the
              image is read and stretched before the clock starts); the same-run baseline. Both
              it and tiepoint first run once on a tiny image (first-call costs, paid once per worker)
  default     ``tiepoint.features.extract(path)`` with the default settings (all of it: reading,
              stretch, masks, tiles, keypoint arrays)
  whole       tiepoint without tiling                (sizes up to --whole-max-mpx: ~230 bytes/pixel)
  tile N      tiepoint with every image tiled in N px tiles (the sweep that chose the defaults)

Columns: median wall and CPU seconds over --repeats interleaved runs (single-threaded: equal on an
idle core; on a shared machine CPU seconds are the steadier measure, and the ratio to opencv's is
taken on them), peak resident memory (VmHWM: everything the process held, mapped cube pages included;
its maximum over the runs), peak private memory (RssAnon), keypoints, and the keypoints lost to
tiling: those of ``whole`` with no keypoint of the same size within 0.5 px in the tiled result (n/a
where ``whole`` was not run).

Usage: .venv/bin/python bench/bench_features.py [--sizes 1000x1000,2000x2000,...] [--tile-sizes 512 1024]
       [--repeats 2] [--whole-max-mpx 40] [--workdir DIR] [--no-sweep-above-mpx 40]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SIZES = "1000x1000,2000x2000,3000x3000,4096x4096,7168x5000,50000x7168"
"""lines x samples: small frames up to the tiling threshold of old, a full CTX image, a long CTX strip."""


def make_cube(path: Path, lines: int, samples: int, seed: int = 0) -> Path:
    """CTX-like terrain (~6000 SIFT keypoints per megapixel): smooth relief plus fine detail, written
    strip by strip (noise carried across strips, so no artificial seams), DN ~ 0..4000, with a 40-line
    NULL strip every 10000 lines."""
    from tiepoint.io import CubeWriter

    rng = np.random.default_rng(seed)
    strip, pad = 1024, 64
    noise = rng.normal(size=(2, pad, samples)).astype(np.float32)  # rows before line 0
    with CubeWriter(path, (lines, samples), pixel_type="SignedWord") as writer:
        for l0 in range(0, lines, strip):
            l1 = min(l0 + strip, lines)
            fresh = rng.normal(size=(2, l1 - l0 + pad, samples)).astype(np.float32)
            noise = np.concatenate([noise[:, -2 * pad :], fresh], axis=1)  # rows l0 - pad .. l1 + pad
            relief = cv2.GaussianBlur(noise[0], (0, 0), 6.0) * 6.0
            detail = cv2.GaussianBlur(noise[1], (0, 0), 2.0) * 0.6
            data = ((relief + detail) * 700 + 2000)[pad : pad + l1 - l0]
            mask = np.zeros(data.shape, bool)
            mask[(np.arange(l0, l1) % 10000) < 40] = True
            writer.write_window(((l0, l1), (0, samples)), np.round(data), mask=mask)
    return path


class _Peak:
    """Samples /proc/self/status every 10 ms in a thread: peak RssAnon (MiB); VmHWM at the end."""

    def __init__(self) -> None:
        self.anon = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def status() -> dict[str, float]:
        with open("/proc/self/status") as f:
            return {
                k: int(v.split()[0]) / 1024 for k, _, v in (line.partition(":") for line in f) if "kB" in v
            }

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.anon = max(self.anon, self.status()["RssAnon"])

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        s = self.status()
        return s["VmHWM"], max(self.anon, s["RssAnon"])


def _worker(cube: str, mode: str, config: dict[str, Any] | None, save: str, queue: Any) -> None:
    cv2.setNumThreads(1)  # as in a worker (tiepoint.dispatch sets one OpenCV thread per worker thread)
    peak = _Peak()
    from tiepoint.features import extract  # imported before the clock starts, as in a worker
    from tiepoint.features.stretch import compute_stretch, to_uint8
    from tiepoint.io import open_image

    warm = np.random.default_rng(0).integers(0, 255, (96, 96)).astype(np.uint8)  # first calls, as a
    if mode == "opencv":  # worker that has done an image already has made them
        with open_image(cube) as image:
            img8, _ = to_uint8(image.read(), compute_stretch(image))
        sift = cv2.SIFT_create(0, 3, 0.04, 10.0, 1.6, cv2.CV_8U, True)  # tiepoint's SIFT parameters
        sift.detectAndCompute(warm, None)
        t0, c0 = time.perf_counter(), time.process_time()
        kps, _ = sift.detectAndCompute(img8, None)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = len(kps)
    else:
        extract(warm, config)
        t0, c0 = time.perf_counter(), time.process_time()
        found = extract(cube, config)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = len(found)
        if save:
            np.savez(save, x=found.x, y=found.y, size=found.size)
    hwm, anon = peak.stop()
    queue.put({"seconds": seconds, "cpu": cpu, "keypoints": count, "hwm": hwm, "anon": anon})


def run(cube: Path, mode: str, config: dict[str, Any] | None, save: str = "") -> dict[str, float]:
    """One extraction in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(str(cube), mode, config, save, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def lost(whole: Path, tiled: Path) -> float:
    """Share of the whole-image keypoints with no tiled keypoint of the same size (1%) within 0.5 px."""
    from scipy.spatial import cKDTree

    a, b = np.load(whole), np.load(tiled)
    if not len(a["x"]):
        return 0.0
    tree = cKDTree(np.c_[b["x"], b["y"]])
    _, near = tree.query(np.c_[a["x"], a["y"]], k=4, distance_upper_bound=0.5)  # missing: len(b)
    sizes = np.append(b["size"], np.nan)
    same = np.abs(sizes[near] / a["size"][:, None] - 1) < 0.01
    return float(1.0 - same.any(axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=SIZES, help="comma-separated LINESxSAMPLES")
    parser.add_argument("--tile-sizes", type=int, nargs="*", default=[256, 384, 512, 768, 1024, 1536, 2048])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--whole-max-mpx", type=float, default=40.0, help="largest image run whole (MP)")
    parser.add_argument("--no-sweep-above-mpx", type=float, default=40.0, help="bigger: defaults only")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for size in args.sizes.split(","):
            lines, samples = (int(v) for v in size.lower().split("x"))
            mpx = lines * samples / 1e6
            t0 = time.perf_counter()
            cube = make_cube(Path(tmp) / "bench.cub", lines, samples)
            print(f"\n{lines} x {samples} ({mpx:.1f} MP): cube written in {time.perf_counter() - t0:.1f} s")
            configs: list[tuple[str, str, dict[str, Any] | None]] = [("default", "extract", None)]
            if mpx <= args.whole_max_mpx:
                configs += [("opencv", "opencv", None), ("whole", "extract", {"tile_threshold": 10**12})]
            if mpx <= args.no_sweep_above_mpx:
                configs += [
                    (f"tile {t}", "extract", {"tile_threshold": 1, "tile_size": t}) for t in args.tile_sizes
                ]
            results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in configs}
            for r in range(args.repeats):
                order = configs[r % len(configs) :] + configs[: r % len(configs)]  # rotate: interleave
                for name, mode, config in order:
                    save = str(Path(tmp) / f"{name.replace(' ', '_')}.npz") if r == 0 else ""
                    results[name].append(run(cube, mode, config, save))
            base = np.median([x["cpu"] for x in results["opencv"]]) if "opencv" in results else None
            for name, _, _ in configs:
                res = results[name]
                cpu = float(np.median([x["cpu"] for x in res]))
                row = {
                    "size": f"{lines}x{samples}", "mpx": mpx, "config": name,
                    "seconds": float(np.median([x["seconds"] for x in res])), "cpu": cpu,
                    "x_opencv": cpu / base if base else None,
                    "hwm_mib": max(x["hwm"] for x in res), "anon_mib": max(x["anon"] for x in res),
                    "keypoints": res[0]["keypoints"],
                    "lost": None,
                }  # fmt: skip
                whole, mine = Path(tmp) / "whole.npz", Path(tmp) / f"{name.replace(' ', '_')}.npz"
                if name not in ("whole", "opencv") and whole.exists() and mine.exists():
                    row["lost"] = lost(whole, mine)
                rows.append(row)
                print(_format(row))
            for f in Path(tmp).glob("*.npz"):
                f.unlink()
            cube.unlink()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print("\nsize               config     wall s   cpu s  x opencv  VmHWM MiB  anon MiB  keypoints    lost")
    for row in rows:
        print(_format(row))


def _format(row: dict[str, Any]) -> str:
    ratio = f"{row['x_opencv']:.2f}" if row["x_opencv"] is not None else "-"
    lost_ = f"{row['lost']:.3%}" if row["lost"] is not None else "n/a"
    return (
        f"{row['size']:<18} {row['config']:<10}{row['seconds']:>7.2f}{row['cpu']:>8.2f}{ratio:>10}"
        f"{row['hwm_mib']:>11.0f}"
        f"{row['anon_mib']:>10.0f}{row['keypoints']:>11,}{lost_:>8}"
    )


if __name__ == "__main__":
    main()
