"""The cube reader reads with positional reads: exact windows over many blocks, both layouts, and none of
the cube's pages left in the process's resident set (what SLURM/cgroups count against a worker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiepoint.io import CubeWriter, open_image, write_cube


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


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
def test_reads_leave_no_file_pages_resident(tmp_path, fmt):
    lines, samples = 8192, 4096  # 64 MiB of SignedWord
    path = tmp_path / "big.cub"
    rows = np.arange(samples, dtype=np.int16)[None, :].repeat(512, axis=0)
    with CubeWriter(path, (lines, samples), pixel_type="SignedWord", format=fmt) as writer:
        for l0 in range(0, lines, 512):
            writer.write_window(((l0, l0 + 512), (0, samples)), rows)
    with open_image(path) as img:
        img.read(((0, 16), (0, 16)))  # opened and warmed up
        before = _status_kib("RssFile")
        for l0 in range(0, lines, 1024):
            for s0 in range(0, samples, 2048):
                window = img.read(((l0, l0 + 1024), (s0, s0 + 2048)))
                assert window.shape == (1024, 2048) and window.data[0, 5] == s0 + 5
        grown_mib = (_status_kib("RssFile") - before) / 1024
        mapped = [line for line in Path("/proc/self/maps").read_text().splitlines() if str(path) in line]
    assert mapped == []  # the cube is not memory-mapped ...
    assert grown_mib < 8, (
        f"file-backed RSS grew by {grown_mib:.0f} MiB reading a 64 MiB cube"
    )  # ... nor resident
