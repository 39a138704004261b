"""The footprint an ISIS cube already carries (the ``Polygon`` blob written by ``footprintinit``)."""

from __future__ import annotations

import os
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon

from tiepoint.errors import FootprintError
from tiepoint.footprint.polygon import rewrap


def cube_footprint(image: Any, lon_domain: int = 360) -> Polygon | MultiPolygon:
    """The cube's ``Footprint`` Polygon blob, in the requested longitude domain.

    ISIS writes the blob as WKT in positive-east longitude (0-360) and planetocentric latitude,
    already split at 0/360; it is made valid and re-cut for ``lon_domain``.

    Parameters
    ----------
    image : path or opened image
        A cube path (opened with :func:`tiepoint.io.open_image`) or an object with
        ``footprint_blob()`` returning a shapely geometry or None, and ``path``.
    lon_domain : {360, 180}

    Returns
    -------
    Polygon or MultiPolygon

    Raises
    ------
    FootprintError
        If the image has no footprint blob or it holds no polygon.
    """
    if isinstance(image, str | os.PathLike):
        try:
            from tiepoint.io import open_image
        except ImportError as exc:
            raise FootprintError(f"cannot open the cube: {exc}", image) from None
        with open_image(image) as opened:
            return cube_footprint(opened, lon_domain)
    path = getattr(image, "path", None)
    blob = image.footprint_blob()
    if blob is None:
        raise FootprintError("the cube has no footprint Polygon blob (run ISIS footprintinit)", path)
    if isinstance(blob, bytes | str):
        text = blob.decode("latin-1") if isinstance(blob, bytes) else blob
        blob = shapely.from_wkt(text.rstrip("\0").strip())
    footprint = rewrap(shapely.make_valid(blob), lon_domain)
    if footprint.is_empty:
        raise FootprintError("the cube's footprint Polygon blob holds no polygon", path)
    return footprint
