"""ISIS3 pixel types and special pixels.

The constants are the facts of ISIS3's ``SpecialPixel.h`` and the rules of its cube I/O
(``CubeIoHandler``): on reading, a raw value outside a type's valid range is special; a value that
matches one of the five codes is that code, any other out-of-range value reads as LRS; Real NaN is
not special in ISIS but tiepoint masks it too. On writing, values below / above the valid range
become LRS / HRS and NaN becomes NULL.

Special pixels are reported two ways: :func:`invalid_mask` (what :meth:`ImageReader.read` masks) and
:func:`classify`, a ``uint8`` code array (:data:`VALID`, :data:`NULL`, :data:`LRS`, :data:`LIS`,
:data:`HIS`, :data:`HRS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VALID, NULL, LRS, LIS, HIS, HRS = 0, 1, 2, 3, 4, 5
"""Special-pixel codes returned by :func:`classify` (0 = a valid pixel)."""
SPECIAL_NAMES = {NULL: "NULL", LRS: "LRS", LIS: "LIS", HIS: "HIS", HRS: "HRS"}


def _f32(bits: int) -> np.float32:
    return np.array([bits], dtype=np.uint32).view(np.float32)[0]


@dataclass(frozen=True)
class PixelType:
    """One ISIS pixel type: its storage, valid range and special-pixel raw values."""

    name: str
    dtype: np.dtype
    """Stored type in native byte order."""
    valid_min: float
    valid_max: float
    specials: dict[int, float]
    """Special code -> raw value written for it."""

    @property
    def is_float(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def null(self) -> float:
        return self.specials[NULL]

    def physical_dtype(self, scaled: bool) -> np.dtype:
        """The dtype :meth:`ImageReader.read` returns: the stored type, or float when scaled.

        Real reads as float32; a scaled 8/16-bit type as float32 (exact for every raw value);
        a scaled UnsignedInteger as float64.
        """
        if self.is_float:
            return np.dtype(np.float32)
        if not scaled:
            return self.dtype
        return np.dtype(np.float64 if self.dtype.itemsize > 2 else np.float32)


VALID_MIN4 = _f32(0xFF7FFFFA)
PIXEL_TYPES: dict[str, PixelType] = {
    "UnsignedByte": PixelType(
        "UnsignedByte", np.dtype(np.uint8), 1, 254, {NULL: 0, LRS: 0, LIS: 0, HIS: 255, HRS: 255}
    ),
    "SignedWord": PixelType(
        "SignedWord",
        np.dtype(np.int16),
        -32752,
        32767,
        {NULL: -32768, LRS: -32767, LIS: -32766, HIS: -32765, HRS: -32764},
    ),
    "UnsignedWord": PixelType(
        "UnsignedWord", np.dtype(np.uint16), 3, 65522, {NULL: 0, LRS: 1, LIS: 2, HIS: 65534, HRS: 65535}
    ),
    "UnsignedInteger": PixelType(
        "UnsignedInteger",
        np.dtype(np.uint32),
        3,
        4294967282,
        {NULL: 0, LRS: 1, LIS: 2, HIS: 4294967294, HRS: 4294967295},
    ),
    "Real": PixelType(
        "Real",
        np.dtype(np.float32),
        float(VALID_MIN4),
        float(np.finfo(np.float32).max),
        {
            NULL: float(_f32(0xFF7FFFFB)),
            LRS: float(_f32(0xFF7FFFFC)),
            LIS: float(_f32(0xFF7FFFFD)),
            HIS: float(_f32(0xFF7FFFFE)),
            HRS: float(_f32(0xFF7FFFFF)),
        },
    ),
}
"""The pixel types ISIS3's cube I/O converts. ``Double`` exists in ISIS's PixelType enum but its cube
I/O has no conversion for it, so tiepoint neither reads nor writes Double cubes."""


def invalid_mask(raw: np.ndarray, ptype: PixelType, out: np.ndarray | None = None) -> np.ndarray:
    """True where a raw (native byte order) value is a special pixel, or NaN for Real.

    Parameters
    ----------
    raw : ndarray
        Raw stored values.
    ptype : PixelType
    out : ndarray of bool, optional
        Where to write the result.

    Returns
    -------
    ndarray of bool, same shape.
    """
    if ptype.is_float:
        out = np.greater_equal(raw, ptype.dtype.type(ptype.valid_min), out=out)
        return np.logical_not(out, out=out)  # NaN compares False -> masked
    info = np.iinfo(ptype.dtype)
    lo, hi = ptype.dtype.type(ptype.valid_min), ptype.dtype.type(ptype.valid_max)
    if hi == info.max:
        return np.less(raw, lo, out=out)
    if lo == info.min:
        return np.greater(raw, hi, out=out)
    # values in [lo, hi] map to [0, hi - lo] after a wrapping subtraction
    return np.greater(raw - lo, hi - lo, out=out)


def classify(raw: np.ndarray, ptype: PixelType) -> np.ndarray:
    """Special-pixel code of each raw value (0 valid, else NULL/LRS/LIS/HIS/HRS), as ISIS reads it.

    UnsignedByte has only two codes on disk: 0 reads as NULL and 255 as HRS.
    """
    codes = np.zeros(raw.shape, dtype=np.uint8)
    bad = invalid_mask(raw, ptype)
    if not bad.any():
        return codes
    values = raw[bad]
    sub = np.full(values.shape, LRS, dtype=np.uint8)  # an unmatched out-of-range value reads as LRS
    order = (LIS, LRS, NULL, HIS, HRS)  # byte codes coincide: 0 reads as NULL, 255 as HRS
    if ptype.is_float:
        bits = (
            values.view(np.uint32)
            if values.dtype == np.float32
            else values.astype(np.float32).view(np.uint32)
        )
        for code in order:
            sub[bits == np.float32(ptype.specials[code]).view(np.uint32)] = code
        sub[np.isnan(values)] = NULL
    else:
        for code in order:
            sub[values == ptype.specials[code]] = code
    codes[bad] = sub
    return codes


def encode(
    physical: np.ndarray,
    ptype: PixelType,
    *,
    base: float = 0.0,
    multiplier: float = 1.0,
    mask: np.ndarray | None = None,
    special: np.ndarray | None = None,
) -> np.ndarray:
    """Convert physical values to raw stored values (native byte order) the way ISIS writes them.

    Parameters
    ----------
    physical : ndarray
        Values in physical units.
    ptype : PixelType
    base, multiplier : float
        ``physical = raw * multiplier + base`` for integer types (ignored for Real).
    mask : ndarray of bool, optional
        True -> NULL.
    special : ndarray of uint8, optional
        Special-pixel codes (see :func:`classify`); non-zero entries override the value.

    Returns
    -------
    ndarray of ``ptype.dtype``
    """
    physical = np.asarray(physical)
    lo, hi = ptype.valid_min, ptype.valid_max
    with np.errstate(over="ignore", invalid="ignore"):
        if ptype.is_float:
            values = physical.astype(np.float32)
            bad = ~((values >= np.float32(lo)) & (values <= np.float32(hi)))  # NaN, +-inf, below VALID_MIN4
        elif physical.dtype.kind in "biu" and base == 0.0 and multiplier == 1.0:
            values = physical
            bad = (values < lo) | (values > hi)
        else:
            values = physical.astype(np.float64)
            if base != 0.0:
                values -= base
            if multiplier != 1.0:
                values /= multiplier
            values += np.copysign(0.5, values)  # ISIS rounds half away from zero
            np.trunc(values, out=values)
            bad = ~((values >= lo) & (values <= hi))  # NaN too
        raw = values.astype(ptype.dtype)  # out-of-range entries are replaced below
    table = np.array([0] + [ptype.specials[c] for c in (NULL, LRS, LIS, HIS, HRS)], dtype=ptype.dtype)
    if bad.any():
        v = values[bad]
        codes = np.where(v < lo, LRS, HRS)
        if v.dtype.kind == "f":
            codes[np.isnan(v)] = NULL
        raw[bad] = table[codes]
    if mask is not None:
        raw[np.asarray(mask, dtype=bool)] = ptype.null
    if special is not None:
        special = np.asarray(special)
        nz = special != 0
        if nz.any():
            sel = special[nz]
            if sel.max() > HRS:
                raise ValueError(f"special-pixel codes must be 0..5, got {int(sel.max())}")
            raw[nz] = table[sel]
    return raw


def pixel_type(name: str) -> PixelType:
    """The :class:`PixelType` called *name* (KeyError if ISIS cube I/O does not support it)."""
    return PIXEL_TYPES[name]
