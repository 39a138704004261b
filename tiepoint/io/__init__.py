"""Planetary image I/O: ISIS3 cubes (numpy + pvl) and, through rasterio/GDAL, PDS3, GeoTIFF, PNG, JPEG.

>>> from tiepoint.io import open_image
>>> with open_image("image.cub") as img:  # doctest: +SKIP
...     window = img.read(((0, 512), (0, 512)))  # MaskedArray, physical units, special pixels masked

See :class:`tiepoint.io.base.Image` for the interface, :mod:`tiepoint.io.isis_reader` for what a cube
read returns, :func:`write_cube` / :class:`CubeWriter` to write cubes, :func:`content_hash`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tiepoint.io.base import Image, ImageNotFoundError, Window
from tiepoint.io.hashing import content_hash
from tiepoint.io.isis_label import is_isis_label
from tiepoint.io.isis_reader import IsisCube
from tiepoint.io.isis_writer import CubeWriter, write_cube
from tiepoint.io.rasterio_reader import RasterioImage

__all__ = [
    "CubeWriter",
    "Image",
    "ImageNotFoundError",
    "IsisCube",
    "RasterioImage",
    "Window",
    "content_hash",
    "open_image",
    "write_cube",
]


def open_image(path: str | os.PathLike[str]) -> Image:
    """Open an image: an ISIS3 cube (attached or detached label, found by ``Object = IsisCube``) or
    anything rasterio/GDAL reads.

    Raises
    ------
    ImageNotFoundError
        The file does not exist.
    ImageError, UnsupportedFormatError
        The file is damaged or of an unsupported kind; the message names the file and the problem.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise ImageNotFoundError("the file does not exist", p) from None
    except IsADirectoryError:
        raise ImageNotFoundError("is a directory, not an image file", p) from None
    if is_isis_label(head):
        return IsisCube(p)
    return RasterioImage(p)
