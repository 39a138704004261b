"""The control-network stage: points from matches, a-priori ground points, sub-pixel registration,
the report, and the exchange with ISIS / ASP networks.

The stage (dispatcher side; the database and the dispatcher are imported when called)::

    build(config=None, *, subpixel=None, force_registration=False, client=None, progress=False,
          timeout=None) -> NetworkBuild               # points from new matches, registration, report
    register(config=None, *, force=False, client=None, progress=False, timeout=None) -> RegistrationRun
    add_points(db, config=None) -> PointsUpdate     # points.py: the dispatcher-side step of build
    network_report(db, min_points=3) -> NetworkReport   # report.py
    export_network(db, out, *, version=5, format="isis", include_ignored=False, network_id=None,
                   description=None) -> list[Path]   # exchange.py: OUT.net + OUT.lis, or ASP .match
    import_network(db, net, *, lon_domain=360) -> ImportSummary  # exchange.py: adjusted points, flags
    network_from_db(db, *, include_ignored=False, ...) -> (ControlNetwork, {serial: path})
    register_image(task, config) -> RegistrationRecord  # job.py: what a worker runs (no database)

The computational core (arrays in, arrays or records out; no database, no dispatch)::

    # tracks.py: multi-image points, no duplicates by construction (pure numpy/scipy)
    build_tracks(image_a, kp_a, image_b, kp_b, score=None, ground_a=None, ground_b=None, *,
                 max_spread_m=None) -> Tracks
    extend_tracks(point, image, keypoint, image_a, kp_a, image_b, kp_b, score=None, ground_a=None,
                  ground_b=None, *, max_spread_m=None) -> TrackUpdate   # new matches, old points kept
    # ground_offsets.py: each image's pointing offset from its pairs' median ground offsets
    image_ground_offsets(image_a, image_b, ground_a, ground_b) -> (images, offsets)

    # apriori.py: ray intersection (or AverageOfMeasures) and the most nadir reference measure
    apriori_points(point, image, x, y, cameras, config=None, *, ground=None) -> AprioriPoints

    # register.py: the pure kernel (NCC + 2-D Gaussian peak fit), one record per measure, always
    register_chip(template, search, config=None) -> Registration
    register_batch(templates, searches, config=None) -> RegistrationBatch
    STATUSES                                             # status -> meaning

    # chips.py: windowed reads, local camera affine, warped reference chips
    read_chips(image, x, y, size) -> MaskedArray (N, size, size)
    local_affine(reference_camera, measure_camera, ref_x, ref_y, *, height=0.0) -> (N, 2, 3)
    warp_chips(image, ref_x, ref_y, affine, x, y, size, interpolation="cubic") -> MaskedArray

    # subpixel.py: chips + kernel for the measures of one image against one reference image
    register_measures(reference, measure, reference_camera, measure_camera, ref_x, ref_y, x, y,
                      config=None, *, height=0.0) -> MeasureRegistration

Positions are OpenCV ``(x, y)`` (:mod:`tiepoint.pixels`). Configuration: ``Config.network``
(:class:`tiepoint.config.NetworkConfig`: ``tracks``, ``apriori``, ``registration``). Errors on bad
input are :class:`NetworkError`; a measure that fails to register is a status, not an error.
"""

from __future__ import annotations

from tiepoint.network.apriori import SOURCES, AprioriPoints, apriori_points
from tiepoint.network.chips import local_affine, read_chips, warp_chips
from tiepoint.network.errors import NetworkError
from tiepoint.network.exchange import ImportSummary, export_network, import_network, network_from_db
from tiepoint.network.ground_offsets import image_ground_offsets
from tiepoint.network.points import PointsUpdate, add_points
from tiepoint.network.register import STATUSES, Registration, RegistrationBatch, register_batch, register_chip
from tiepoint.network.report import NetworkReport, network_report
from tiepoint.network.stage import NetworkBuild, RegistrationRun, build, register
from tiepoint.network.subpixel import MeasureRegistration, register_measures
from tiepoint.network.tracks import (
    Tracks,
    TrackStats,
    TrackUpdate,
    build_tracks,
    extend_tracks,
)

__all__ = [
    "SOURCES",
    "STATUSES",
    "AprioriPoints",
    "ImportSummary",
    "MeasureRegistration",
    "NetworkBuild",
    "NetworkError",
    "NetworkReport",
    "PointsUpdate",
    "Registration",
    "RegistrationBatch",
    "RegistrationRun",
    "TrackStats",
    "TrackUpdate",
    "Tracks",
    "add_points",
    "apriori_points",
    "build",
    "build_tracks",
    "export_network",
    "extend_tracks",
    "image_ground_offsets",
    "import_network",
    "local_affine",
    "network_from_db",
    "network_report",
    "read_chips",
    "register",
    "register_batch",
    "register_chip",
    "register_measures",
    "warp_chips",
]
