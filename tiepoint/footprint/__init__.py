"""Where an image lies on the body: lon/lat and body-fixed footprints, keypoint ground coordinates."""

from tiepoint.footprint.area import ellipsoid_area
from tiepoint.footprint.compute import Footprint, compute_footprint, footprint_xyz, latlon_footprint
from tiepoint.footprint.cube import cube_footprint
from tiepoint.footprint.keypoints import keypoint_ground

__all__ = [
    "Footprint",
    "compute_footprint",
    "cube_footprint",
    "ellipsoid_area",
    "footprint_xyz",
    "keypoint_ground",
    "latlon_footprint",
]
