"""Benchmark tiepoint.features on a synthetic 16-bit CTX-like cube.

Writes a SignedWord ISIS3 cube (5000 samples x N lines, with a NULL strip) through tiepoint.io, then
runs :func:`tiepoint.features.extract` in fresh processes (so each peak RSS is its own) and prints
megapixels/s, keypoints/s, peak RSS and the share of time spent outside OpenCV's detectAndCompute.

Modes (baseline: tiled, 1 process, measured in the same run):
  tiled-1p      the cube in 2048 px tiles, one process, OpenCV limited to one thread
  tiled-2p      two processes each extracting the cube at once (as two dispatcher workers would)
  crop whole    a crop small enough for whole-image SIFT (whole 5000 x 20000 SIFT needs ~20 GB)
  crop tiled    the same crop, tiled
  50k tiled     tiled extraction of a 5000 x 50000 cube: peak RSS (goal < 1.5 GB), per --tile-size

Usage: .venv/bin/python bench/bench_features.py [--lines 20000] [--crop-lines 2000] [--rss-lines 50000]
       [--tile-size 2048 1536] [--rss-only]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SAMPLES = 5000


def make_cube(path: Path, lines: int, seed: int = 0) -> Path:
    """CTX-like terrain (~6000 SIFT keypoints per megapixel): smooth relief plus fine detail, written
    strip by strip (noise carried across strips, so no artificial seams), DN ~ 0..4000, with a 40-line
    NULL strip every 10000 lines."""
    from tiepoint.io import CubeWriter

    rng = np.random.default_rng(seed)
    strip, pad = 1024, 64
    noise = rng.normal(size=(2, pad, SAMPLES)).astype(np.float32)  # rows before line 0
    with CubeWriter(path, (lines, SAMPLES), pixel_type="SignedWord") as writer:
        for l0 in range(0, lines, strip):
            l1 = min(l0 + strip, lines)
            fresh = rng.normal(size=(2, l1 - l0 + pad, SAMPLES)).astype(np.float32)
            noise = np.concatenate([noise[:, -2 * pad :], fresh], axis=1)  # rows l0 - pad .. l1 + pad
            relief = cv2.GaussianBlur(noise[0], (0, 0), 6.0) * 6.0
            detail = cv2.GaussianBlur(noise[1], (0, 0), 2.0) * 0.6
            data = ((relief + detail) * 700 + 2000)[pad : pad + l1 - l0]
            mask = np.zeros(data.shape, bool)
            mask[(np.arange(l0, l1) % 10000) < 40] = True
            writer.write_window(((l0, l1), (0, SAMPLES)), np.round(data), mask=mask)
    return path


class _TimedDetector:
    """Wraps an OpenCV Feature2D to add up the seconds spent in detectAndCompute."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.seconds = 0.0

    def detectAndCompute(self, image: np.ndarray, mask: np.ndarray | None):  # noqa: N802 - OpenCV name
        t0 = time.perf_counter()
        try:
            return self.detector.detectAndCompute(image, mask)
        finally:
            self.seconds += time.perf_counter() - t0


class _AnonPeak:
    """Samples /proc/self/status RssAnon (private memory, not the cube's file pages mapped by the
    reader) every 20 ms in a thread; ``peak`` in MiB."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def sample(self) -> None:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    self.peak = max(self.peak, int(line.split()[1]) / 1024)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.sample()
        return self.peak


def _worker(cube: str, lines: int | None, config: dict[str, Any], threads: int, queue: Any) -> None:
    cv2.setNumThreads(threads)
    anon = _AnonPeak()
    import tiepoint.features.extraction as extract_module
    from tiepoint.features import ArrayImage, extract
    from tiepoint.features.extractors import load_extractor
    from tiepoint.io import open_image

    timers: list[_TimedDetector] = []

    def timed_loader(name: str, params: dict[str, Any] | None = None):
        extractor = load_extractor(name, params)
        extractor.detector = _TimedDetector(extractor.detector)
        timers.append(extractor.detector)
        return extractor

    extract_module.load_extractor = timed_loader
    with open_image(cube) as image:
        source = image if lines is None else ArrayImage(image.read(((0, lines), (0, SAMPLES))))
        t0 = time.perf_counter()
        kps = extract(source, config)
        seconds = time.perf_counter() - t0
        pixels = source.shape[0] * source.shape[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    queue.put({"seconds": seconds, "pixels": pixels, "keypoints": len(kps), "rss_mib": rss,
               "anon_mib": anon.stop(), "cv_seconds": sum(t.seconds for t in timers)})  # fmt: skip


def run(
    cube: Path, config: dict[str, Any], *, processes: int = 1, lines: int | None = None, threads: int = 1
) -> dict[str, float]:
    """Run ``processes`` extractions of ``cube`` at once in fresh processes; aggregate the results."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(str(cube), lines, config, threads, queue)) for _ in range(processes)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0 - 0.0
    pixels = sum(r["pixels"] for r in results)
    keypoints = sum(r["keypoints"] for r in results)
    busy = sum(r["seconds"] for r in results)
    return {
        "wall": max(r["seconds"] for r in results),
        "spawn_wall": wall,
        "mpx_s": pixels / 1e6 / max(r["seconds"] for r in results),
        "kp_s": keypoints / max(r["seconds"] for r in results),
        "keypoints": keypoints / processes,
        "rss_mib": max(r["rss_mib"] for r in results),
        "anon_mib": max(r["anon_mib"] for r in results),
        "outside_cv": 1.0 - sum(r["cv_seconds"] for r in results) / busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--crop-lines", type=int, default=2000)
    parser.add_argument("--rss-lines", type=int, default=50000, help="0 to skip the 5000 x 50000 RSS run")
    parser.add_argument("--tile-size", type=int, nargs="+", default=[2048], help="tile sizes of the RSS run")
    parser.add_argument("--rss-only", action="store_true", help="only the RSS run(s)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    tiled = {"extractor": "sift", "tile_threshold": 1, "tile_size": 2048, "tile_overlap": 64}
    whole = {**tiled, "tile_threshold": 10**12}
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if not args.rss_only:
            t0 = time.perf_counter()
            cube = make_cube(Path(tmp) / "bench.cub", args.lines)
            print(f"synthetic cube {SAMPLES} x {args.lines} written in {time.perf_counter() - t0:.1f} s")
            rows += [
                ("tiled-1p", run(cube, tiled)),
                ("tiled-2p", run(cube, tiled, processes=2)),
                (f"crop {args.crop_lines} whole", run(cube, whole, lines=args.crop_lines)),
                (f"crop {args.crop_lines} tiled", run(cube, tiled, lines=args.crop_lines)),
            ]
            cube.unlink()
        if args.rss_lines:
            big = make_cube(Path(tmp) / "big.cub", args.rss_lines)
            for size in args.tile_size:
                rows.append(
                    (f"{args.rss_lines // 1000}k tiled {size}", run(big, {**tiled, "tile_size": size}))
                )
    base = rows[0][1]["mpx_s"]
    print(f"\n{'mode':<20}{'s':>7}{'MP/s':>7}{'kp/s':>8}{'kp':>9}{'x base':>7}", end="")
    print(f"{'RSS MiB':>8}{'anon MiB':>9}{'non-cv':>7}")
    for name, r in rows:
        print(
            f"{name:<20}{r['wall']:>7.1f}{r['mpx_s']:>7.2f}{r['kp_s']:>8.0f}{r['keypoints']:>9.0f}"
            f"{r['mpx_s'] / base:>7.2f}{r['rss_mib']:>8.0f}{r['anon_mib']:>9.0f}{r['outside_cv']:>7.1%}"
        )
    print(
        "\nMP/s, kp/s of tiled-2p: aggregate of both processes (OpenCV one thread each). RSS: peak resident\n"
        "set (ru_maxrss: shared libraries, and at most RESIDENT_BYTES = 32 MiB of the cube's mapped pages,\n"
        "which the reader then releases); anon: peak private memory. non-cv: share of extraction time\n"
        "outside OpenCV's detectAndCompute."
    )


if __name__ == "__main__":
    main()
