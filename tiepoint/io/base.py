"""The small image interface every reader implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from tiepoint.errors import ImageError
from tiepoint.io.windows import Window


class ImageNotFoundError(ImageError, FileNotFoundError):
    """The image (or a file it names) does not exist."""


class ImageReader(ABC):
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

    def __enter__(self) -> ImageReader:
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
