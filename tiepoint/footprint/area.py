"""Area of lon/lat footprints on the body's ellipsoid."""

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
