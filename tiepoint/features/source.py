"""What :func:`tiepoint.features.extract` reads from: anything with ``.shape`` and ``.read(window)``.

That is the :mod:`tiepoint.io` image contract (``open_image(path)``); :class:`ArrayImage` gives an
in-memory array the same interface, and :func:`as_image` accepts either or a path.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tiepoint.io.windows import Window


@runtime_checkable
class ImageSource(Protocol):
    """The part of :mod:`tiepoint.io`'s image object that feature extraction uses."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def read(self, window: Window | None = None) -> np.ma.MaskedArray: ...


class ArrayImage:
    """An in-memory 2-D array (or masked array) behind the image interface.

    Parameters
    ----------
    data : array_like, shape (lines, samples)
        Pixel values; a masked array's mask marks no-data, and NaN/inf are masked too.
    path : str, optional
        Name shown in error messages.
    """

    def __init__(self, data: np.ndarray, path: str | None = None) -> None:
        data = np.ma.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"expected a 2-D array, got shape {data.shape}")
        self.data = data
        self.path = path
        self.dtype = data.dtype

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape  # type: ignore[return-value]

    def read(self, window: Window | None = None) -> np.ma.MaskedArray:
        if window is None:
            return self.data
        (l0, l1), (s0, s1) = window
        return self.data[l0:l1, s0:s1]


def as_image(image: Any) -> ImageSource:
    """Return ``image`` as an :class:`ImageSource`: opened with ``tiepoint.io.open_image`` if a path,
    wrapped in :class:`ArrayImage` if an array, unchanged if it already has ``shape`` and ``read``."""
    if isinstance(image, str | os.PathLike):
        from tiepoint.io import open_image  # lazy: io is the stage before this one

        return open_image(image)
    if isinstance(image, np.ndarray):
        return ArrayImage(image)
    if hasattr(image, "read") and hasattr(image, "shape"):
        return image
    raise TypeError(f"cannot extract features from {type(image).__name__}; pass a path, array or image")


def image_name(image: Any) -> str | None:
    """The image's path for error messages, if it has one."""
    path = getattr(image, "path", None)
    return None if path is None else str(path)
