"""Points and measures from the matched pairs: the network stage's first, dispatcher-side step.

:func:`add_points` reads what the database says is new (matched pairs whose current match result
is not in the network: ``pairs.network_done``), the match files and the keypoints they name, and
turns them into rows:

1. measures of images re-ingested since they were made are deleted first (their keypoint rows now
   name other keypoints);
2. :func:`~tiepoint.network.build_tracks` when the network is empty, else
   :func:`~tiepoint.network.extend_tracks` against the measures already in the images concerned:
   adding images and running again adds measures to existing points and makes new points, and
   never moves, merges or removes what is there;
3. a-priori ground points and reference measures of the new points
   (:func:`~tiepoint.network.apriori_points`: ray intersection, finest-resolution reference), and the
   viewing geometry of measures added to existing points;
4. one transaction: the rows, and the pairs marked as added.

Why here and not in jobs: making points is one global union-find over every match (a keypoint
matched in several pairs is one measure of one point), which a job per pair or per image cannot do
without seeing its neighbours' matches; it is pure numpy over column arrays (10 million matches in
well under a minute, ``bench/bench_network.py``), and what it reads is small (one match file per
pair, a few columns of each keypoint file), so the dispatcher does it in one pass. Registration,
which reads image chips, is what is dispatched (:mod:`tiepoint.network.job`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tiepoint.config import NetworkConfig
from tiepoint.network.apriori import apriori_points
from tiepoint.network.geometry import emission_angles, ground_resolution
from tiepoint.network.inputs import lookup_keypoints, read_pair_matches
from tiepoint.network.tracks import TrackStats, build_tracks, extend_tracks

if TYPE_CHECKING:
    from tiepoint.db import Database


@dataclass(frozen=True, slots=True)
class PointsUpdate:
    """What :func:`add_points` did."""

    pairs: int = 0
    """Pairs whose matches were added."""
    failed_pairs: tuple[tuple[str, str], ...] = ()
    """``(pair key, error naming the file)`` of pairs whose match file could not be read; they are
    tried again next time."""
    matches: int = 0
    new_points: int = 0
    new_measures: int = 0
    """Measures of the new points."""
    added_measures: int = 0
    """Measures added to points that existed."""
    stale_measures: int = 0
    """Measures deleted because their image was re-ingested."""
    apriori: dict[str, int] = field(default_factory=dict)
    """New points per a-priori method (``rays``, ``average_of_measures``, ``none``)."""
    tracks: TrackStats = field(default_factory=TrackStats)
    seconds: dict[str, float] = field(default_factory=dict)
    """Time per step."""


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now


def _cameras(images: dict[int, Any], ids: np.ndarray) -> dict[int, Any]:
    from tiepoint.camera import from_state

    return {int(i): from_state(images[int(i)].camera) for i in np.unique(ids) if images[int(i)].camera}


def add_points(db: Database, config: Any = None) -> PointsUpdate:
    """Add the matches of the newly matched pairs to the network (see the module docstring).

    Parameters
    ----------
    db : Database
    config : Config, JobConfig, NetworkConfig, dict or None
        Its ``network`` section (``tracks.max_spread_m``, ``apriori``) and, for the points' lon/lat,
        ``footprint.longitude_domain`` when a whole configuration is given.

    Returns
    -------
    PointsUpdate

    Raises
    ------
    FeatureError
        A keypoint file cannot be read (naming it).
    DatabaseError
        The database refuses the rows (it enforces one point per keypoint, one measure per image).
    """
    from tiepoint.camera import latlon
    from tiepoint.config import JobConfig, config_section
    from tiepoint.db.network import NewNetwork

    cfg = config_section(config, "network", NetworkConfig)
    lon_domain = config.footprint.longitude_domain if isinstance(config, JobConfig) else 360
    clock = _Clock()
    stale = db.drop_stale_measures()
    pairs = db.network_pairs_to_add()
    clock.lap("database")
    if not len(pairs):
        return PointsUpdate(stale_measures=stale, seconds=clock.seconds)
    m = read_pair_matches(pairs.path, pairs.image_a, pairs.image_b)
    failed = tuple((pairs.key[k], message) for k, message in m.failed)
    done = pairs.take(np.setdiff1d(np.arange(len(pairs)), [k for k, _ in m.failed]))
    clock.lap("read matches")
    involved = np.unique(np.concatenate([m.image_a, m.image_b]))
    images = db.network_images(involved.tolist())
    files = {i: img.keypoints for i, img in images.items() if img.keypoints}
    ends = lookup_keypoints(files, np.concatenate([m.image_a, m.image_b]), np.concatenate([m.kp_a, m.kp_b]))
    n = len(m)
    ga, gb = ends.ground[:n], ends.ground[n:]
    clock.lap("read keypoints")
    ex_point, ex_image, ex_kp = db.existing_measures(involved.tolist())
    clock.lap("database")
    spread = cfg.tracks.max_spread_m
    if len(ex_point):
        update = extend_tracks(
            ex_point,
            ex_image,
            ex_kp,
            m.image_a,
            m.kp_a,
            m.image_b,
            m.kp_b,
            m.score,
            ga,
            gb,
            max_spread_m=spread,
        )
        tracks, stats = update.new, update.stats
        added = (update.added_point, update.added_image, update.added_keypoint)
    else:
        tracks = build_tracks(m.image_a, m.kp_a, m.image_b, m.kp_b, m.score, ga, gb, max_spread_m=spread)
        stats = tracks.stats
        added = (np.empty(0, np.int64),) * 3
    clock.lap("tracks")
    pos = lookup_keypoints(files, tracks.image, tracks.keypoint)
    add_pos = lookup_keypoints(files, added[1], added[2])
    clock.lap("read keypoints")
    cameras = _cameras(images, np.concatenate([tracks.image, added[1]]))
    with_camera = np.isin(tracks.image, list(cameras))
    camera_points = np.bincount(tracks.point, weights=~with_camera, minlength=tracks.n_points) == 0
    new = _new_points(tracks, pos, cameras, camera_points, cfg)
    lat, lon = latlon(new["xyz"], db.body.semimajor, db.body.semiminor, lon_domain)
    emission_add, resolution_add = _added_geometry(db, added, add_pos, cameras)
    clock.lap("a-priori points")
    k = len(added[0])
    network = NewNetwork(
        apriori=new["xyz"],
        apriori_method=new["method"],
        height_m=new["height"],
        convergence_deg=new["convergence"],
        ray_rms_m=new["ray_rms"],
        spread_m=tracks.spread_m,
        lon=lon,
        lat=lat,
        reference=new["reference"],
        new_point=np.concatenate([tracks.point, np.full(k, -1, np.int64)]),
        point_row=np.concatenate([np.full(tracks.n_measures, -1, np.int64), added[0]]),
        image=np.concatenate([tracks.image, added[1]]),
        keypoint=np.concatenate([tracks.keypoint, added[2]]),
        x=np.concatenate([pos.x, add_pos.x]),
        y=np.concatenate([pos.y, add_pos.y]),
        emission_deg=np.concatenate([new["emission"], emission_add]),
        resolution_m=np.concatenate([new["resolution"], resolution_add]),
    )
    db.write_network(network, done)
    clock.lap("write")
    return PointsUpdate(
        pairs=len(done),
        failed_pairs=failed,
        matches=n,
        new_points=tracks.n_points,
        new_measures=tracks.n_measures,
        added_measures=k,
        stale_measures=stale,
        apriori=dict(Counter(new["method"].tolist())),
        tracks=stats,
        seconds=clock.seconds,
    )


def _new_points(tracks, pos, cameras, camera_points: np.ndarray, cfg: NetworkConfig) -> dict[str, np.ndarray]:
    """A-priori points (where every measure's image has a camera) and reference measures."""
    p = tracks.n_points
    out = {
        "xyz": np.full((p, 3), np.nan),
        "method": np.full(p, "none", dtype=object),
        "height": np.full(p, np.nan),
        "convergence": np.full(p, np.nan),
        "ray_rms": np.full(p, np.nan),
        "emission": np.full(tracks.n_measures, np.nan),
        "resolution": np.full(tracks.n_measures, np.nan),
        "reference": tracks.offsets[:-1].copy(),  # without cameras: the first measure
    }
    sel_points = np.flatnonzero(camera_points)
    if not len(sel_points):
        return out
    sel = np.flatnonzero(camera_points[tracks.point])
    dense = np.full(p, -1, np.int64)
    dense[sel_points] = np.arange(len(sel_points))
    ap = apriori_points(
        dense[tracks.point[sel]], tracks.image[sel], pos.x[sel], pos.y[sel], cameras, cfg.apriori,
        ground=pos.ground[sel],
    )  # fmt: skip
    out["xyz"][sel_points] = ap.xyz
    out["method"][sel_points] = ap.source.astype(object)
    out["height"][sel_points] = ap.height_m
    out["convergence"][sel_points] = ap.convergence_deg
    out["ray_rms"][sel_points] = ap.ray_rms_m
    out["emission"][sel] = ap.emission_deg
    out["resolution"][sel] = ap.resolution_m
    out["reference"][sel_points] = sel[ap.reference]
    return out


def _added_geometry(db: Database, added, pos, cameras) -> tuple[np.ndarray, np.ndarray]:
    """Emission angle and ground resolution of measures added to existing points."""
    k = len(added[0])
    emission, resolution = np.full(k, np.nan), np.full(k, np.nan)
    if not k:
        return emission, resolution
    table = db.network_points(np.unique(added[0]))
    row = np.searchsorted(table["id"], added[0])
    xyz = np.stack([table["apriori_x"], table["apriori_y"], table["apriori_z"]], axis=1)[row]
    height = table["height_m"][row]
    ok = np.isin(added[1], list(cameras)) & np.isfinite(xyz).all(axis=1)
    if ok.any():
        emission[ok] = emission_angles(added[1][ok], pos.x[ok], pos.y[ok], xyz[ok], cameras)
        resolution[ok] = ground_resolution(added[1][ok], pos.x[ok], pos.y[ok], cameras, height[ok])
    return emission, resolution


__all__ = ["PointsUpdate", "add_points"]
