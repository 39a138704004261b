"""Rings of ground points -> valid shapely polygons in lon/lat (split at the domain edge) or in xyz.

A ring's longitudes are unwrapped along the ring (each step wrapped into [-180, 180)). A total
winding of 0 means an ordinary ring: its polygon in unwrapped longitude is cut by the domain's
360-degree bands and each part shifted back, which splits footprints that cross the domain edge
(0/360 or +-180) into a MultiPolygon. A winding of +-360 means the ring goes round a pole: the
polygon is closed over the pole along latitude +-90 before cutting.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from tiepoint.footprint.coords import domain_bounds, wrap180

#: Vertices are snapped to this grid (degrees, ~0.06 mm on Mars) so pieces cut at a meridian
#: and shifted by 360 degrees meet exactly.
GRID_DEG = 1e-9


def _polygonal(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons in ``geom`` (which may be a collection)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    parts = getattr(geom, "geoms", [])
    return [p for g in parts for p in _polygonal(g)]


def _as_polygon_or_multi(polygons: list[Polygon]) -> Polygon | MultiPolygon:
    polygons = [shapely.orient_polygons(p, exterior_cw=False) for p in polygons if p.area > 0]
    if not polygons:
        return Polygon()
    if len(polygons) == 1:
        return polygons[0]
    polygons.sort(key=lambda p: p.bounds[0])
    return MultiPolygon(polygons)


def unwrap_ring(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, float]:
    """Continuous longitudes along a closed ring and its winding (0 or +-360 degrees)."""
    steps = wrap180(np.diff(np.asarray(lon, dtype=float), append=lon[0]))
    lon_u = lon[0] + np.concatenate([[0.0], np.cumsum(steps[:-1])])
    return lon_u, float(np.sum(steps))


def lonlat_polygon(
    lon: np.ndarray, lat: np.ndarray, lon_domain: int = 360, pole: float | None = None
) -> Polygon | MultiPolygon:
    """A valid polygon (or a MultiPolygon split at the domain edge) bounded by a closed lon/lat ring.

    Parameters
    ----------
    lon, lat : (N,) arrays
        Positive-east longitude and latitude (degrees) of the ring's vertices in order, the first
        not repeated.
    lon_domain : {360, 180}
        Output longitudes lie in [0, 360] or [-180, 180].
    pole : {90, -90}, optional
        The pole a pole-encircling ring contains; by default the one on the side of the ring's mean
        latitude.

    Returns
    -------
    Polygon or MultiPolygon
        Exterior rings counter-clockwise; empty if the ring has no area.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    domain_bounds(lon_domain)
    if lon.size < 3:
        return Polygon()
    lon_u, winding = unwrap_ring(lon, lat)
    coords = np.column_stack([lon_u, lat])
    if abs(winding) > 180.0:  # encircles a pole: close the ring along the pole's latitude
        pole_lat = pole if pole is not None else (90.0 if np.mean(lat) >= 0 else -90.0)
        last = lon_u[0] + winding
        coords = np.vstack([coords, [[last, lat[0]], [last, pole_lat], [lon_u[0], pole_lat]]])
    return rewrap(shapely.make_valid(Polygon(coords)), lon_domain)


def rewrap(geom: BaseGeometry, lon_domain: int = 360) -> Polygon | MultiPolygon:
    """Cut a lon/lat polygon at the domain's edges and shift every part into the domain.

    Parts that meet once shifted (e.g. a footprint split at 0/360 put into -180..180) are merged.
    """
    west, east = domain_bounds(lon_domain)
    xmin, _, xmax, _ = geom.bounds
    k_lo = int(np.floor((xmin - west) / 360.0))
    k_hi = int(np.floor((xmax - west) / 360.0))
    pieces = []
    for k in range(k_lo, k_hi + 1):
        band = box(west + 360.0 * k, -90.0, east + 360.0 * k, 90.0)
        piece = shapely.transform(geom.intersection(band), lambda c, k=k: c - [360.0 * k, 0.0])
        pieces.extend(_polygonal(piece))
    if not pieces:
        return Polygon()
    merged = shapely.union_all(pieces, grid_size=GRID_DEG)
    return _as_polygon_or_multi(_polygonal(merged))


def xyz_polygon(xyz: np.ndarray) -> Polygon:
    """A PolygonZ through body-fixed ring vertices, wound counter-clockwise seen from outside the body.

    Shapely's validity rules are planar and do not apply to this 3-D ring.
    """
    xyz = np.asarray(xyz, dtype=float)
    if xyz.shape[0] < 3:
        return Polygon()
    centre = xyz.mean(axis=0)
    rel = xyz - centre
    normal = np.cross(rel, np.roll(rel, -1, axis=0)).sum(axis=0)
    if normal.dot(centre) < 0:
        xyz = xyz[::-1]
    return Polygon(xyz)
