"""Reader of ISIS3 cubes (attached or detached label, Tile or BandSequential) over a memory map.

Pixels are read through a read-only memory map of the data file, viewed as an array shaped ``(bands,
tiles_y, tiles_x, tile_lines, tile_samples)``: a window touches only the tiles it needs. Rows are copied
(and byte-swapped, if the cube is Msb) straight into the output, a ~1 MiB block of rows at a time across
all the window's tiles, and masked/scaled while the block is in the CPU cache.

A mapped page stays in the process's resident set until it is unmapped, and SLURM and cgroups count
that against a worker: reading a 10 GB cube through a plain map would make a 10 GB worker. So whenever
:data:`RESIDENT_BYTES` (32 MiB) of the map have been read, its pages are released from the process
(``madvise(MADV_DONTNEED)``); the kernel keeps them in its page cache, so nothing is read from disk again.
``bench/bench_features.py``'s RSS run (tiled SIFT of a 5000 x 50000 SignedWord cube, 477 MiB): peak RSS
1754 MiB with the map kept, 1301 MiB with the release (private memory 1228 MiB in both).

What :meth:`IsisCube.read` returns
    Real cubes: float32. Integer cubes with ``Base = 0`` and ``Multiplier = 1``: the stored integer
    dtype, unchanged. Scaled integer cubes: ``raw * Multiplier + Base`` as float32 (float64 for
    UnsignedInteger). Special pixels (and NaN) are masked; in float results they hold NaN, in integer
    results their raw value. :meth:`IsisCube.read_special` gives the special-pixel codes.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from tiepoint.errors import ImageError
from tiepoint.io.base import ImageNotFoundError, ImageReader
from tiepoint.io.isis_label import BlobInfo, CoreLayout, blob_infos, core_layout, parse_label, read_label_text
from tiepoint.io.special_pixels import classify, invalid_mask
from tiepoint.io.windows import Window, normalize_window

_BLOCK_BYTES = 1 << 20
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)  # Linux, macOS; elsewhere pages stay until unmapped
RESIDENT_BYTES = 32 << 20
"""Bytes of a cube's memory map read before its pages are released from the process (``madvise``):
about the most of the file a reader adds to a worker's resident set."""
_TABLE_TYPES = {"Integer": "i4", "Double": "f8", "Real": "f4", "Text": "S"}


def _segments(start: int, stop: int, size: int) -> list[tuple[int, int, int, int]]:
    """Split ``[start, stop)`` into runs over tiles of *size*: ``(tile0, tile1, first, last)``.

    A run is either one partial tile (``tile1 = tile0 + 1``; pixels ``first:last`` within it) or
    consecutive whole tiles (``first = 0``, ``last = size``).
    """
    t0, t1 = start // size, -(-stop // size)
    out: list[tuple[int, int, int, int]] = []
    t = t0
    while t < t1:
        a = max(start - t * size, 0)
        b = min(stop - t * size, size)
        if a == 0 and b == size:
            u = t
            while u + 1 < t1 and stop - (u + 1) * size >= size:
                u += 1
            out.append((t, u + 1, 0, size))
            t = u + 1
        else:
            out.append((t, t + 1, a, b))
            t += 1
    return out


class IsisCube(ImageReader):
    """An open ISIS3 cube. Prefer :func:`tiepoint.io.open_image`.

    Parameters
    ----------
    path : str or Path
        The cube (attached label) or its detached ``.lbl`` label.

    Raises
    ------
    ImageError
        Damaged or inconsistent label, missing or truncated data.
    UnsupportedFormatError
        A pixel type/format ISIS cube I/O does not support.
    """

    _pixels: np.ndarray | None = None  # the data file's pixels over _mmap, mapped by the first read
    _mmap: mmap.mmap | None = None
    _lead = 0  # bytes from the start of the mapping to the first pixel
    _resident = 0  # bytes of the map read since its pages were last released

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ImageNotFoundError("the file does not exist", self.path)
        text = read_label_text(self.path)
        self.label = parse_label(text, self.path)
        self.layout: CoreLayout = core_layout(self.label, self.path)
        lay = self.layout
        if lay.data_path == self.path and lay.offset < len(text.encode("latin-1")):
            raise ImageError(
                f"the label's Core StartByte ({lay.offset + 1}) points inside the label text "
                f"({len(text)} bytes)",
                self.path,
            )
        size = lay.data_path.stat().st_size
        if size < lay.offset + lay.nbytes:
            have = max(0, size - lay.offset)
            raise ImageError(
                f"label says {lay.describe()} ({lay.nbytes} bytes from byte {lay.offset + 1}) but "
                f"{'the file' if lay.data_path == self.path else lay.data_path} has only {have} bytes "
                "of data",
                self.path,
            )
        self.shape = (lay.lines, lay.samples)
        self.bands = lay.bands
        self.dtype = lay.ptype.dtype
        self._blobs = blob_infos(self.label, self.path)

    # ------------------------------------------------------------------------------------- pixels

    def _map(self) -> np.ndarray:
        """The pixel data as an array over a read-only memory map of the data file (made on first use).

        Shaped ``(bands, tiles_y, tiles_x, tile_lines, tile_samples)`` (Tile) or ``(bands, lines,
        samples)`` (BandSequential), in the file's byte order.
        """
        if self._pixels is None:
            lay = self.layout
            if lay.tiled:
                shape: tuple[int, ...] = (
                    lay.bands,
                    lay.ntiles_y,
                    lay.ntiles_x,
                    lay.tile_lines,
                    lay.tile_samples,
                )
            else:
                shape = (lay.bands, lay.lines, lay.samples)
            start = lay.offset - lay.offset % mmap.ALLOCATIONGRANULARITY  # a mapping starts on a boundary
            try:
                with open(lay.data_path, "rb") as f:
                    self._mmap = mmap.mmap(
                        f.fileno(), lay.offset - start + lay.nbytes, access=mmap.ACCESS_READ, offset=start
                    )
            except (OSError, ValueError) as exc:
                raise ImageError(f"cannot map the data file: {exc}", self.path) from None
            self._lead = lay.offset - start
            count = int(np.prod(shape))
            self._pixels = np.frombuffer(self._mmap, lay.file_dtype, count, self._lead).reshape(shape)
        return self._pixels

    def _touch(self, nbytes: int) -> None:
        """Count ``nbytes`` of the map just read; past :data:`RESIDENT_BYTES`, release the whole map.

        ``madvise(MADV_DONTNEED)`` drops the pages from this process; the kernel keeps them in its page
        cache (a later read maps them again without disk I/O), but they no longer count in the process's
        resident set, which SLURM and cgroups hold a worker to. Releasing in batches rather than after
        every read keeps small repeated reads (chips, overlapping tiles) as fast as a plain memory map.
        """
        self._resident += nbytes
        if self._resident >= RESIDENT_BYTES and self._mmap is not None:
            self._resident = 0
            if _DONTNEED is not None:
                self._mmap.madvise(_DONTNEED)

    def _read(self, window: Window, band: int, out: np.ndarray, post: Callable[[slice], None] | None) -> None:
        """Copy the stored values of a (validated) window into *out* (native byte order).

        *post* is called with each block of output rows (about 1 MiB) right after it is filled, so
        masking and scaling run while the block is still in the CPU cache. The map's pages are released
        whenever :data:`RESIDENT_BYTES` have been read (:meth:`_touch`).
        """
        (l0, l1), (s0, s1) = window
        lay = self.layout
        try:  # a memory map past the end of a file that shrank would kill the process (SIGBUS)
            size = lay.data_path.stat().st_size
        except OSError as exc:
            raise ImageError(f"the data file is gone: {exc}", self.path) from None
        if size < lay.offset + lay.nbytes:
            raise ImageError(f"the data file shrank to {size} bytes after it was opened", self.path)
        mm = self._map()[band - 1]
        item = lay.file_dtype.itemsize
        step = max(1, _BLOCK_BYTES // ((s1 - s0) * out.itemsize))
        try:
            if not lay.tiled:
                row_bytes = lay.samples * item
                for r in range(l0, l1, step):
                    r1 = min(r + step, l1)
                    rows = slice(r - l0, r1 - l0)
                    out[rows] = mm[r:r1, s0:s1]
                    self._touch((r1 - r) * row_bytes)
                    if post is not None:
                        post(rows)
                return
            TL, TS = lay.tile_lines, lay.tile_samples
            cols = _segments(s0, s1, TS)
            tx_first, tx_stop = cols[0][0], cols[-1][1]
            for ty0, ty1, a, b in _segments(l0, l1, TL):
                for ty in range(ty0, ty1):
                    for ra in range(a, b, step):
                        rb = min(ra + step, b)
                        rows = slice(ty * TL + ra - l0, ty * TL + rb - l0)
                        dst = out[rows]
                        for tx0, tx1, c, d in cols:
                            c0, n = tx0 * TS + c - s0, tx1 - tx0
                            src = mm[ty, tx0:tx1, ra:rb, c:d]  # (tiles, rows, samples)
                            dst[:, c0 : c0 + n * (d - c)].reshape(rb - ra, n, d - c)[...] = src.transpose(
                                1, 0, 2
                            )
                        self._touch((tx_stop - tx_first) * (rb - ra) * TS * item)
                        if post is not None:
                            post(rows)
        except OSError as exc:  # e.g. the file shrank after it was opened
            raise ImageError(f"reading pixels failed: {exc}", self.path) from None

    def _window(self, window: Window | None, band: int) -> tuple[Window, tuple[int, int]]:
        self._check_band(band)
        win = normalize_window(window, self.shape, self.path)
        (l0, l1), (s0, s1) = win
        return win, (l1 - l0, s1 - s0)

    def read_raw(self, window: Window | None = None, band: int = 1) -> np.ndarray:
        """Stored values of one band (or a window), native byte order, no scaling or masking."""
        win, shape = self._window(window, band)
        out = np.empty(shape, dtype=self.layout.ptype.dtype)
        self._read(win, band, out, None)
        return out

    def read(self, window: Window | None = None, band: int = 1) -> np.ma.MaskedArray:
        """Read one band (1-based), or a window of it, in physical units with special pixels masked.

        Parameters
        ----------
        window : ((int, int), (int, int)), optional
            ``((line_start, line_stop), (sample_start, sample_stop))``, 0-based, stop exclusive.
        band : int

        Returns
        -------
        numpy.ma.MaskedArray
            See the module docstring for the dtype; ``.mask`` is a full boolean array.
        """
        lay, ptype = self.layout, self.layout.ptype
        win, shape = self._window(window, band)
        raw = np.empty(shape, dtype=ptype.dtype)
        mask = np.empty(shape, dtype=bool)
        data = np.empty(shape, dtype=ptype.physical_dtype(True)) if lay.scaled else raw
        mult, base = data.dtype.type(lay.multiplier), data.dtype.type(lay.base)

        def post(rows: slice) -> None:
            m = invalid_mask(raw[rows], ptype, out=mask[rows])
            if lay.scaled:
                d = np.multiply(raw[rows], mult, out=data[rows])
                if base != 0:
                    d += base
                np.copyto(d, np.nan, where=m)
            elif ptype.is_float:
                np.copyto(raw[rows], np.nan, where=m)

        self._read(win, band, raw, post)
        return np.ma.MaskedArray(data, mask=mask, copy=False)

    def read_special(self, window: Window | None = None, band: int = 1) -> np.ndarray:
        """Special-pixel codes of a band/window (``tiepoint.io.special_pixels``: 0 valid, 1 NULL, ...)."""
        return classify(self.read_raw(window, band), self.layout.ptype)

    # -------------------------------------------------------------------------------------- blobs

    @property
    def blobs(self) -> list[tuple[str, str]]:
        """``(type, name)`` of each blob, e.g. ``("Polygon", "Footprint")``, in label order."""
        return [(b.type, b.name) for b in self._blobs]

    def _blob(self, type_: str, name: str) -> BlobInfo | None:
        for b in self._blobs:
            if b.type == type_ and b.name == name:
                return b
        return None

    def blob_bytes(self, type_: str, name: str) -> bytes:
        """The raw data of blob *type_* / *name*.

        Raises
        ------
        ImageError
            No such blob, its file is missing, or the file ends before the blob does.
        """
        b = self._blob(type_, name)
        if b is None:
            raise ImageError(f"no {type_} blob named {name!r} (blobs: {self.blobs})", self.path)
        if not b.path.is_file():
            raise ImageError(f"the detached {type_} blob file {b.path} does not exist", self.path)
        try:
            with open(b.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                have = max(0, min(b.nbytes, size - b.offset))
                if have == b.nbytes:  # never seek or allocate past the end for a label that lies
                    f.seek(b.offset)
                    data = f.read(b.nbytes)
                    have = len(data)
        except OSError as exc:
            raise ImageError(
                f"reading {type_} blob {name!r} failed: {exc.strerror or exc}", self.path
            ) from None
        if have != b.nbytes:
            raise ImageError(
                f"{type_} blob {name!r} says {b.nbytes} bytes from byte {b.offset + 1} but "
                f"{b.path.name} has only {have} there (truncated file?)",
                self.path,
            )
        return data

    def footprint_blob(self) -> BaseGeometry | None:
        """The ``Polygon`` blob named ``Footprint`` (WKT) as a shapely geometry, or None if absent."""
        if self._blob("Polygon", "Footprint") is None:
            return None
        text = self.blob_bytes("Polygon", "Footprint").rstrip(b"\0").decode("latin-1").strip()
        try:
            return shapely.from_wkt(text)
        except shapely.errors.ShapelyError as exc:
            raise ImageError(f"the Footprint Polygon blob is not valid WKT: {exc}", self.path) from None

    def csm_state(self) -> str | None:
        """The JSON part of the ``String`` blob ``CSMState`` (from its first ``{``), or None if absent."""
        if self._blob("String", "CSMState") is None:
            return None
        text = self.blob_bytes("String", "CSMState").rstrip(b"\0").decode("utf-8", "replace")
        start = text.find("{")
        if start < 0:
            raise ImageError("the CSMState blob holds no JSON object", self.path)
        state = text[start:]
        try:
            json.loads(state)
        except json.JSONDecodeError as exc:
            raise ImageError(f"the CSMState blob is not valid JSON: {exc}", self.path) from None
        return state

    def table(self, name: str) -> np.ndarray:
        """The records of ``Table`` blob *name* as a structured array (native byte order).

        Field types: Integer -> int32, Double -> float64, Real -> float32, Text -> bytes (``S<Size>``);
        a numeric field with ``Size > 1`` is a sub-array.
        """
        b = self._blob("Table", name)
        if b is None:
            names = [n for t, n in self.blobs if t == "Table"]
            raise ImageError(f"no Table named {name!r} (tables: {names})", self.path)
        obj = b.obj
        order = "<" if obj.get("ByteOrder", "Lsb") == "Lsb" else ">"
        fields = obj.getall("Field") if hasattr(obj, "getall") and "Field" in obj else []
        spec = []
        for f in fields:
            ftype, size = f.get("Type"), f.get("Size", 1)
            if ftype not in _TABLE_TYPES or not isinstance(size, int) or size < 1:
                raise ImageError(
                    f"Table {name!r} field {f.get('Name')!r} has bad Type/Size {ftype!r}/{size!r}", self.path
                )
            if ftype == "Text":
                spec.append((str(f["Name"]), f"S{size}"))
            else:
                spec.append((str(f["Name"]), order + _TABLE_TYPES[ftype], (size,) if size > 1 else ()))
        dtype = np.dtype(spec)
        records = obj.get("Records")
        data = self.blob_bytes("Table", name)
        if not isinstance(records, int) or records * dtype.itemsize != len(data):
            raise ImageError(
                f"Table {name!r}: {records} records of {dtype.itemsize} bytes do not fill its "
                f"{len(data)} bytes",
                self.path,
            )
        arr = np.frombuffer(data, dtype=dtype, count=records)
        return arr.astype(dtype.newbyteorder("="))

    def close(self) -> None:
        """Drop the memory map (arrays already returned stay valid; a later read maps the file again)."""
        self._pixels = None
        mm, self._mmap = self._mmap, None
        if mm is not None:
            with contextlib.suppress(BufferError):  # a read in another thread holds a view: unmapped after it
                mm.close()

    def __reduce__(self) -> tuple:
        # pickle by path (e.g. to a Dask worker), never the memory-mapped pixels
        return (type(self), (str(self.path),))
