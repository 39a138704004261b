"""ISIS3 cube labels: find and parse the PVL label, describe the pixel layout and blobs, write labels.

pvl is correct but slow and ``pvl.load(path)`` reads a whole file, so the label bytes (up to the
``End`` line) are read here and handed to :func:`pvl.loads`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pvl

from tiepoint.errors import ImageError, UnsupportedFormatError
from tiepoint.io import pvl_fast
from tiepoint.io.pvl_fast import FastPVLError, PVLDepthError
from tiepoint.io.special_pixels import PIXEL_TYPES, PixelType

_END = re.compile(rb"^[ \t]*End[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)
_ISIS_START = re.compile(rb"\A(?:\s|/\*.*?\*/|#[^\n]*\n)*Object\s*=\s*IsisCube\b", re.IGNORECASE | re.DOTALL)
_MAX_LABEL = 64 * 2**20
_CHUNK = 65536


def is_isis_label(head: bytes) -> bool:
    """True if *head* (a file's first bytes) starts an ISIS3 cube label (``Object = IsisCube``)."""
    return _ISIS_START.match(head) is not None


def read_label_text(path: Path) -> str:
    """Return the PVL label at the start of *path*, up to and including its ``End`` line.

    Raises
    ------
    ImageError
        If no ``End`` line appears before the first NUL byte, the end of file, or 64 MiB.
    """
    buf = bytearray()
    with open(path, "rb") as f:
        while len(buf) < _MAX_LABEL:
            chunk = f.read(_CHUNK)
            start = max(0, len(buf) - 8)
            buf += chunk
            m = _END.search(buf, start)
            nul = buf.find(b"\0", start)
            if m is not None and (nul < 0 or m.start() < nul):
                return buf[: m.end()].decode("latin-1")
            if nul >= 0 or not chunk:
                break
    raise ImageError("the PVL label has no 'End' line (not an ISIS3 cube, or a damaged label)", path)


def parse_label(text: str, path: Path) -> pvl.PVLModule:
    """Parse label *text* into pvl objects; errors become :class:`ImageError` naming *path*.

    :func:`tiepoint.io.pvl_fast.loads` (same result, ~20x faster) first; ``pvl.loads`` for what it
    does not handle.
    """
    try:
        return pvl_fast.loads(text)
    except PVLDepthError as exc:
        raise ImageError(f"the label is not an ISIS label: its {exc}", path) from None
    except (FastPVLError, ValueError, TypeError):
        pass
    try:
        return pvl.loads(text)
    except RecursionError:
        raise ImageError(
            "the label is not an ISIS label: its blocks nest too deeply to parse", path
        ) from None
    except Exception as exc:  # pvl raises several lexer/parser error types
        raise ImageError(f"the label is not valid PVL: {exc}", path) from None


def _get(obj: Mapping, keys: tuple[str, ...], path: Path, kind: type = int) -> Any:
    cur: Any = obj
    for k in keys:
        if not isinstance(cur, Mapping) or k not in cur:
            raise ImageError(f"the label has no {'/'.join(keys)}", path)
        cur = cur[k]
    if kind is int and isinstance(cur, int) and not isinstance(cur, bool):
        return cur
    if kind is float and isinstance(cur, int | float) and not isinstance(cur, bool):
        return float(cur)
    if kind is str and isinstance(cur, str):
        return cur
    raise ImageError(f"the label's {'/'.join(keys)} = {cur!r} is not a {kind.__name__}", path)


def default_tile_size(n: int, itemsize: int) -> int:
    """ISIS's default tile length for a dimension of *n* pixels of *itemsize* bytes.

    The dimension itself if it is at most the maximum (2048 / 1024 / 512 for 1 / 2 / 4 bytes),
    else its largest divisor in (128, maximum], else 128.
    """
    maximum = {1: 2048, 2: 1024}.get(itemsize, 512)
    if n <= maximum:
        return n
    for size in range(maximum, 128, -1):
        if n % size == 0:
            return size
    return 128


@dataclass(frozen=True)
class CoreLayout:
    """Where and how a cube's pixels are stored.

    Band-sequential data is described as tiles of one full line (``tile_lines = 1``,
    ``tile_samples = samples``), which is the same byte layout.
    """

    data_path: Path
    offset: int
    """0-based byte offset of the first pixel in *data_path*."""
    tiled: bool
    samples: int
    lines: int
    bands: int
    tile_samples: int
    tile_lines: int
    ptype: PixelType
    byte_order: str
    base: float
    multiplier: float

    @property
    def file_dtype(self) -> np.dtype:
        return self.ptype.dtype.newbyteorder("<" if self.byte_order == "Lsb" else ">")

    @property
    def ntiles_x(self) -> int:
        return math.ceil(self.samples / self.tile_samples)

    @property
    def ntiles_y(self) -> int:
        return math.ceil(self.lines / self.tile_lines)

    @property
    def nbytes(self) -> int:
        """Bytes of pixel data, edge-tile padding included."""
        per_band = self.ntiles_x * self.ntiles_y * self.tile_samples * self.tile_lines
        return self.bands * per_band * self.ptype.dtype.itemsize

    @property
    def scaled(self) -> bool:
        return not self.ptype.is_float and (self.base != 0.0 or self.multiplier != 1.0)

    def describe(self) -> str:
        """e.g. ``1000 lines x 1000 samples x 1 band of SignedWord (Tile 500x500)``."""
        layout = f"Tile {self.tile_samples}x{self.tile_lines}" if self.tiled else "BandSequential"
        return (
            f"{self.lines} lines x {self.samples} samples x {self.bands} band(s) of {self.ptype.name} "
            f"({layout})"
        )


def _pointer(ref: Any, key: str, label_path: Path) -> Path:
    """The file a ``^Key = name`` or ``^Key = (name, start)`` pointer names, beside the label."""
    name = ref[0] if isinstance(ref, list | tuple) and ref else ref
    if not isinstance(name, str) or not name.strip() or "\0" in name:
        raise ImageError(f"the label's {key} pointer {ref!r} does not name a file", label_path)
    return label_path.parent / name


def _referenced(ref: Any, key: str, label_path: Path) -> Path:
    """The file a ``^Core`` / ``^DnFile`` pointer names (relative to the label's folder); must exist."""
    target = _pointer(ref, key, label_path)
    if not target.is_file():
        raise ImageError(f"the detached data file {target} named by {key} does not exist", label_path)
    return target


def core_layout(label: Mapping, label_path: Path, _depth: int = 0) -> CoreLayout:
    """Read the ``IsisCube > Core`` object of *label* into a :class:`CoreLayout` and validate it.

    Raises
    ------
    ImageError
        Missing or invalid keywords, a missing detached data file.
    UnsupportedFormatError
        A pixel type, format or byte order ISIS cube I/O does not support.
    """
    path = label_path
    core = ("IsisCube", "Core")
    core_obj = label.get("IsisCube", {}).get("Core", {}) if isinstance(label.get("IsisCube"), Mapping) else {}
    if isinstance(core_obj, Mapping) and "^DnFile" in core_obj:  # external cube (.ecub): pixels of another
        if _depth >= 4:
            raise ImageError("^DnFile references nest too deep (a loop?)", path)
        ref = _referenced(core_obj["^DnFile"], "^DnFile", path)
        return core_layout(parse_label(read_label_text(ref), ref), ref, _depth + 1)
    samples = _get(label, (*core, "Dimensions", "Samples"), path)
    lines = _get(label, (*core, "Dimensions", "Lines"), path)
    bands = _get(label, (*core, "Dimensions", "Bands"), path)
    if min(samples, lines, bands) < 1:
        raise ImageError(
            f"the label's Dimensions ({lines} lines x {samples} samples x {bands} bands) must be positive",
            path,
        )
    type_name = _get(label, (*core, "Pixels", "Type"), path, str)
    if type_name not in PIXEL_TYPES:
        hint = " (ISIS cube I/O does not convert Double)" if type_name == "Double" else ""
        raise UnsupportedFormatError(
            f"unknown or unsupported pixel type {type_name!r}{hint}; supported: {', '.join(PIXEL_TYPES)}",
            path,
        )
    ptype = PIXEL_TYPES[type_name]
    byte_order = _get(label, (*core, "Pixels", "ByteOrder"), path, str)
    if byte_order not in ("Lsb", "Msb"):
        raise UnsupportedFormatError(f"unknown ByteOrder {byte_order!r} (expected Lsb or Msb)", path)
    pixels = label["IsisCube"]["Core"]["Pixels"]
    base = _get(label, (*core, "Pixels", "Base"), path, float) if "Base" in pixels else 0.0
    mult = _get(label, (*core, "Pixels", "Multiplier"), path, float) if "Multiplier" in pixels else 1.0
    fmt = _get(label, (*core, "Format"), path, str)
    if fmt == "Tile":
        ts = _get(label, (*core, "TileSamples"), path)
        tl = _get(label, (*core, "TileLines"), path)
        if ts < 1 or tl < 1:
            raise ImageError(f"the label's tile size {ts}x{tl} must be positive", path)
    elif fmt == "BandSequential":
        ts, tl = samples, 1
    else:
        raise UnsupportedFormatError(f"unknown cube Format {fmt!r} (expected Tile or BandSequential)", path)
    start = _get(label, (*core, "StartByte"), path)
    if start < 1:
        raise ImageError(f"the label's Core StartByte = {start} must be >= 1 (it is 1-based)", path)
    data_path = path
    if "^Core" in core_obj:
        data_path = _referenced(core_obj["^Core"], "^Core", path)
    return CoreLayout(
        data_path, start - 1, fmt == "Tile", samples, lines, bands, ts, tl, ptype, byte_order, base, mult
    )


@dataclass(frozen=True)
class BlobInfo:
    """One blob (a top-level label object with data): type, name, file and byte range."""

    type: str
    name: str
    path: Path
    offset: int
    """0-based."""
    nbytes: int
    obj: Mapping


def blob_infos(label: Mapping, label_path: Path) -> list[BlobInfo]:
    """All blobs of *label*: top-level objects other than IsisCube with StartByte and Bytes."""
    out = []
    for key, obj in label.items():
        if key == "IsisCube" or not isinstance(obj, Mapping) or "StartByte" not in obj or "Bytes" not in obj:
            continue
        start, nbytes = obj["StartByte"], obj["Bytes"]
        name = str(obj.get("Name", ""))
        if not isinstance(start, int) or not isinstance(nbytes, int) or start < 1 or nbytes < 0:
            raise ImageError(
                f"blob {key} {name!r} has an invalid StartByte/Bytes ({start}, {nbytes})", label_path
            )
        path = label_path
        ref = obj.get(f"^{key}")
        if ref is not None:
            path = _pointer(ref, f"^{key}", label_path)
        out.append(BlobInfo(key, name, path, start - 1, nbytes, obj))
    return out


# ---------------------------------------------------------------------------------------------- writing

_BARE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KEY = re.compile(r"^\^?[A-Za-z][A-Za-z0-9_:]*$")
_RESERVED = {
    "END", "NULL", "TRUE", "FALSE", "N/A", "UNK", "OBJECT", "GROUP", "END_OBJECT", "END_GROUP",
    "BEGIN_OBJECT", "BEGIN_GROUP",
}  # fmt: skip


def _value(v: Any) -> str:
    if isinstance(v, pvl.collections.Quantity):
        return f"{_value(v.value)} <{v.units}>"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return repr(float(v))
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, list | tuple | np.ndarray):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    s = str(v)
    if _BARE.match(s) and s.upper() not in _RESERVED:
        return s
    if '"' in s:
        if "'" in s:
            raise ValueError(f"cannot write a PVL string containing both quote characters: {s!r}")
        return f"'{s}'"
    return f'"{s}"'


def encode_block(name: str, body: Mapping, indent: int, kind: str = "Object") -> list[str]:
    """PVL lines of ``Object|Group = name`` holding *body* (nested mappings become Groups)."""
    pad = "  " * indent
    for key in (name, *body.keys()):
        if not _KEY.match(key):
            raise ValueError(f"{key!r} is not a valid PVL keyword or block name")
    lines = [f"{pad}{kind} = {name}"]
    width = max((len(k) for k, v in body.items() if not isinstance(v, Mapping)), default=0)
    for k, v in body.items():
        if isinstance(v, Mapping):
            sub = "Object" if isinstance(v, pvl.PVLObject) else "Group"
            lines += ["", *encode_block(k, v, indent + 1, sub)]
        else:
            lines.append(f"{pad}  {k.ljust(width)} = {_value(v)}")
    lines.append(f"{pad}End_{kind}")
    return lines
