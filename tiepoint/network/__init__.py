"""The control-network stage's computational core: points from matches, a-priori ground points,
sub-pixel registration.

Public API::

    build_tracks(image_a, kp_a, image_b, kp_b, score=None, ground_a=None, ground_b=None, *,
                 max_spread_m=None) -> Tracks          # multi-image points, no duplicates
    extend_tracks(point, image, keypoint, image_a, kp_a, image_b, kp_b, score=None, ground_a=None,
                  ground_b=None, *, max_spread_m=None) -> TrackUpdate   # add matches, keep old points
    image_ground_offsets(image_a, image_b, ground_a, ground_b) -> (images, offsets)

All take and return column arrays; errors on bad input are :class:`NetworkError`.
"""

from __future__ import annotations

from tiepoint.network.errors import NetworkError
from tiepoint.network.tracks import (
    Tracks,
    TrackStats,
    TrackUpdate,
    build_tracks,
    extend_tracks,
    image_ground_offsets,
)

__all__ = [
    "NetworkError",
    "TrackStats",
    "TrackUpdate",
    "Tracks",
    "build_tracks",
    "extend_tracks",
    "image_ground_offsets",
]
