"""Benchmark tiepoint.io's ISIS3 reader against rasterio/GDAL (ISIS3 driver) on the same cube.

Writes a 20000-line x 5000-sample SignedWord (``--pixel-type``) Lsb (``--byte-order``) tiled cube
(ISIS default tiles: 1000 x 1000 for SignedWord) with some NULL pixels, then times, warm (file in
the page cache), best of N:

- a full read of band 1 (masked array, special pixels masked) and
- a 2000 x 2000 window read,

for tiepoint.io and for rasterio ``read(1, masked=True)``, and prints MB/s (raw stored bytes of
the region read / s) and the ratio. Usage::

    python bench/bench_io.py [--lines 20000] [--samples 5000] [--repeat 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from tiepoint.io import CubeWriter, open_image


def _best(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up: page cache, first-touch allocations
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def make_cube(
    path: Path, lines: int, samples: int, pixel_type: str = "SignedWord", byte_order: str = "Lsb"
) -> float:
    """Write the benchmark cube tile row by tile row; return the seconds it took."""
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    with CubeWriter(path, (lines, samples), pixel_type=pixel_type, byte_order=byte_order) as w:
        step = w.tile_lines
        for l0 in range(0, lines, step):
            l1 = min(l0 + step, lines)
            rows = rng.integers(3, 250, (l1 - l0, samples)).astype(w.ptype.dtype)
            mask = np.zeros(rows.shape, bool)
            mask[:, :7] = True  # a NULL margin, like a real image's edge
            w.write_window(((l0, l1), (0, samples)), rows, mask=mask)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--pixel-type", default="SignedWord", help="UnsignedByte, SignedWord, UnsignedWord, Real")
    ap.add_argument("--byte-order", default="Lsb", choices=["Lsb", "Msb"])
    args = ap.parse_args()
    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.cub"
        write_s = make_cube(path, args.lines, args.samples, args.pixel_type, args.byte_order)
        item = open_image(path).dtype.itemsize
        full_mb = args.lines * args.samples * item / 1e6
        size_mb = path.stat().st_size / 1e6
        print(
            f"cube: {args.lines} lines x {args.samples} samples {args.pixel_type} {args.byte_order}, "
            f"{size_mb:.0f} MB"
        )
        print(f"write (CubeWriter, tile rows): {write_s:.2f} s, {full_mb / write_s:.0f} MB/s")
        l0, s0 = args.lines // 2 - 1000 + 123, args.samples // 2 - 1000 + 45  # not tile-aligned
        win = ((l0, l0 + 2000), (s0, s0 + 2000))
        win_mb = 2000 * 2000 * item / 1e6

        img = open_image(path)
        ds = rasterio.open(path)
        ours_full, gdal_full = img.read(), ds.read(1, masked=True)
        assert np.array_equal(ours_full.mask, np.ma.getmaskarray(gdal_full))
        assert np.array_equal(ours_full.filled(0), gdal_full.filled(0))
        del ours_full, gdal_full
        rio_win = Window(s0, l0, 2000, 2000)
        assert np.array_equal(img.read(win).filled(0), ds.read(1, window=rio_win, masked=True).filled(0))

        rows = [
            ("full read", full_mb, lambda: img.read(), lambda: ds.read(1, masked=True)),
            (
                "2000x2000 window",
                win_mb,
                lambda: img.read(win),
                lambda: ds.read(1, window=rio_win, masked=True),
            ),
        ]
        print(f"{'case':<18} {'tiepoint MB/s':>14} {'rasterio MB/s':>14} {'ratio':>7}")
        for name, mb, ours, gdal in rows:
            t_ours, t_gdal = _best(ours, args.repeat), _best(gdal, args.repeat)
            print(f"{name:<18} {mb / t_ours:>14.0f} {mb / t_gdal:>14.0f} {t_gdal / t_ours:>6.2f}x")
        img.close()
        ds.close()


if __name__ == "__main__":
    main()
