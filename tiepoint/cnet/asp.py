"""Ames Stereo Pipeline ``.match`` files: binary tie points of one image pair.

Layout (little-endian, as Vision Workbench's ``MatcherIO`` writes it)::

    uint64 n1, uint64 n2                         (equal: record i of each list is match i)
    n1 records of image 1, then n2 records of image 2, each:
        float32 x, float32 y                     sub-pixel column, row; centre of the first pixel = 0
        int32 ix, int32 iy                       integer location
        float32 orientation, float32 scale, float32 interest
        uint8 polarity
        uint32 octave, uint32 scale_lvl
        uint64 ndesc, then ndesc float32         (tiepoint writes ndesc = 0: 45 bytes a record)

Positions are in ASP's convention, which is OpenCV's (tiepoint's keypoint files): an ISIS sample
is ``x + 1`` (:mod:`tiepoint.pixels`). Files are named ``<prefix>-<stem1>__<stem2>.match``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiepoint.atomic import write_atomically
from tiepoint.cnet.model import CnetError, ControlNetwork
from tiepoint.pixels import from_isis_coords

RECORD = np.dtype(
    [
        ("x", "<f4"),
        ("y", "<f4"),
        ("ix", "<i4"),
        ("iy", "<i4"),
        ("orientation", "<f4"),
        ("scale", "<f4"),
        ("interest", "<f4"),
        ("polarity", "u1"),
        ("octave", "<u4"),
        ("scale_lvl", "<u4"),
        ("ndesc", "<u8"),
    ]
)
"""One interest point without descriptor (45 bytes, packed)."""
STEM_CHARS = 60
"""ASP truncates each image stem in a match file name to this many characters."""


@dataclass(slots=True)
class MatchFile:
    """The matches of one pair: positions in ASP's (= OpenCV's) pixel convention, float32 as stored."""

    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray

    def __len__(self) -> int:
        return int(self.x1.shape[0])


def match_path(
    prefix: str | os.PathLike[str], image1: str | os.PathLike[str], image2: str | os.PathLike[str]
) -> Path:
    """``<prefix>-<stem1>__<stem2>.match``, as ASP names the match file of two images."""
    s1, s2 = Path(image1).stem[:STEM_CHARS], Path(image2).stem[:STEM_CHARS]
    prefix = Path(prefix)
    return prefix.parent / f"{prefix.name}-{s1}__{s2}.match"


def _records(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    rec = np.zeros(x.shape[0], dtype=RECORD)
    rec["x"], rec["y"] = x, y
    rec["ix"], rec["iy"] = np.round(x), np.round(y)
    rec["scale"] = 1.0
    return rec


def write_match(
    path: str | os.PathLike[str], x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray
) -> Path:
    """Write one pair's matches (ASP/OpenCV pixel convention) atomically.

    Raises
    ------
    CnetError
        If the four arrays differ in length or hold NaN.
    """
    arrays = [np.asarray(a, dtype=np.float64).reshape(-1) for a in (x1, y1, x2, y2)]
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise CnetError("x1, y1, x2, y2 must have the same length", path)
    if any(np.isnan(a).any() for a in arrays):
        raise CnetError("match positions must not be NaN", path)
    head = np.array([n, n], dtype="<u8").tobytes()
    data = head + _records(arrays[0], arrays[1]).tobytes() + _records(arrays[2], arrays[3]).tobytes()
    path = Path(path)
    write_atomically(path, data)
    return path


def _read_list(raw: bytes, pos: int, n: int, path: Path) -> tuple[np.ndarray, int]:
    """n records from *pos* (vectorized when none has a descriptor)."""
    end = pos + n * RECORD.itemsize
    if end <= len(raw):
        rec = np.frombuffer(raw, dtype=RECORD, count=n, offset=pos)
        if not rec["ndesc"].any():
            return rec, end
    out = np.zeros(n, dtype=RECORD)
    for i in range(n):  # records with descriptors have variable length
        if pos + RECORD.itemsize > len(raw):
            raise CnetError(f"truncated: record {i} of {n} is incomplete", path)
        out[i] = np.frombuffer(raw, dtype=RECORD, count=1, offset=pos)[0]
        ndesc = int(out[i]["ndesc"])
        pos += RECORD.itemsize + 4 * ndesc
        if pos > len(raw):
            raise CnetError(f"truncated: the descriptor of record {i} runs past the end", path)
    return out, pos


def read_match(path: str | os.PathLike[str]) -> MatchFile:
    """Read an ASP ``.match`` file.

    Raises
    ------
    CnetError
        For a missing, truncated or inconsistent file (the two lists must have equal lengths).
    """
    path = Path(path)
    if not path.is_file():
        raise CnetError("no such file", path)
    raw = path.read_bytes()
    if len(raw) < 16:
        raise CnetError(f"truncated: {len(raw)} bytes, a match file starts with two uint64 counts", path)
    n1, n2 = (int(v) for v in np.frombuffer(raw, dtype="<u8", count=2))
    if n1 != n2:
        raise CnetError(f"the two point lists have different lengths ({n1} and {n2})", path)
    if n1 * RECORD.itemsize > len(raw):
        raise CnetError(f"truncated: {n1} matches need at least {16 + 2 * n1 * RECORD.itemsize} bytes", path)
    a, pos = _read_list(raw, 16, n1, path)
    b, pos = _read_list(raw, pos, n2, path)
    if pos != len(raw):
        raise CnetError(f"{len(raw) - pos} bytes after the last record", path)
    return MatchFile(*(r[k].astype(np.float32) for r, k in ((a, "x"), (a, "y"), (b, "x"), (b, "y"))))


def network_pairs(
    net: ControlNetwork, serial_order: Sequence[str]
) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """Every pair of usable measures of a point, grouped by image pair.

    A measure is usable when neither it nor its point is ignored and it has a sample and line.
    Images are numbered by their position in *serial_order*; a pair ``(i, j)`` has ``i < j`` and
    maps to (measure rows on image i, measure rows on image j).
    """
    order = {s: k for k, s in enumerate(serial_order)}
    serial = net.measures.serial
    image_of_value = np.array([order.get(str(v), -1) for v in serial.values], dtype=np.int64)
    image = np.where(
        serial.codes >= 0, image_of_value[np.maximum(serial.codes, 0)] if image_of_value.size else -1, -1
    )
    owner = net.measure_point
    usable = (
        (net.measures.ignore != 1)
        & (net.points.ignore[owner] != 1)
        & ~np.isnan(net.measures.sample)
        & ~np.isnan(net.measures.line)
        & (image >= 0)
    )
    rows = np.flatnonzero(usable)
    counts = np.bincount(owner[rows], minlength=net.n_points)
    starts = np.concatenate(([0], np.cumsum(counts)))[:-1]
    firsts, seconds = [], []
    for k in np.unique(counts[counts >= 2]):  # one vectorized step per point size
        pts = np.flatnonzero(counts == k)
        block = rows[starts[pts][:, None] + np.arange(k)]
        i, j = np.triu_indices(int(k), 1)
        firsts.append(block[:, i].ravel())
        seconds.append(block[:, j].ravel())
    if not firsts:
        return {}
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    ia, ib = image[a], image[b]
    swap = ia > ib
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    ia, ib = np.minimum(ia, ib), np.maximum(ia, ib)
    keep = ia != ib
    a, b, ia, ib = a[keep], b[keep], ia[keep], ib[keep]
    key = ia * len(serial_order) + ib
    srt = np.argsort(key, kind="stable")
    key, a, b = key[srt], a[srt], b[srt]
    cut = np.flatnonzero(np.diff(key)) + 1
    out = {}
    for lo, hi in zip(np.concatenate(([0], cut)), np.concatenate((cut, [key.size])), strict=True):
        out[(int(key[lo] // len(serial_order)), int(key[lo] % len(serial_order)))] = (a[lo:hi], b[lo:hi])
    return out


def write_network_matches(
    net: ControlNetwork, prefix: str | os.PathLike[str], cube_paths: Mapping[str, str | os.PathLike[str]]
) -> list[Path]:
    """Write one ``.match`` file per image pair that shares points of *net*.

    Parameters
    ----------
    net : ControlNetwork
    prefix : path
        ASP output prefix (``run/run`` gives ``run/run-<stem1>__<stem2>.match``).
    cube_paths : mapping serial number -> image path
        Its order is the image order ASP will be given (``image1`` is the earlier image).
        Measures of images not in it are skipped.
    """
    serials = list(cube_paths)
    paths = [Path(cube_paths[s]) for s in serials]
    written = []
    for (i, j), (a, b) in network_pairs(net, serials).items():
        x1, y1 = from_isis_coords(net.measures.sample[a], net.measures.line[a])
        x2, y2 = from_isis_coords(net.measures.sample[b], net.measures.line[b])
        written.append(write_match(match_path(prefix, paths[i], paths[j]), x1, y1, x2, y2))
    return written
