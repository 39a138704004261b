"""The small image interface every reader implements, and window handling."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from tiepoint.errors import ImageError

Window = tuple[tuple[int, int], tuple[int, int]]
"""``((line_start, line_stop), (sample_start, sample_stop))``: 0-based, stop exclusive."""


class ImageNotFoundError(ImageError, FileNotFoundError):
    """The image (or a file it names) does not exist."""


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


class Image(ABC):
    """An open image. Use :func:`tiepoint.io.open_image`; close it or use it as a context manager.

    Attributes
    ----------
    path : Path
    shape : tuple of int
        ``(lines, samples)`` of one band.
    bands : int
    dtype : numpy.dtype
        The stored pixel type (native byte order).
    label : Mapping
        The PVL label (ISIS cubes) or a dict of GDAL metadata (other formats).
    """

    path: Path
    shape: tuple[int, int]
    bands: int
    dtype: np.dtype
    label: Mapping[str, Any]

    @abstractmethod
    def read(self, window: Window | None = None, band: int = 1) -> np.ma.MaskedArray:
        """Read one band (1-based), or a window of it, in physical units with no-data masked.

        ``.mask`` is always a full boolean array. Masked float pixels hold NaN.
        """

    @property
    def blobs(self) -> list[tuple[str, str]]:
        """``(type, name)`` of each data blob (ISIS cubes; empty for other formats)."""
        return []

    def footprint_blob(self) -> BaseGeometry | None:
        """The footprint ``Polygon`` blob as a shapely geometry, or None."""
        return None

    def csm_state(self) -> str | None:
        """The JSON of the ``CSMState`` string blob, or None."""
        return None

    def table(self, name: str) -> np.ndarray:
        """The records of table blob *name* as a structured array."""
        raise ImageError(f"no table {name!r}: this format has no tables", self.path)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the file."""

    def _check_band(self, band: int) -> int:
        if not isinstance(band, int | np.integer) or not 1 <= band <= self.bands:
            raise ValueError(f"{self.path}: band {band!r} is not in 1..{self.bands}")
        return int(band)

    def __enter__(self) -> Image:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {str(self.path)!r} {self.shape[0]} lines x {self.shape[1]} samples"
            f" x {self.bands} band(s) {self.dtype}>"
        )
