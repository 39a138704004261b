"""Pixel windows: the one ``Window`` type of tiepoint and its helpers (as ``rasterio.windows``).

A window is ``((line_start, line_stop), (sample_start, sample_stop))``: 0-based, stops exclusive, the
form every reader's ``read(window=...)`` takes. Helpers build and combine windows:
:func:`normalize_window` (validate against an image), :func:`chip_around` (a square chip centred on a
pixel, for registration), :func:`clip` (to an image's extent) and :func:`intersection`.
"""

from __future__ import annotations

import math
from pathlib import Path

Window = tuple[tuple[int, int], tuple[int, int]]
"""``((line_start, line_stop), (sample_start, sample_stop))``: 0-based, stop exclusive."""


def normalize_window(window: Window | None, shape: tuple[int, int], path: Path | str) -> Window:
    """Validate *window* against *shape* ``(lines, samples)``; None means the whole band.

    Raises
    ------
    ValueError
        A malformed or empty window, or one outside the image.
    """
    lines, samples = shape
    if window is None:
        return (0, lines), (0, samples)
    try:
        (l0, l1), (s0, s1) = window
        l0, l1, s0, s1 = (int(v) for v in (l0, l1, s0, s1))
    except (TypeError, ValueError):
        raise ValueError(
            f"{path}: window must be ((line_start, line_stop), (sample_start, sample_stop)), got {window!r}"
        ) from None
    if not (0 <= l0 < l1 <= lines and 0 <= s0 < s1 <= samples):
        raise ValueError(
            f"{path}: window {((l0, l1), (s0, s1))} is empty or outside the image "
            f"({lines} lines x {samples} samples)"
        )
    return (l0, l1), (s0, s1)


def chip_around(line: float, sample: float, size: int) -> Window:
    """The *size* x *size* window whose central pixel contains ``(line, sample)``.

    Coordinates are OpenCV-style (the centre of pixel 0 at 0.0, see :mod:`tiepoint.pixels`); *size*
    must be odd so the chip has a central pixel. The window may reach outside the image: pass it
    through :func:`clip` before reading.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"chip size must be a positive odd number, got {size}")
    half = size // 2
    cl, cs = math.floor(line + 0.5), math.floor(sample + 0.5)
    return (cl - half, cl + half + 1), (cs - half, cs + half + 1)


def clip(window: Window, shape: tuple[int, int]) -> Window | None:
    """*window* cut to an image of *shape* ``(lines, samples)``; None if nothing is left."""
    return intersection(window, ((0, shape[0]), (0, shape[1])))


def intersection(a: Window, b: Window) -> Window | None:
    """The common part of two windows, or None if they do not overlap."""
    (al0, al1), (as0, as1) = a
    (bl0, bl1), (bs0, bs1) = b
    l0, l1, s0, s1 = max(al0, bl0), min(al1, bl1), max(as0, bs0), min(as1, bs1)
    if l0 >= l1 or s0 >= s1:
        return None
    return (l0, l1), (s0, s1)


__all__ = ["Window", "chip_around", "clip", "intersection", "normalize_window"]
