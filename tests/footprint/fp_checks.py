"""Independent checks of footprints: pixel-grid area, point membership, density (no footprint code)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def lonlat(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive-east longitude [0, 360) and planetocentric latitude of body-fixed points."""
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0])) % 360.0
    lat = np.degrees(np.arcsin(xyz[:, 2] / np.linalg.norm(xyz, axis=1)))
    return lon, lat


def grid_area(camera: Any, n: int = 48) -> tuple[float, float]:
    """Ground area of the image as the sum of its pixel-corner grid quads (two flat triangles each).

    Returns (area of quads whose four corners hit the body, fraction of such quads).
    """
    lines = np.linspace(0.0, camera.image_lines, n + 1)
    samples = np.linspace(0.0, camera.image_samples, n + 1)
    gl, gs = np.meshgrid(lines, samples, indexing="ij")
    xyz = np.asarray(camera.image_to_ground(gl.ravel(), gs.ravel()), dtype=float).reshape(n + 1, n + 1, 3)
    p00, p01, p10, p11 = xyz[:-1, :-1], xyz[:-1, 1:], xyz[1:, :-1], xyz[1:, 1:]
    tri1 = 0.5 * np.linalg.norm(np.cross(p01 - p00, p10 - p00), axis=-1)
    tri2 = 0.5 * np.linalg.norm(np.cross(p01 - p11, p10 - p11), axis=-1)
    quad = tri1 + tri2
    ok = np.isfinite(quad)
    return float(quad[ok].sum()), float(ok.mean())


def wrap_to(lon: np.ndarray, geom: BaseGeometry) -> np.ndarray:
    """Longitudes in the footprint's domain (-180..180 if it has negative longitudes)."""
    return ((lon + 180.0) % 360.0) - 180.0 if geom.bounds[0] < 0 else lon


def membership(camera: Any, footprint: BaseGeometry, n: int = 3000, margin: float = 1.0, seed: int = 0):
    """Fraction of on-body pixels >= ``margin`` px inside the image that fall inside the footprint, and
    fraction of pixels >= 2 ``margin`` px outside the image (across-sample) that fall outside it."""
    rng = np.random.default_rng(seed)
    nl, ns = camera.image_lines, camera.image_samples
    lines = rng.uniform(margin, nl - margin, n)
    samples = rng.uniform(margin, ns - margin, n)
    xyz = np.asarray(camera.image_to_ground(lines, samples), dtype=float)
    ok = np.isfinite(xyz[:, 0])
    lon, lat = lonlat(xyz[ok])
    inside = shapely.contains_xy(footprint, wrap_to(lon, footprint), lat).mean()
    out_s = np.where(rng.random(n) < 0.5, rng.uniform(-0.1 * ns, -2 * margin, n),
                     rng.uniform(ns + 2 * margin, 1.1 * ns, n))  # fmt: skip
    xyz_out = np.asarray(camera.image_to_ground(lines, out_s), dtype=float)
    ok_out = np.isfinite(xyz_out[:, 0])
    lon_o, lat_o = lonlat(xyz_out[ok_out])
    if not ok_out.any():  # nothing outside the image is on the body
        return float(inside), float("nan")
    outside = 1.0 - shapely.contains_xy(footprint, wrap_to(lon_o, footprint), lat_o).mean()
    return float(inside), float(outside)


def pixel_size(camera: Any) -> float:
    """Median ground distance between neighbouring pixels along the image edges (metres)."""
    nl, ns = camera.image_lines, camera.image_samples
    ls = np.array([0.5, 0.5, nl - 0.5, nl - 0.5, nl / 2, nl / 2, 0.5, nl - 0.5])
    ss = np.array([0.5, ns - 0.5, 0.5, ns - 0.5, 0.5, ns - 0.5, ns / 2, ns / 2])
    a = np.asarray(camera.image_to_ground(ls, ss), dtype=float)
    b = np.asarray(camera.image_to_ground(ls + 1.0, ss), dtype=float)
    c = np.asarray(camera.image_to_ground(ls, ss + 1.0), dtype=float)
    d = np.concatenate([np.linalg.norm(b - a, axis=1), np.linalg.norm(c - a, axis=1)])
    return float(np.nanmedian(d))


def metric_hausdorff(a: BaseGeometry, b: BaseGeometry, radius: float) -> float:
    """Hausdorff distance (metres) between the boundaries of two small lon/lat footprints.

    Lon/lat are scaled to metres about a's centre (a linear map, so straight lon/lat edges stay
    straight); the distance is the largest of each footprint's vertices from the other's boundary.
    """
    lat0 = np.radians(a.representative_point().y)
    scale = np.radians(1.0) * radius * np.array([np.cos(lat0), 1.0])
    pa = shapely.transform(a, lambda c: c * scale)
    pb = shapely.transform(b, lambda c: c * scale)
    va = shapely.points(shapely.get_coordinates(pa.boundary))
    vb = shapely.points(shapely.get_coordinates(pb.boundary))
    return float(max(shapely.distance(va, pb.boundary).max(), shapely.distance(vb, pa.boundary).max()))
