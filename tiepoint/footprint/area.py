"""Area of lon/lat footprints on the body's ellipsoid: one (geodesic edges) or many at once (vectorized)."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from tiepoint.footprint.coords import planetocentric_to_geodetic


def ellipsoid_area(geom: BaseGeometry, semimajor: float, semiminor: float) -> float:
    """Area (square metres) of a lon/lat (planetocentric) polygon on an ellipsoid of revolution.

    Edges are taken as geodesics (pyproj / GeographicLib), which is what a densely sampled
    footprint's straight lon/lat edges approach; latitudes are converted to geodetic first.

    Parameters
    ----------
    geom : Polygon or MultiPolygon
        x = positive-east longitude, y = planetocentric latitude (degrees).
    semimajor, semiminor : float
        Ellipsoid radii (metres).
    """
    geod = Geod(a=semimajor, b=semiminor)

    def to_geodetic(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([coords[:, 0], planetocentric_to_geodetic(coords[:, 1], semimajor, semiminor)])

    area, _ = geod.geometry_area_perimeter(shapely.transform(geom, to_geodetic))
    return abs(float(area))


def ellipsoid_areas(geoms: np.ndarray | list[BaseGeometry], semimajor: float, semiminor: float) -> np.ndarray:
    """Areas (square metres) of many lon/lat (planetocentric) polygons on an ellipsoid, vectorized.

    The polygons are mapped to the ellipsoid's equal-area cylindrical coordinates (longitude in
    radians, ``q`` of the authalic latitude) where the ellipsoid's area is ``a**2 / 2`` times the
    planar area, so one vectorized shapely call measures them all. Edges are straight in those
    coordinates rather than geodesics as in :func:`ellipsoid_area`; for densely sampled footprints
    (edges of a few km) the two agree to about 1e-5.

    Parameters
    ----------
    geoms : array-like of Polygon or MultiPolygon
        x = positive-east longitude, y = planetocentric latitude (degrees).
    semimajor, semiminor : float
        Ellipsoid radii (metres).

    Returns
    -------
    ndarray of float64
        One area per geometry (0 for empty ones).
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.zeros(geoms.shape)
    a, b = float(semimajor), float(semiminor)
    e2 = 1.0 - (b / a) ** 2
    e = np.sqrt(e2)

    def to_equal_area(coords: np.ndarray) -> np.ndarray:
        sin_phi = np.sin(np.radians(planetocentric_to_geodetic(coords[:, 1], a, b)))
        if e < 1e-12:  # sphere
            q = 2.0 * sin_phi
        else:
            q = (1.0 - e2) * (
                sin_phi / (1.0 - e2 * sin_phi**2)
                - np.log((1.0 - e * sin_phi) / (1.0 + e * sin_phi)) / (2 * e)
            )
        return np.column_stack([np.radians(coords[:, 0]), q])

    return shapely.area(shapely.transform(geoms, to_equal_area)) * (a * a / 2.0)
