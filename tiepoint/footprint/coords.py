"""Planetocentric latitude / positive-east longitude of body-fixed points, and longitude wrapping."""

from __future__ import annotations

from typing import Literal

import numpy as np

LonDomain = Literal[360, 180]


def domain_bounds(lon_domain: int) -> tuple[float, float]:
    """(west, east) edge of the longitude domain: (0, 360) or (-180, 180).

    Raises
    ------
    ValueError
        If ``lon_domain`` is neither 360 nor 180.
    """
    if lon_domain == 360:
        return 0.0, 360.0
    if lon_domain == 180:
        return -180.0, 180.0
    raise ValueError(f"lon_domain must be 360 or 180, got {lon_domain!r}")


def wrap180(dlon: np.ndarray) -> np.ndarray:
    """Wrap longitude differences (degrees) into [-180, 180)."""
    return (np.asarray(dlon, dtype=float) + 180.0) % 360.0 - 180.0


def to_domain(lon: np.ndarray, lon_domain: int = 360) -> np.ndarray:
    """Shift longitudes (degrees) into the domain [0, 360) or [-180, 180)."""
    west, _ = domain_bounds(lon_domain)
    return (np.asarray(lon, dtype=float) - west) % 360.0 + west


def xyz_to_lonlat(xyz: np.ndarray, lon_domain: int = 360) -> tuple[np.ndarray, np.ndarray]:
    """Positive-east longitude and planetocentric latitude (degrees) of body-fixed points.

    Parameters
    ----------
    xyz : (N, 3) array
        Body-fixed coordinates; NaN rows give NaN.
    lon_domain : {360, 180}
        Longitude domain [0, 360) or [-180, 180).

    Returns
    -------
    lon, lat : (N,) arrays
    """
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = to_domain(np.degrees(np.arctan2(y, x)), lon_domain)
    return lon, lat


def planetocentric_to_geodetic(lat: np.ndarray, semimajor: float, semiminor: float) -> np.ndarray:
    """Geodetic (ellipsoid-normal) latitude of points on the ellipsoid given planetocentric latitude."""
    lat = np.radians(np.asarray(lat, dtype=float))
    return np.degrees(np.arctan2(np.sin(lat) * (semimajor / semiminor) ** 2, np.cos(lat)))
