"""Writer of ISIS3 cubes: Tile or BandSequential, every supported pixel type, Lsb/Msb, blobs.

:class:`CubeWriter` writes a cube window by window through a memory map, so a generator can write a
5000 x 20000 cube one tile row at a time; :func:`write_cube` writes an array in one call.

File layout (attached): label (``Label Bytes``, a multiple of 65536 bytes, NUL padded), pixels, then
the blobs: ``Table`` s, the Footprint ``Polygon`` (WKT) and the ``CSMState`` ``String``. Detached
(``detached=True``): the label is *path* (``<stem>.lbl`` if *path* ends in ``.cub``); pixels go to
``<stem>.cub`` (``^Core``) and each blob to ``<stem>.<Type>.<Name>`` (``^<Type>``), as ISIS names
them. Pixels never written, and edge-tile padding, are NULL.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
import pvl
import shapely
from shapely.geometry.base import BaseGeometry

from tiepoint.errors import ImageError, UnsupportedFormatError
from tiepoint.io.isis_label import default_tile_size, encode_block
from tiepoint.io.special_pixels import PIXEL_TYPES, encode
from tiepoint.io.windows import Window, normalize_window

_LABEL_QUANTUM = 65536
_TABLE_KINDS = {("i", 4): ("Integer", "i4"), ("f", 8): ("Double", "f8"), ("f", 4): ("Real", "f4")}


def _csm_model_name(state: str) -> str:
    """The CSM model name of a state: its first line (``"<ModelName>\n<JSON>"``) or ``m_modelName``."""
    head = state.split("\n", 1)[0].strip()
    if head and not head.startswith("{"):
        return head
    try:
        return str(json.loads(state[state.find("{") :]).get("m_modelName", "Unknown"))
    except (json.JSONDecodeError, AttributeError):
        return "Unknown"


def _table_blob(name: str, records: np.ndarray, byte_order: str, path: Path) -> tuple[bytes, pvl.PVLObject]:
    """Bytes and label keywords of a Table blob holding the structured array *records*."""
    arr = np.asarray(records)
    if arr.dtype.names is None or arr.ndim != 1:
        raise ValueError(f"{path}: table {name!r} must be a 1-D structured array")
    order = "<" if byte_order == "Lsb" else ">"
    meta = pvl.PVLObject([("Records", len(arr)), ("ByteOrder", byte_order)])
    spec = []
    for fname in arr.dtype.names:
        ftype = arr.dtype.fields[fname][0]
        base, shape = ftype.base, ftype.shape
        if base.kind == "S" and not shape:
            isis, code, size = "Text", f"S{base.itemsize}", base.itemsize
        elif (base.kind, base.itemsize) in _TABLE_KINDS and len(shape) <= 1:
            isis, code = _TABLE_KINDS[(base.kind, base.itemsize)]
            code, size = order + code, int(shape[0]) if shape else 1
        else:
            raise ValueError(
                f"{path}: table {name!r} field {fname!r} of dtype {ftype} has no ISIS type "
                "(int32 -> Integer, float64 -> Double, float32 -> Real, bytes -> Text)"
            )
        spec.append((fname, code, shape))
        meta.append("Field", pvl.PVLGroup([("Name", fname), ("Type", isis), ("Size", size)]))
    return arr.astype(np.dtype(spec)).tobytes(), meta


class CubeWriter:
    """Write an ISIS3 cube window by window.

    Parameters
    ----------
    path : str or Path
        The cube, or the label when *detached* (``.lbl``; given ``x.cub``, the label is ``x.lbl``).
        :attr:`path` is the label's path.
    shape : (lines, samples) or (bands, lines, samples)
    format : {"tile", "bsq"}
    pixel_type : {"UnsignedByte", "SignedWord", "UnsignedWord", "UnsignedInteger", "Real"}
    byte_order : {"Lsb", "Msb"}
    base, multiplier : float
        ``physical = raw * multiplier + base`` (integer types only).
    tile_size : int or (tile_lines, tile_samples), optional
        Default: ISIS's rule (:func:`tiepoint.io.isis_label.default_tile_size`).
    polygon : shapely geometry, optional
        Written as the ``Footprint`` Polygon blob (WKT).
    csm_state : str, optional
        Written as the ``CSMState`` String blob.
    label_extra : mapping, optional
        Extra groups for the ``IsisCube`` object, e.g. ``{"Instrument": {"TargetName": "Mars"}}``.
    tables : mapping of str to structured array, optional
        ``Table`` blobs by name; fields int32 -> Integer, float64 -> Double, float32 -> Real, ``S<n>``
        -> Text (n bytes); a 1-D sub-array field sets ``Size``. Written in *byte_order*.
    detached : bool

    Examples
    --------
    >>> with CubeWriter("big.cub", (20000, 5000)) as w:  # doctest: +SKIP
    ...     for l0 in range(0, 20000, 1000):
    ...         w.write_window(((l0, l0 + 1000), (0, 5000)), make_rows(l0))
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        shape: tuple[int, int] | tuple[int, int, int],
        *,
        format: Literal["tile", "bsq"] = "tile",
        pixel_type: str = "SignedWord",
        byte_order: Literal["Lsb", "Msb"] = "Lsb",
        base: float = 0.0,
        multiplier: float = 1.0,
        tile_size: int | tuple[int, int] | None = None,
        polygon: BaseGeometry | None = None,
        csm_state: str | None = None,
        label_extra: Mapping[str, Mapping[str, Any]] | None = None,
        tables: Mapping[str, np.ndarray] | None = None,
        detached: bool = False,
    ) -> None:
        self.path = Path(path)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(
                f"{self.path}: shape must be (lines, samples) or (bands, lines, samples), got {shape}"
            )
        self.bands, self.lines, self.samples = (int(v) for v in shape)
        if pixel_type not in PIXEL_TYPES:
            raise UnsupportedFormatError(
                f"cannot write pixel type {pixel_type!r}; supported: {', '.join(PIXEL_TYPES)}", self.path
            )
        self.ptype = PIXEL_TYPES[pixel_type]
        if byte_order not in ("Lsb", "Msb"):
            raise ValueError(f"{self.path}: byte_order must be 'Lsb' or 'Msb', got {byte_order!r}")
        if format not in ("tile", "bsq"):
            raise ValueError(f"{self.path}: format must be 'tile' or 'bsq', got {format!r}")
        if self.ptype.is_float and (base != 0.0 or multiplier != 1.0):
            raise ValueError(f"{self.path}: Base/Multiplier apply to integer pixel types only, not Real")
        if multiplier == 0.0:
            raise ValueError(f"{self.path}: multiplier must not be 0")
        self.base, self.multiplier = float(base), float(multiplier)
        self.tiled = format == "tile"
        item = self.ptype.dtype.itemsize
        if not self.tiled:
            self.tile_lines, self.tile_samples = 1, self.samples
        elif tile_size is None:
            self.tile_lines = default_tile_size(self.lines, item)
            self.tile_samples = default_tile_size(self.samples, item)
        else:
            tl, ts = (tile_size, tile_size) if isinstance(tile_size, int) else tile_size
            if tl < 1 or ts < 1:
                raise ValueError(f"{self.path}: tile_size must be positive, got {tile_size}")
            self.tile_lines, self.tile_samples = int(tl), int(ts)
        self.ntiles_y = math.ceil(self.lines / self.tile_lines)
        self.ntiles_x = math.ceil(self.samples / self.tile_samples)
        self.nbytes = self.bands * self.ntiles_y * self.ntiles_x * self.tile_lines * self.tile_samples * item
        self.file_dtype = self.ptype.dtype.newbyteorder("<" if byte_order == "Lsb" else ">")
        self.byte_order = byte_order
        extra = dict(label_extra or {})
        if "Core" in extra:
            raise ValueError(f"{self.path}: label_extra must not contain 'Core'")
        blobs: list[tuple[str, str, bytes, Mapping[str, Any]]] = []
        for tname, records in (tables or {}).items():
            blobs.append(("Table", tname, *_table_blob(tname, records, byte_order, self.path)))
        if polygon is not None:
            blobs.append(
                ("Polygon", "Footprint", shapely.to_wkt(polygon, rounding_precision=-1).encode(), {})
            )
        if csm_state is not None:
            meta = {"ModelName": _csm_model_name(csm_state), "PluginName": "UsgsAstroPluginCSM"}
            blobs.append(("String", "CSMState", csm_state.encode("utf-8"), meta))

        self.detached = detached
        if detached:
            if self.path.suffix.lower() == ".cub":  # x.cub asked for: pixels there, the label in x.lbl
                self.path = self.path.with_suffix(".lbl")
            self.data_path = self.path.with_suffix(".cub")
            label_bytes = 0
            text = self._label_text(1, blobs, extra, label_bytes)
        else:
            self.data_path = self.path
            label_bytes = _LABEL_QUANTUM
            while True:
                text = self._label_text(label_bytes + 1, blobs, extra, label_bytes)
                if len(text) < label_bytes:
                    break
                label_bytes = -(-(len(text) + 1024) // _LABEL_QUANTUM) * _LABEL_QUANTUM
        self.data_offset = label_bytes
        try:
            if detached:
                self.path.write_bytes(text.encode("latin-1"))
                for type_, name, data, _ in blobs:
                    self._blob_path(type_, name).write_bytes(data)
            with open(self.data_path, "wb") as f:
                if not detached:
                    f.write(text.encode("latin-1").ljust(label_bytes, b"\0"))
                f.truncate(label_bytes + self.nbytes)
                if not detached:
                    f.seek(label_bytes + self.nbytes)
                    for _, _, data, _ in blobs:
                        f.write(data)
        except OSError as exc:
            raise ImageError(f"cannot write the cube: {exc}", self.path) from None
        self._mm: np.memmap | None = np.memmap(
            self.data_path,
            dtype=self.file_dtype,
            mode="r+",
            offset=label_bytes,
            shape=(self.bands, self.ntiles_y, self.ntiles_x, self.tile_lines, self.tile_samples),
        )
        self._touched = np.zeros((self.bands, self.ntiles_y, self.ntiles_x), dtype=bool)

    def _blob_path(self, type_: str, name: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{type_}.{name}")

    def _label_text(
        self,
        start: int,
        blobs: list[tuple[str, str, bytes, Mapping[str, Any]]],
        extra: dict,
        label_bytes: int,
    ) -> str:
        core: dict[str, Any] = {}
        if self.detached:
            core["^Core"] = self.data_path.name
        core["StartByte"] = start
        core["Format"] = "Tile" if self.tiled else "BandSequential"
        if self.tiled:
            core["TileSamples"] = self.tile_samples
            core["TileLines"] = self.tile_lines
        core["Dimensions"] = {"Samples": self.samples, "Lines": self.lines, "Bands": self.bands}
        core["Pixels"] = {
            "Type": self.ptype.name,
            "ByteOrder": self.byte_order,
            "Base": self.base,
            "Multiplier": self.multiplier,
        }
        lines = ["Object = IsisCube", *encode_block("Core", core, 1)]
        for name, group in extra.items():
            if not isinstance(group, Mapping):
                raise ValueError(f"{self.path}: label_extra[{name!r}] must be a mapping of keywords")
            lines += ["", *encode_block(name, group, 1, "Group")]
        lines += ["End_Object", ""]
        if label_bytes:
            lines += [*encode_block("Label", {"Bytes": label_bytes}, 0), ""]
        pos = start + self.nbytes
        for type_, name, data, meta in blobs:
            body = pvl.PVLObject([("Name", name)])
            if self.detached:
                body.append(f"^{type_}", self._blob_path(type_, name).name)
                body.append("StartByte", 1)
            else:
                body.append("StartByte", pos)
                pos += len(data)
            body.append("Bytes", len(data))
            for key, value in meta.items():
                body.append(key, value)
            lines += [*encode_block(type_, body, 0), ""]
        lines.append("End")
        return "\n".join(lines) + "\n"

    def write_window(
        self,
        window: Window | None,
        data: np.ndarray,
        band: int = 1,
        *,
        mask: np.ndarray | None = None,
        special: np.ndarray | None = None,
    ) -> None:
        """Write physical values into a window of one band.

        Parameters
        ----------
        window : ((line_start, line_stop), (sample_start, sample_stop)) or None
            0-based, stop exclusive; None is the whole band.
        data : ndarray or MaskedArray, shape of the window
            Physical values; masked pixels and NaN become NULL, values outside the type's valid range
            become LRS / HRS (as ISIS writes them).
        band : int
            1-based.
        mask : ndarray of bool, optional
            Extra pixels to write as NULL.
        special : ndarray of uint8, optional
            Special-pixel codes (``tiepoint.io.special_pixels``) to write where non-zero.
        """
        if self._mm is None:
            raise ValueError(f"{self.path}: the writer is closed")
        if not 1 <= band <= self.bands:
            raise ValueError(f"{self.path}: band {band} is not in 1..{self.bands}")
        (l0, l1), (s0, s1) = normalize_window(window, (self.lines, self.samples), self.path)
        if np.shape(data) != (l1 - l0, s1 - s0):
            raise ValueError(f"{self.path}: data of shape {np.shape(data)} does not fit window {window}")
        if np.ma.isMaskedArray(data):
            m = np.ma.getmaskarray(data)
            mask = m if mask is None else (m | np.asarray(mask, dtype=bool))
            data = np.ma.getdata(data)
        raw = encode(data, self.ptype, base=self.base, multiplier=self.multiplier, mask=mask, special=special)
        TL, TS = self.tile_lines, self.tile_samples
        ty0, ty1 = l0 // TL, -(-l1 // TL)
        tx0, tx1 = s0 // TS, -(-s1 // TS)
        mm = self._mm[band - 1]
        # tiles not written before and not wholly inside the window (edge tiles are padded) start NULL
        ys = np.arange(ty0, ty1)
        xs = np.arange(tx0, tx1)
        full_y = (ys * TL >= l0) & ((ys + 1) * TL <= l1)
        full_x = (xs * TS >= s0) & ((xs + 1) * TS <= s1)
        touched = self._touched[band - 1, ty0:ty1, tx0:tx1]
        need = ~touched & ~(full_y[:, None] & full_x[None, :])
        if need.any():
            mm[ty0:ty1, tx0:tx1][need] = self.ptype.null
        touched[...] = True
        for ty in range(ty0, ty1):
            a = max(l0 - ty * TL, 0)
            b = min(l1 - ty * TL, TL)
            r0 = ty * TL + a - l0
            src = raw[r0 : r0 + b - a]
            for tx in range(tx0, tx1):
                c = max(s0 - tx * TS, 0)
                d = min(s1 - tx * TS, TS)
                c0 = tx * TS + c - s0
                mm[ty, tx, a:b, c:d] = src[:, c0 : c0 + d - c]

    def close(self) -> Path:
        """NULL-fill the tiles never written, flush, and return the label's path."""
        if self._mm is not None:
            for b in range(self.bands):
                for ty in np.flatnonzero(~self._touched[b].all(axis=1)):
                    self._mm[b, ty][~self._touched[b, ty]] = self.ptype.null
            self._mm.flush()
            self._mm = None
        return self.path

    def __enter__(self) -> CubeWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_cube(
    path: str | os.PathLike[str],
    data: np.ndarray,
    *,
    format: Literal["tile", "bsq"] = "tile",
    pixel_type: str = "SignedWord",
    byte_order: Literal["Lsb", "Msb"] = "Lsb",
    base: float = 0.0,
    multiplier: float = 1.0,
    tile_size: int | tuple[int, int] | None = None,
    mask: np.ndarray | None = None,
    special: np.ndarray | None = None,
    polygon: BaseGeometry | None = None,
    csm_state: str | None = None,
    label_extra: Mapping[str, Mapping[str, Any]] | None = None,
    tables: Mapping[str, np.ndarray] | None = None,
    detached: bool = False,
) -> Path:
    """Write *data* (``(lines, samples)`` or ``(bands, lines, samples)``, physical units) as an ISIS3 cube.

    Masked pixels (MaskedArray mask or *mask*) and NaN become NULL; *special* (uint8 codes, see
    ``tiepoint.io.special_pixels``) writes other special pixels. The other parameters are those of
    :class:`CubeWriter`. Returns the path of the label (the cube itself when attached).
    """
    arr = np.ma.asanyarray(data) if np.ma.isMaskedArray(data) else np.asanyarray(data)
    if arr.ndim not in (2, 3):
        raise ValueError(f"{path}: data must be 2-D or 3-D, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{path}: cannot write data of dtype {arr.dtype}")
    arr3 = arr[None] if arr.ndim == 2 else arr
    mask3 = (
        None
        if mask is None
        else np.broadcast_to(
            np.asarray(mask, dtype=bool).reshape(
                (1, *np.shape(mask)) if np.ndim(mask) == 2 else np.shape(mask)
            ),
            arr3.shape,
        )
    )
    special3 = None if special is None else np.asarray(special).reshape(arr3.shape)
    with CubeWriter(
        path,
        arr3.shape,
        format=format,
        pixel_type=pixel_type,
        byte_order=byte_order,
        base=base,
        multiplier=multiplier,
        tile_size=tile_size,
        polygon=polygon,
        csm_state=csm_state,
        label_extra=label_extra,
        tables=tables,
        detached=detached,
    ) as w:
        step = max(w.tile_lines, (4_000_000 // max(w.samples, 1)) // w.tile_lines * w.tile_lines)
        for b in range(w.bands):
            for l0 in range(0, w.lines, step):
                l1 = min(l0 + step, w.lines)
                w.write_window(
                    ((l0, l1), (0, w.samples)),
                    arr3[b, l0:l1],
                    band=b + 1,
                    mask=None if mask3 is None else mask3[b, l0:l1],
                    special=None if special3 is None else special3[b, l0:l1],
                )
    return w.path
