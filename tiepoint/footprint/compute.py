"""Footprints of one image from its camera model (or from the cube's own footprint blob)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from tiepoint.config import FootprintConfig, JobConfig, config_section
from tiepoint.errors import FootprintError
from tiepoint.footprint.boundary import DEFAULT_TOLERANCE_PX, Boundary, camera_label, image_boundary
from tiepoint.footprint.coords import domain_bounds, xyz_to_lonlat
from tiepoint.footprint.cube import cube_footprint
from tiepoint.footprint.polygon import lonlat_polygon, xyz_polygon


@dataclass(slots=True)
class Footprint:
    """An image's footprint in lon/lat and in body-fixed coordinates, and the ring they come from."""

    latlon: Polygon | MultiPolygon
    """x = positive-east longitude, y = planetocentric latitude (degrees)."""
    xyz: Polygon
    """Body-fixed PolygonZ (metres)."""
    boundary: Boundary


def _settings(config: JobConfig | FootprintConfig | None) -> FootprintConfig:
    return config_section(config, "footprint", FootprintConfig)


def _pole(camera: Any, boundary: Boundary) -> float:
    """The pole a pole-encircling footprint contains: the one on the side of the image centre."""
    centre = np.asarray(
        camera.image_to_ground(np.array([camera.image_lines / 2.0]), np.array([camera.image_samples / 2.0])),
        dtype=float,
    ).reshape(-1, 3)[0]
    z = centre[2] if np.isfinite(centre[2]) else boundary.xyz[:, 2].mean()
    return 90.0 if z >= 0 else -90.0


def compute_footprint(
    camera: Any,
    config: JobConfig | FootprintConfig | None = None,
    *,
    points_per_edge: int | None = None,
    lon_domain: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE_PX,
    path: Any = None,
) -> Footprint:
    """Lon/lat and body-fixed footprints of the on-body part of an image.

    Parameters
    ----------
    camera : camera model
        From :func:`tiepoint.camera.from_isd`.
    config : Config, JobConfig or FootprintConfig, optional
        ``points_per_edge`` and ``longitude_domain`` come from here unless given explicitly.
    points_per_edge : int, optional
        Samples per image edge; None (and none configured) samples adaptively (see
        :func:`tiepoint.footprint.boundary.image_boundary`).
    lon_domain : {360, 180}, optional
        Longitude domain; footprints crossing its edge become MultiPolygons split there.
    tolerance : float
        Adaptive sampling tolerance in pixels' ground size.
    path : str or PathLike, optional
        The image or ISD file the camera comes from, named in errors.

    Returns
    -------
    Footprint

    Raises
    ------
    FootprintError
        If the image does not see the body or an option is invalid.
    """
    settings = _settings(config)
    ppe = points_per_edge if points_per_edge is not None else settings.points_per_edge
    domain = lon_domain if lon_domain is not None else settings.longitude_domain
    label = camera_label(camera, path)
    try:
        domain_bounds(domain)
    except ValueError as exc:
        raise FootprintError(str(exc), label) from None
    boundary = image_boundary(camera, ppe, tolerance, path=label)
    if boundary.xyz.shape[0] < 3:
        raise FootprintError("the image sees too little of the body to bound a footprint", label)
    lon, lat = xyz_to_lonlat(boundary.xyz, domain)
    latlon = lonlat_polygon(lon, lat, domain, pole=_pole(camera, boundary))
    if latlon.is_empty:
        raise FootprintError("the image's footprint has no area", label)
    return Footprint(latlon, xyz_polygon(boundary.xyz), boundary)


def latlon_footprint(
    camera: Any,
    *,
    source: str | None = None,
    image: Any = None,
    config: JobConfig | FootprintConfig | None = None,
    points_per_edge: int | None = None,
    lon_domain: int | None = None,
    path: Any = None,
) -> Polygon | MultiPolygon:
    """The image's lon/lat footprint: a valid Polygon, or a MultiPolygon split at the domain edge.

    Parameters
    ----------
    camera : camera model
        From :func:`tiepoint.camera.from_isd`; may be None when ``source="cube"``.
    source : {"camera", "cube"}, optional
        ``"camera"`` (default) computes it from the camera; ``"cube"`` takes the ISIS footprint
        blob of ``image``.
    image : path or opened image, optional
        The cube, for ``source="cube"``.
    config, points_per_edge, lon_domain, path
        As in :func:`compute_footprint`.

    Returns
    -------
    Polygon or MultiPolygon
        x = positive-east longitude (0-360 by default), y = planetocentric latitude (degrees).
    """
    settings = _settings(config)
    source = source if source is not None else settings.source
    domain = lon_domain if lon_domain is not None else settings.longitude_domain
    if source == "cube":
        if image is None:
            raise FootprintError("source='cube' needs the cube (image=...)", camera_label(camera, path))
        return cube_footprint(image, domain)
    if source != "camera":
        raise FootprintError(
            f"footprint source must be 'camera' or 'cube', got {source!r}", camera_label(camera, path)
        )
    return compute_footprint(
        camera, settings, points_per_edge=points_per_edge, lon_domain=domain, path=path
    ).latlon


def footprint_xyz(
    camera: Any,
    *,
    config: JobConfig | FootprintConfig | None = None,
    points_per_edge: int | None = None,
    path: Any = None,
) -> Polygon:
    """The image's body-fixed footprint: a PolygonZ (metres) wound counter-clockwise from outside."""
    return compute_footprint(camera, config, points_per_edge=points_per_edge, path=path).xyz
