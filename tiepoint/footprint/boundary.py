"""The on-body boundary of an image: image-edge samples projected to the ellipsoid, plus the limb.

The image spans ``[0, lines] x [0, samples]`` in USGSCSM image coordinates. Its perimeter is walked by
one parameter ``t`` in ``[0, 2 * (lines + samples))``: the top edge (line 0, sample increasing), the
right edge, the bottom edge, then the left edge. Where rays miss the body (limb views), the boundary
leaves the image edge at the last pixel that sees the body, follows the limb (the hit/miss frontier,
found by bisection along rays from an on-body anchor pixel) and rejoins the edge where rays hit again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tiepoint.errors import FootprintError
from tiepoint.footprint.coords import wrap180, xyz_to_lonlat

#: Refine an edge segment while its lon/lat chord is further than this many pixels' ground size
#: from the true projected boundary at its midpoint.
DEFAULT_TOLERANCE_PX = 0.25
#: Positions along the boundary are located to this many pixels by bisection.
BISECTION_PRECISION_PX = 1e-3
MAX_REFINEMENT_ROUNDS = 16
PROBE_GRID = 33


@dataclass(slots=True)
class Boundary:
    """A closed ring (first point not repeated) around the on-body part of an image.

    Attributes
    ----------
    image : (N, 2) array
        (line, sample) of each vertex.
    xyz : (N, 3) array
        Body-fixed ground point of each vertex (metres).
    on_limb : (N,) bool array
        True for vertices on the limb rather than on the image edge.
    """

    image: np.ndarray
    xyz: np.ndarray
    on_limb: np.ndarray


def camera_label(camera: Any, path: Any = None) -> str | None:
    """A name for error messages: ``path`` if given, else the camera's file path or image id, if any."""
    if path is not None:
        return str(path)
    for attr in ("path", "isd_path", "source", "image_identifier", "name"):
        value = getattr(camera, attr, None)
        if isinstance(value, str | bytes) or hasattr(value, "__fspath__"):
            return str(value)
    return None


def auto_points_per_edge(lines: float, samples: float) -> int:
    """Initial samples per edge when none are configured: about one per 256 pixels, 9 to 65."""
    return int(np.clip(np.ceil(max(lines, samples) / 256.0) + 1, 9, 65))


def perimeter_points(t: np.ndarray, lines: float, samples: float) -> np.ndarray:
    """(line, sample) of perimeter parameters ``t`` (pixels walked from (0, 0), clockwise on screen)."""
    t = np.mod(np.asarray(t, dtype=float), 2.0 * (lines + samples))
    out = np.empty((t.size, 2))
    top = t < samples
    right = (t >= samples) & (t < samples + lines)
    bottom = (t >= samples + lines) & (t < 2 * samples + lines)
    left = t >= 2 * samples + lines
    out[top] = np.column_stack([np.zeros(top.sum()), t[top]])
    out[right] = np.column_stack([t[right] - samples, np.full(right.sum(), samples)])
    out[bottom] = np.column_stack([np.full(bottom.sum(), lines), 2 * samples + lines - t[bottom]])
    out[left] = np.column_stack([2 * (samples + lines) - t[left], np.zeros(left.sum())])
    return out


def _project(camera: Any, image: np.ndarray) -> np.ndarray:
    if image.shape[0] == 0:
        return np.empty((0, 3))
    xyz = np.asarray(camera.image_to_ground(image[:, 0], image[:, 1]), dtype=float).reshape(-1, 3)
    return xyz


def _hit(xyz: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(xyz), axis=1)


def _initial_t(lines: float, samples: float, per_edge: int) -> np.ndarray:
    """``per_edge`` points on each edge (corners shared), as perimeter parameters."""
    frac = np.linspace(0.0, 1.0, per_edge)[:-1]
    starts = np.array([0.0, samples, samples + lines, 2 * samples + lines])
    lengths = np.array([samples, lines, samples, lines])
    return (starts[:, None] + lengths[:, None] * frac[None, :]).ravel()


def _bisect(camera: Any, lo: np.ndarray, hi: np.ndarray, point_of, precision: float) -> np.ndarray:
    """Vectorized bisection between parameters ``lo`` (hit) and ``hi`` (miss); returns the hit side."""
    if lo.size == 0:
        return lo
    span = float(np.max(np.abs(hi - lo)))
    rounds = int(np.ceil(np.log2(max(span, precision) / precision))) + 1
    lo, hi = lo.copy(), hi.copy()
    for _ in range(rounds):
        mid = 0.5 * (lo + hi)
        ok = _hit(_project(camera, point_of(mid)))
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return lo


def _segment_error(xyz_a: np.ndarray, xyz_b: np.ndarray, xyz_m: np.ndarray, npix: np.ndarray) -> np.ndarray:
    """Deviation (in pixel ground sizes) of the projected midpoint from the lon/lat chord's midpoint."""
    lon_a, lat_a = xyz_to_lonlat(xyz_a)
    lon_b, lat_b = xyz_to_lonlat(xyz_b)
    lon_m, lat_m = xyz_to_lonlat(xyz_m)
    radius = np.linalg.norm(xyz_m, axis=1)
    chord_lon = lon_a + 0.5 * wrap180(lon_b - lon_a)
    chord_lat = 0.5 * (lat_a + lat_b)
    dx = np.radians(wrap180(lon_m - chord_lon)) * np.cos(np.radians(lat_m))
    dy = np.radians(lat_m - chord_lat)
    deviation = radius * np.hypot(dx, dy)
    pixel = np.linalg.norm(xyz_b - xyz_a, axis=1) / np.maximum(npix, 1e-9)
    return deviation / np.maximum(pixel, 1e-9)


def _refine(
    camera: Any,
    t: np.ndarray,
    xyz: np.ndarray,
    refinable: np.ndarray,
    lines: float,
    samples: float,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Insert midpoints into segments (i, i+1) flagged ``refinable`` until they follow the boundary.

    ``t`` is sorted and closed cyclically; the segment after the last point wraps to the first.
    """
    perimeter = 2.0 * (lines + samples)
    for _ in range(MAX_REFINEMENT_ROUNDS):
        t_next = np.roll(t, -1)
        length = np.mod(t_next - t, perimeter)
        candidates = np.flatnonzero(refinable & (length > 2.0))
        if candidates.size == 0:
            break
        t_mid = t[candidates] + 0.5 * length[candidates]
        xyz_mid = _project(camera, perimeter_points(t_mid, lines, samples))
        nxt = (candidates + 1) % t.size
        err = _segment_error(xyz[candidates], xyz[nxt], xyz_mid, length[candidates])
        split = _hit(xyz_mid) & (err > tolerance)
        if not split.any():
            break
        t_new = np.mod(t_mid[split], perimeter)
        t = np.concatenate([t, t_new])
        xyz = np.concatenate([xyz, xyz_mid[split]])
        refinable = np.concatenate([refinable, np.ones(t_new.size, dtype=bool)])
        order = np.argsort(t, kind="stable")
        t, xyz, refinable = t[order], xyz[order], refinable[order]
    return t, xyz


def _anchor(camera: Any, lines: float, samples: float, label: str | None) -> np.ndarray:
    """An on-body (line, sample) near the middle of the on-body region; FootprintError if none."""
    centre = np.array([[lines / 2.0, samples / 2.0]])
    grid_l, grid_s = np.meshgrid(
        np.linspace(0.0, lines, PROBE_GRID), np.linspace(0.0, samples, PROBE_GRID), indexing="ij"
    )
    grid = np.column_stack([grid_l.ravel(), grid_s.ravel()])
    hits = grid[_hit(_project(camera, grid))]
    if hits.shape[0] == 0:
        if _hit(_project(camera, centre))[0]:
            return centre[0]
        raise FootprintError(
            f"the image does not see the body: no ray of a {PROBE_GRID} x {PROBE_GRID} pixel grid "
            "hits the ellipsoid",
            label,
        )
    mean = hits.mean(axis=0, keepdims=True)
    if _hit(_project(camera, mean))[0]:
        return mean[0]
    return hits[np.argmin(np.linalg.norm(hits - mean, axis=1))]


def image_boundary(
    camera: Any,
    points_per_edge: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE_PX,
    path: Any = None,
) -> Boundary:
    """Sample the on-body boundary of an image and project it to the ellipsoid.

    Parameters
    ----------
    camera : camera model
        Has ``image_lines``, ``image_samples`` and a vectorized ``image_to_ground(lines, samples)``
        that returns NaN rows for rays missing the body.
    points_per_edge : int, optional
        Fixed number of samples per image edge, corners included. None: start from
        :func:`auto_points_per_edge` and refine each edge segment until its lon/lat chord is within
        ``tolerance`` pixels' ground size of the projected boundary.
    tolerance : float
        Refinement tolerance in pixels (automatic sampling only).
    path : str or PathLike, optional
        The image or ISD file, named in errors.

    Returns
    -------
    Boundary

    Raises
    ------
    FootprintError
        If no ray of the image hits the body, or ``points_per_edge`` < 2.
    """
    label = camera_label(camera, path)
    lines, samples = float(camera.image_lines), float(camera.image_samples)
    if not (lines > 0 and samples > 0):
        raise FootprintError(f"the camera has an empty image ({lines} x {samples} pixels)", label)
    if points_per_edge is not None and points_per_edge < 2:
        raise FootprintError(f"points_per_edge must be >= 2, got {points_per_edge}", label)
    perimeter = 2.0 * (lines + samples)
    per_edge = points_per_edge if points_per_edge is not None else auto_points_per_edge(lines, samples)
    t = _initial_t(lines, samples, per_edge)
    xyz = _project(camera, perimeter_points(t, lines, samples))
    hit = _hit(xyz)

    def along_edge(u: np.ndarray) -> np.ndarray:
        return perimeter_points(u, lines, samples)

    # where the perimeter leaves or re-enters the body, locate the crossing by bisection
    nxt = np.roll(np.arange(t.size), -1)
    t_next = t[nxt] + np.where(nxt == 0, perimeter, 0.0)
    exits = np.flatnonzero(hit & ~hit[nxt])
    entries = np.flatnonzero(~hit & hit[nxt])
    t_exit = _bisect(camera, t[exits], t_next[exits], along_edge, BISECTION_PRECISION_PX)
    t_entry = _bisect(camera, t_next[entries], t[entries], along_edge, BISECTION_PRECISION_PX)
    t_cross = np.mod(np.concatenate([t_exit, t_entry]), perimeter)
    xyz_cross = _project(camera, perimeter_points(t_cross, lines, samples))
    keep = _hit(xyz_cross)
    t_all = np.concatenate([t[hit], t_cross[keep]])
    xyz_all = np.concatenate([xyz[hit], xyz_cross[keep]])
    is_exit = np.concatenate([np.zeros(hit.sum(), bool), np.arange(t_cross.size)[keep] < t_exit.size])
    order = np.argsort(t_all, kind="stable")
    t_all, xyz_all, is_exit = t_all[order], xyz_all[order], is_exit[order]

    if points_per_edge is None and t_all.size:
        # a segment leaving the body through the limb is not an image-edge segment
        t_all, xyz_all = _refine(camera, t_all, xyz_all, ~is_exit, lines, samples, tolerance)
        is_exit = np.isin(t_all, np.mod(t_exit, perimeter))

    if hit.all():
        return Boundary(perimeter_points(t_all, lines, samples), xyz_all, np.zeros(t_all.size, bool))

    # limb: the edge is off the body between an exit and the next entry; go round the anchor instead
    anchor = _anchor(camera, lines, samples, label)
    if t_all.size == 0:  # the whole body is inside the image
        runs = [(0.0, perimeter)]
    else:
        runs = [
            (t_all[i], np.mod(t_all[(i + 1) % t_all.size] - t_all[i], perimeter) or perimeter)
            for i in np.flatnonzero(is_exit)
        ]
    n_limb = max(4 * (per_edge - 1), 64)
    ray_t = np.concatenate(
        [
            start + length * (np.arange(1, k + 1) / (k + 1))
            for start, length in runs
            for k in [max(int(np.ceil(n_limb * length / perimeter)), 8)]
        ]
    )
    targets = perimeter_points(ray_t, lines, samples)

    def along_ray(s: np.ndarray) -> np.ndarray:
        return anchor[None, :] + s[:, None] * (targets - anchor[None, :])

    scale = float(np.max(np.linalg.norm(targets - anchor, axis=1)))
    s_limb = _bisect(
        camera, np.zeros(ray_t.size), np.ones(ray_t.size), along_ray, BISECTION_PRECISION_PX / max(scale, 1.0)
    )
    limb_image = along_ray(s_limb)
    limb_xyz = _project(camera, limb_image)
    ok = _hit(limb_xyz)

    image = np.concatenate([perimeter_points(t_all, lines, samples), limb_image[ok]])
    xyz_ring = np.concatenate([xyz_all, limb_xyz[ok]])
    on_limb = np.concatenate([np.zeros(t_all.size, bool), np.ones(ok.sum(), bool)])
    key = np.concatenate([t_all, np.mod(ray_t[ok], perimeter)])
    order = np.argsort(key, kind="stable")
    return Boundary(image[order], xyz_ring[order], on_limb[order])
