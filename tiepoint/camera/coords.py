"""Body-fixed <-> latitude/longitude/height on a biaxial ellipsoid, vectorized.

Planetocentric latitude is the angle from the equator to the point seen from the body's centre;
planetographic latitude is the angle of the ellipsoid normal. Heights are above the ellipsoid along
its normal. Longitudes are positive east, in 0-360 (``lon_domain=360``) or -180..180 (``180``).
"""

from __future__ import annotations

import numpy as np

from tiepoint.errors import CameraError


def wrap_longitude(lon: np.ndarray, lon_domain: int = 360) -> np.ndarray:
    """Longitudes (degrees) wrapped into [0, 360) or [-180, 180)."""
    lon = np.asarray(lon, dtype=float)
    if lon_domain == 360:
        out = np.mod(lon, 360.0)
        return np.where(out >= 360.0, 0.0, out)
    if lon_domain == 180:
        out = np.mod(lon + 180.0, 360.0) - 180.0
        return np.where(out >= 180.0, -180.0, out)
    raise CameraError(f"lon_domain must be 360 or 180, got {lon_domain!r}")


def _xyz(xyz: np.ndarray) -> np.ndarray:
    arr = np.asarray(xyz, dtype=float)
    if arr.shape[-1:] != (3,):
        raise CameraError(f"xyz must have shape (..., 3), got {arr.shape}")
    return arr


def geodetic_height(xyz: np.ndarray, semimajor: float, semiminor: float) -> tuple[np.ndarray, np.ndarray]:
    """Planetographic (geodetic) latitude in radians and height above the ellipsoid (Bowring, iterated)."""
    p = _xyz(xyz)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    a, b = float(semimajor), float(semiminor)
    e2 = 1.0 - (b * b) / (a * a)
    ep2 = (a * a) / (b * b) - 1.0
    r = np.hypot(x, y)
    beta = np.arctan2(a * z, b * r)
    for _ in range(3):  # Bowring's iteration converges to machine precision in 2-3 steps
        phi = np.arctan2(z + ep2 * b * np.sin(beta) ** 3, r - e2 * a * np.cos(beta) ** 3)
        beta = np.arctan2(b * np.sin(phi), a * np.cos(phi))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = a / np.sqrt(1.0 - e2 * sin_phi * sin_phi)
    h = r * cos_phi + (z + e2 * n * sin_phi) * sin_phi - n
    return phi, h


def latlon(
    xyz: np.ndarray, semimajor: float, semiminor: float, lon_domain: int = 360
) -> tuple[np.ndarray, np.ndarray]:
    """Planetocentric latitude and positive-east longitude (degrees) of body-fixed points."""
    p = _xyz(xyz)
    lat = np.degrees(np.arctan2(p[..., 2], np.hypot(p[..., 0], p[..., 1])))
    lon = wrap_longitude(np.degrees(np.arctan2(p[..., 1], p[..., 0])), lon_domain)
    return lat, lon


def xyz_to_latlon_height(
    xyz: np.ndarray, semimajor: float, semiminor: float, lon_domain: int = 360
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planetocentric latitude, longitude (degrees) and height above the ellipsoid (metres)."""
    lat, lon = latlon(xyz, semimajor, semiminor, lon_domain)
    _, h = geodetic_height(xyz, semimajor, semiminor)
    return lat, lon, h


def xyz_to_planetographic(
    xyz: np.ndarray, semimajor: float, semiminor: float, lon_domain: int = 360
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planetographic latitude, positive-east longitude (degrees) and height (metres)."""
    phi, h = geodetic_height(xyz, semimajor, semiminor)
    _, lon = latlon(xyz, semimajor, semiminor, lon_domain)
    return np.degrees(phi), lon, h


def planetographic_to_xyz(
    lat: np.ndarray, lon: np.ndarray, height: np.ndarray | float, semimajor: float, semiminor: float
) -> np.ndarray:
    """Body-fixed points ``(..., 3)`` from planetographic latitude, longitude (degrees) and height."""
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    h = np.asarray(height, dtype=float)
    a, b = float(semimajor), float(semiminor)
    e2 = 1.0 - (b * b) / (a * a)
    n = a / np.sqrt(1.0 - e2 * np.sin(phi) ** 2)
    x = (n + h) * np.cos(phi) * np.cos(lam)
    y = (n + h) * np.cos(phi) * np.sin(lam)
    z = (n * (1.0 - e2) + h) * np.sin(phi)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def centric_to_graphic(lat: np.ndarray, semimajor: float, semiminor: float) -> np.ndarray:
    """Planetographic latitude of a planetocentric one on the ellipsoid surface (degrees)."""
    ratio = (float(semimajor) / float(semiminor)) ** 2
    return np.degrees(np.arctan(np.tan(np.radians(np.asarray(lat, dtype=float))) * ratio))


def graphic_to_centric(lat: np.ndarray, semimajor: float, semiminor: float) -> np.ndarray:
    """Planetocentric latitude of a planetographic one on the ellipsoid surface (degrees)."""
    ratio = (float(semiminor) / float(semimajor)) ** 2
    return np.degrees(np.arctan(np.tan(np.radians(np.asarray(lat, dtype=float))) * ratio))


def latlon_to_xyz(
    lat: np.ndarray, lon: np.ndarray, height: np.ndarray | float, semimajor: float, semiminor: float
) -> np.ndarray:
    """Body-fixed points from planetocentric latitude, longitude (degrees) and height above the ellipsoid.

    Exact inverse of :func:`xyz_to_latlon_height`: the point lies ``height`` metres along the ellipsoid
    normal and its own planetocentric latitude is ``lat`` (solved by a few fixed-point steps).
    """
    lat_c = np.radians(np.asarray(lat, dtype=float))
    lon = np.asarray(lon, dtype=float)
    h = np.asarray(height, dtype=float)
    phi = np.radians(centric_to_graphic(np.degrees(lat_c), semimajor, semiminor))
    for _ in range(8):
        p = planetographic_to_xyz(np.degrees(phi), lon, h, semimajor, semiminor)
        got = np.arctan2(p[..., 2], np.hypot(p[..., 0], p[..., 1]))
        phi = np.clip(phi + (lat_c - got), -np.pi / 2, np.pi / 2)
    return planetographic_to_xyz(np.degrees(phi), lon, h, semimajor, semiminor)
