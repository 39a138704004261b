"""Planetary image I/O: ISIS3 cubes (numpy + pvl) and, through rasterio/GDAL, PDS3, GeoTIFF, PNG, JPEG.

>>> from tiepoint.io import open_image
>>> with open_image("image.cub") as img:  # doctest: +SKIP
...     img.shape, img.dtype, img.bands            # (lines, samples), stored dtype, band count
...     tile = img.read(((0, 512), (0, 512)))      # MaskedArray of band 1, physical units
...     img.blobs, img.footprint_blob(), img.csm_state(), img.table("InstrumentPointing")

``read(window=None, band=1)`` returns a :class:`numpy.ma.MaskedArray` whose ``.mask`` is a full
boolean array (ISIS special pixels, GDAL no-data, NaN). Its dtype: Real -> float32; integer cubes with
``Base = 0, Multiplier = 1`` keep their stored integer dtype; scaled integer cubes become float32
(float64 for UnsignedInteger); other formats keep their dtype unless a band has a scale/offset
(then float64). Masked float pixels hold NaN. ``window = ((line_start, line_stop), (sample_start,
sample_stop))``, 0-based, stop exclusive.

Write cubes with :func:`write_cube` or, window by window, :class:`CubeWriter`. :func:`content_hash`
identifies a file's content. Errors are :class:`tiepoint.errors.ImageError` /
:class:`~tiepoint.errors.UnsupportedFormatError` (and :class:`ImageNotFoundError`), naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from tiepoint.errors import ImageError
from tiepoint.fileinfo import file_kind
from tiepoint.io.base import ImageNotFoundError, ImageReader
from tiepoint.io.hashing import content_hash
from tiepoint.io.isis_label import is_isis_label
from tiepoint.io.isis_reader import IsisCube
from tiepoint.io.isis_writer import CubeWriter, write_cube
from tiepoint.io.rasterio_reader import RasterioImage
from tiepoint.io.windows import Window

__all__ = [
    "CubeWriter",
    "ImageNotFoundError",
    "ImageReader",
    "IsisCube",
    "RasterioImage",
    "Window",
    "content_hash",
    "open_image",
    "write_cube",
]


def open_image(path: str | os.PathLike[str]) -> ImageReader:
    """Open an image: an ISIS3 cube (attached or detached label, found by ``Object = IsisCube``) or
    anything rasterio/GDAL reads.

    Raises
    ------
    ImageNotFoundError
        The file does not exist, or the path is not a regular file (a directory, a named pipe, a broken
        symbolic link or a link loop; the message says which).
    ImageError, UnsupportedFormatError
        The file is damaged or of an unsupported kind; the message names the file and the problem.
    """
    p = Path(path)
    kind = file_kind(p)
    if kind == "missing":
        raise ImageNotFoundError("the file does not exist", p)
    if kind.startswith("unreadable"):
        raise ImageError(f"cannot open the image: it is {kind}", p)
    if kind != "a regular file":  # never open() a FIFO (blocks) or a device (endless)
        raise ImageNotFoundError(f"is {kind}, not an image file", p)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise ImageNotFoundError("the file does not exist", p) from None
    except OSError as exc:
        raise ImageError(f"cannot open the image: {exc.strerror or exc}", p) from None
    if is_isis_label(head):
        return IsisCube(p)
    return RasterioImage(p)
