"""The cube reader: exact windows over many blocks in both layouts, and at most a bounded part of the
cube resident in the process however much of it is read (what SLURM/cgroups count against a worker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiepoint.io import CubeWriter, isis_reader, open_image, write_cube


def _mapping_rss_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (/proc/self/smaps; 0 if it is not mapped)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            inside = line.endswith(str(path))
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.mark.parametrize(
    ("fmt", "tile_size", "byte_order"),
    [("bsq", None, "Lsb"), ("bsq", None, "Msb"), ("tile", (128, 96), "Msb"), ("tile", (300, 700), "Lsb")],
)  # fmt: skip
def test_random_windows_over_many_blocks(tmp_path, fmt, tile_size, byte_order):
    rng = np.random.default_rng(7)
    truth = rng.integers(-3000, 3000, (2, 2500, 700)).astype(np.int16)  # full-width blocks of ~750 rows
    path = write_cube(
        tmp_path / "w.cub",
        truth,
        pixel_type="SignedWord",
        format=fmt,
        tile_size=tile_size,
        byte_order=byte_order,
    )
    windows = [((0, 2500), (0, 700)), ((3, 2497), (1, 699)), ((0, 2500), (10, 40)), ((1000, 1001), (0, 700))]
    for _ in range(30):
        l0, l1 = np.sort(rng.choice(2501, 2, replace=False))
        s0, s1 = np.sort(rng.choice(701, 2, replace=False))
        windows.append(((int(l0), int(l1)), (int(s0), int(s1))))
    with open_image(path) as img:
        for i, ((l0, l1), (s0, s1)) in enumerate(windows):
            band = 1 + i % 2
            np.testing.assert_array_equal(
                img.read_raw(((l0, l1), (s0, s1)), band), truth[band - 1, l0:l1, s0:s1]
            )


@pytest.mark.parametrize("fmt", ["tile", "bsq"])
def test_reads_keep_little_of_the_file_resident(tmp_path, fmt):
    """Reading a 128 MiB cube window by window (as tiled extraction does) and then whole, the cube's
    resident pages in this process never pass the reader's bound (a plain memory map reaches 128 MiB)."""
    lines, samples = 16384, 4096  # 128 MiB of SignedWord
    path = tmp_path / "big.cub"
    rows = np.arange(samples, dtype=np.int16)[None, :].repeat(1024, axis=0)
    with CubeWriter(path, (lines, samples), pixel_type="SignedWord", format=fmt) as writer:
        for l0 in range(0, lines, 1024):
            writer.write_window(((l0, l0 + 1024), (0, samples)), rows)
    bound_kib = (
        getattr(isis_reader, "RESIDENT_BYTES", 32 << 20) >> 10
    ) + 4096  # + large page-cache folios mapped around the last reads
    peak_kib = 0
    with open_image(path) as img:
        for l0 in range(0, lines, 2048):
            for s0 in range(0, samples, 2048):
                window = img.read(((l0, l0 + 2048), (s0, s0 + 2048)))
                assert window.shape == (2048, 2048) and window.data[0, 5] == s0 + 5
                peak_kib = max(peak_kib, _mapping_rss_kib(path))
        assert img.read().shape == (lines, samples)
        peak_kib = max(peak_kib, _mapping_rss_kib(path))
    assert 0 < peak_kib <= bound_kib, f"{peak_kib} KiB of the cube's mapping resident (bound {bound_kib})"
