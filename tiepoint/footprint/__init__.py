"""Where an image lies on the body: lon/lat and body-fixed footprints, keypoint ground coordinates.

Usage (``cam`` from :func:`tiepoint.camera.from_isd`)::

    latlon_footprint(cam)                  # Polygon, or MultiPolygon split at 0/360; x = lon E, y = lat
    fp = compute_footprint(cam, config)    # both footprints in one pass: fp.latlon, fp.xyz
    keypoint_ground(cam, lines, samples)   # dict of x, y, z, lat, lon arrays

The boundary is sampled adaptively (see :mod:`tiepoint.footprint.boundary`), limb views keep the
on-body part, and rings around a pole are closed over it (:mod:`tiepoint.footprint.polygon`).
"""

from tiepoint.footprint.area import ellipsoid_area, ellipsoid_areas
from tiepoint.footprint.compute import Footprint, compute_footprint, footprint_xyz, latlon_footprint
from tiepoint.footprint.cube import cube_footprint
from tiepoint.footprint.keypoints import keypoint_ground

__all__ = [
    "Footprint",
    "compute_footprint",
    "cube_footprint",
    "ellipsoid_area",
    "ellipsoid_areas",
    "footprint_xyz",
    "keypoint_ground",
    "latlon_footprint",
]
