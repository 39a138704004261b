"""What a pair's matcher sees of each image: the keypoints inside the overlap, buffered.

:func:`load_side` reads an HDF5 keypoint file (:mod:`tiepoint.features.store`) and keeps the
keypoints whose a-priori ground lat/lon lies inside the pair's lon/lat overlap grown by the a-priori
radius (a true match can lie that far outside it), tested with one vectorized ``shapely.contains_xy``.
Without ground coordinates (image-space pairs) every keypoint is kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from tiepoint.errors import MatchingError
from tiepoint.features.extractors import descriptor_norm
from tiepoint.features.store import read_keypoints
from tiepoint.matching.descriptors import Descriptors
from tiepoint.matching.matchers import MatchSide

MAX_BUFFER_LAT = 89.0
"""Longitude buffers are computed as at this latitude at most (closer to a pole, they'd be unbounded)."""


@dataclass(slots=True)
class Side:
    """One image of a pair as loaded: the matcher's view and the file's facts."""

    view: MatchSide
    attrs: dict[str, Any]
    """The keypoint file's attributes (``content_hash``, ``settings``, ``count``, ``created``, ...)."""
    has_ground: bool


def buffered(overlap: BaseGeometry, buffer_m: float, semimajor: float) -> BaseGeometry:
    """``overlap`` (lon/lat degrees) grown by at least ``buffer_m`` metres on a body of this radius.

    One degree of latitude is ``semimajor * pi / 180`` metres; a degree of longitude shrinks with the
    cosine of the latitude, so the growth in degrees is taken at the overlap's largest |latitude|
    (a superset elsewhere, which only adds candidates).
    """
    if overlap.is_empty or buffer_m <= 0:
        return overlap
    _, lat0, _, lat1 = overlap.bounds
    worst = min(max(abs(lat0), abs(lat1)), MAX_BUFFER_LAT)
    degrees = np.degrees(buffer_m / semimajor) / np.cos(np.radians(worst))
    return overlap.buffer(float(degrees))


def inside(region: BaseGeometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Mask of points inside ``region``, whichever longitude domain (0..360 or -180..180) each uses."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(len(lon), bool)
    if region.is_empty or not ok.any():
        return out
    shapely.prepare(region)  # in place: repeated point tests use a spatial index
    for shift in (0.0, -360.0, 360.0):
        out[ok] |= shapely.contains_xy(region, lon[ok] + shift, lat[ok])
    return out


def load_side(
    keypoint_file: str | os.PathLike[str],
    overlap: BaseGeometry | None,
    buffer_m: float,
    semimajor: float | None,
    use_ground: bool,
) -> Side:
    """The keypoints of one image that may match inside the pair's overlap.

    Parameters
    ----------
    keypoint_file : path
        An HDF5 keypoint file.
    overlap : shapely geometry or None
        The pair's lon/lat overlap (degrees); None keeps every keypoint with a ground position.
    buffer_m : float
        How far outside the overlap a keypoint's a-priori ground position may lie (metres).
    semimajor : float or None
        The body's radius (metres), to turn ``buffer_m`` into degrees; needed with an overlap.
    use_ground : bool
        Use ground positions (gated matching); False keeps every keypoint, with ``xyz = None``.

    Raises
    ------
    FeatureError
        The keypoint file is missing or unreadable (the message names it).
    MatchingError
        Ground positions are asked for but the file has none.
    """
    keypoints, ground, attrs = read_keypoints(keypoint_file)
    has_ground = ground is not None and all(k in ground for k in ("x", "y", "z", "lat", "lon"))
    norm = descriptor_norm(keypoints.extractor)
    rows = np.arange(len(keypoints), dtype=np.int32)
    xyz = None
    if use_ground:
        if not has_ground:
            raise MatchingError("the keypoint file has no ground coordinates (ingested without a camera?)",
                                keypoint_file)  # fmt: skip
        xyz = np.column_stack([ground["x"], ground["y"], ground["z"]])
        keep = np.all(np.isfinite(xyz), axis=1)
        if overlap is not None:
            if semimajor is None:
                raise MatchingError(
                    "selecting keypoints in an overlap needs the body's radius", keypoint_file
                )
            keep &= inside(buffered(overlap, buffer_m, semimajor), ground["lon"], ground["lat"])
        rows, xyz = rows[keep], xyz[keep]
    view = MatchSide(
        rows, keypoints.x[rows], keypoints.y[rows], keypoints.response[rows],
        Descriptors(keypoints.descriptors[rows], norm), xyz,
    )  # fmt: skip
    return Side(view, attrs, has_ground)
