"""Ground coordinates of image keypoints, vectorized."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from tiepoint.errors import FootprintError
from tiepoint.footprint.boundary import camera_label
from tiepoint.footprint.coords import domain_bounds, xyz_to_lonlat
from tiepoint.pixels import to_camera_coords

#: Keypoints are projected in chunks of this many to bound temporary memory.
CHUNK = 262_144


def keypoint_ground(
    camera: Any,
    lines: np.ndarray,
    samples: np.ndarray,
    height: float | np.ndarray = 0.0,
    lon_domain: int = 360,
    pixel_origin: Literal["csm", "center"] = "csm",
    path: Any = None,
) -> dict[str, np.ndarray]:
    """Body-fixed and lon/lat ground coordinates of N keypoints.

    Parameters
    ----------
    camera : camera model
        With a vectorized ``image_to_ground(lines, samples, height)``.
    lines, samples : (N,) arrays
        Keypoint image coordinates.
    height : float or (N,) array
        Height above the ellipsoid (metres).
    lon_domain : {360, 180}
        Longitude domain of ``lon``.
    pixel_origin : {"csm", "center"}
        ``"csm"``: USGSCSM coordinates (pixel (0, 0)'s centre at 0.5, 0.5). ``"center"``: OpenCV-style
        coordinates (pixel (0, 0)'s centre at 0, 0), converted by :func:`tiepoint.pixels.to_camera_coords`.
    path : str or PathLike, optional
        The image or keypoint file, named in errors.

    Returns
    -------
    dict
        ``x``, ``y``, ``z`` (metres), ``lat`` (planetocentric), ``lon`` (positive east) in degrees,
        float64 arrays of length N; NaN where the ray misses the body.

    Raises
    ------
    FootprintError
        If the arrays differ in length, are not 1-D numbers, or the options are unknown.
    """
    label = camera_label(camera, path)
    try:
        lines = np.asarray(lines, dtype=float).ravel()
        samples = np.asarray(samples, dtype=float).ravel()
        heights = np.broadcast_to(np.asarray(height, dtype=float), lines.shape)
    except (TypeError, ValueError) as exc:
        raise FootprintError(
            f"keypoint coordinates must be numeric arrays of equal length: {exc}", label
        ) from None
    if lines.shape != samples.shape:
        raise FootprintError(f"{lines.size} keypoint lines but {samples.size} samples", label)
    try:
        domain_bounds(lon_domain)
    except ValueError as exc:
        raise FootprintError(str(exc), label) from None
    if pixel_origin == "center":
        lines, samples = to_camera_coords(samples, lines)
    elif pixel_origin != "csm":
        raise FootprintError(f"pixel_origin must be 'csm' or 'center', got {pixel_origin!r}", label)
    xyz = np.empty((lines.size, 3))
    constant_height = heights.size == 0 or np.all(heights == heights.flat[0])
    for start in range(0, lines.size, CHUNK):
        part = slice(start, start + CHUNK)
        h = float(heights.flat[0]) if constant_height else heights[part]
        xyz[part] = np.asarray(camera.image_to_ground(lines[part], samples[part], h), dtype=float).reshape(
            -1, 3
        )
    lon, lat = xyz_to_lonlat(xyz, lon_domain)
    return {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], "lat": lat, "lon": lon}
