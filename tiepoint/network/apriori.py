"""A-priori ground points and reference measures, vectorized over all points.

For each point, the ground point closest (in least squares) to the camera rays of its measures:
minimise ``sum_i |(I - d_i d_i^T)(X - c_i)|^2`` over X, with sensor positions ``c_i`` and unit
look directions ``d_i`` from each measure's camera (USGSCSM coordinates through
:func:`tiepoint.pixels.to_camera_coords`). The 3 x 3 normal equations ``sum_i (I - d_i d_i^T) X =
sum_i (I - d_i d_i^T) c_i`` of every point are accumulated with :func:`numpy.bincount` and solved as
one batch. Cameras are called once per image, for all of that image's measures.

Rays that barely converge fix the point poorly along the line of sight: the smallest eigenvalue of
the normal matrix, divided by the number of rays, is ``sin^2(theta / 2)`` for two rays ``theta``
apart, and its equivalent angle is reported as ``convergence_deg``. Rays of cameras that disagree
(a-priori pointing errors of hundreds of metres for CTX) miss each other, and the intersection then
slides along the line of sight by about the miss distance over ``sin(theta / 2)``: that is reported
as ``height_error_m``. Below ``min_convergence_deg``, above ``max_height_error_m``, or when the
intersection lies more than ``max_height_m`` from the ellipsoid or behind a camera, the point falls
back to the mean of its measures' ground points (the keypoint files' positions, or the ellipsoid under
each measure), as ISIS's ``AverageOfMeasures``. Every point records its source (:data:`SOURCES`).

The reference measure of each point is the one with the finest ground resolution at the a-priori
point (the square root of one pixel's ground area, :func:`tiepoint.network.geometry.ground_resolution`),
then the most nadir (smallest emission angle). The reference chip is warped into every other image
of the point: the finest view makes the sharpest template, which is then low-passed onto coarser
images, while a coarse template resampled up onto a finer image has little to correlate (G02
rendered at 800 and at 160 pixels, ``tests/network/test_network_resolution.py``: the fine image as
reference registers 99 % of the coarse image's measures to 0.12 px RMS, the coarse one as reference
17 % of the fine image's, to 0.32 of its own pixels). Among images of one resolution the criterion
favours the least foreshortened view, as the emission angle does; unlike a detector response, both
compare across images and extractors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tiepoint.camera import CameraModel
from tiepoint.camera.coords import geodetic_height
from tiepoint.config import AprioriConfig
from tiepoint.network.errors import NetworkError
from tiepoint.network.geometry import ground_resolution
from tiepoint.pixels import to_camera_coords

SOURCES: dict[str, str] = {
    "rays": "least-squares intersection of the measures' camera rays",
    "average_of_measures": "mean of the measures' ground points (ISIS AprioriSource AverageOfMeasures)",
    "none": "no measure's ray reaches the body",
}
"""Where an a-priori point comes from."""

# the 6 distinct entries of a symmetric 3 x 3 matrix
_ROWS = np.array([0, 0, 0, 1, 1, 2])
_COLS = np.array([0, 1, 2, 1, 2, 2])


@dataclass(frozen=True, slots=True)
class AprioriPoints:
    """A-priori ground points (P of them) and per-measure geometry (M measures)."""

    xyz: np.ndarray
    """(P, 3) body-fixed metres; NaN where the source is ``none``."""
    height_m: np.ndarray
    """(P,) height above the ellipsoid (m)."""
    source: np.ndarray
    """(P,) str, a key of :data:`SOURCES`."""
    convergence_deg: np.ndarray
    """(P,) equivalent convergence angle of the rays (the angle between them for two rays)."""
    ray_rms_m: np.ndarray
    """(P,) RMS distance of the measures' rays from the a-priori point: pointing inconsistency."""
    height_error_m: np.ndarray
    """(P,) how far the ray intersection may slide along the line of sight: the rays' RMS distance from
    it over ``sin(convergence / 2)`` (NaN where the rays do not converge)."""
    reference: np.ndarray
    """(P,) index (into the measure arrays) of each point's reference measure."""
    emission_deg: np.ndarray
    """(M,) emission angle of each measure at its a-priori point."""
    resolution_m: np.ndarray
    """(M,) ground size of a pixel (m, square root of its area) at each measure, at the point's height."""


def _per_image(
    image: np.ndarray, x: np.ndarray, y: np.ndarray, cameras: Mapping[int, CameraModel], want_ground: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sensor positions, unit look directions (and ground points at h=0) of every measure."""
    m = len(image)
    centre, look = np.empty((m, 3)), np.empty((m, 3))
    ground = np.empty((m, 3)) if want_ground else None
    images, inverse = np.unique(image, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(images) + 1))
    for k, img in enumerate(images.tolist()):  # one camera call per image, for all its measures
        camera = cameras.get(img)
        if camera is None:
            raise NetworkError(f"no camera for image {img}")
        idx = order[bounds[k] : bounds[k + 1]]
        lines, samples = to_camera_coords(x[idx], y[idx])
        centre[idx] = camera.sensor_position(lines, samples)
        look[idx] = camera.look_direction(lines, samples)
        if ground is not None:
            ground[idx] = camera.image_to_ground(lines, samples)
    return centre, look, ground


def _ray_rms(
    proj: np.ndarray, xyz: np.ndarray, centre: np.ndarray, pt: np.ndarray, ok: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """RMS distance (m) of each point's rays from the point ``xyz`` (NaN where it is unknown)."""
    off = np.einsum("mij,mj->mi", proj, xyz[pt] - centre)
    dist2 = np.where(ok, (off * off).sum(axis=1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(np.bincount(pt, weights=dist2, minlength=len(count)) / count)


def _ellipsoid(cameras: Mapping[int, CameraModel], images: np.ndarray) -> tuple[float, float]:
    camera = cameras[int(images[0])]
    return float(camera.semimajor), float(camera.semiminor)


def apriori_points(
    point: np.ndarray,
    image: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cameras: Mapping[int, CameraModel],
    config: AprioriConfig | None = None,
    *,
    ground: np.ndarray | None = None,
) -> AprioriPoints:
    """A-priori ground point, its source and the reference measure of every point.

    Parameters
    ----------
    point : (M,) int
        Point index of each measure, ``0 .. P - 1`` (as :class:`tiepoint.network.Tracks` numbers them).
    image : (M,) int
        Image id of each measure; *cameras* must hold every one.
    x, y : (M,) float
        Measure positions, OpenCV convention (:mod:`tiepoint.pixels`).
    cameras : mapping of image id to CameraModel
    config : AprioriConfig, optional
    ground : (M, 3) float, optional
        The measures' ground points for the fallback (the keypoint files' ``/ground/{x,y,z}``); by
        default the ellipsoid point under each measure.

    Returns
    -------
    AprioriPoints

    Raises
    ------
    NetworkError
        Arrays of different lengths, point indices not ``0 .. P - 1``, or an image without a camera.
    """
    cfg = config if config is not None else AprioriConfig()
    pt = np.asarray(point)
    im = np.asarray(image)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    m = len(pt)
    if not (pt.ndim == 1 and im.shape == xs.shape == ys.shape == (m,)):
        raise NetworkError(
            f"point, image, x and y must be 1-D of one length, got {pt.shape}, {im.shape}, {xs.shape}"
        )
    if m and not (np.issubdtype(pt.dtype, np.integer) and pt.min() >= 0):
        raise NetworkError("point must hold point indices 0 .. P - 1")
    n_points = int(pt.max()) + 1 if m else 0
    if m and np.bincount(pt, minlength=n_points).min() == 0:
        raise NetworkError("point must hold point indices 0 .. P - 1 with every index used")
    if ground is not None:
        ground = np.asarray(ground, dtype=np.float64)
        if ground.shape != (m, 3):
            raise NetworkError(f"ground must have shape ({m}, 3), got {ground.shape}")
    if m == 0:
        e = np.empty(0)
        return AprioriPoints(np.empty((0, 3)), e, np.empty(0, "<U19"), e, e, e, np.empty(0, np.int64), e, e)
    centre, look, own_ground = _per_image(im, xs, ys, cameras, ground is None)
    if ground is None:
        ground = own_ground
    a, b = _ellipsoid(cameras, im)
    ok = np.isfinite(centre).all(axis=1) & np.isfinite(look).all(axis=1)
    centre, look = np.where(ok[:, None], centre, 0.0), np.where(ok[:, None], look, 0.0)
    count = np.bincount(pt, weights=ok.astype(float), minlength=n_points)
    # normal equations: N = sum (I - d d^T), r = sum (I - d d^T) c, with P = I - d d^T per measure
    proj = np.eye(3)[None] - look[:, :, None] * look[:, None, :]
    proj[~ok] = 0.0
    normal = np.zeros((n_points, 3, 3))
    for r, c in zip(_ROWS, _COLS, strict=True):
        normal[:, r, c] = normal[:, c, r] = np.bincount(pt, weights=proj[:, r, c], minlength=n_points)
    pc = np.einsum("mij,mj->mi", proj, centre)
    rhs = np.stack([np.bincount(pt, weights=pc[:, k], minlength=n_points) for k in range(3)], axis=1)
    smallest = np.linalg.eigvalsh(normal)[:, 0]
    convergence = np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(smallest / np.maximum(count, 1), 0.0, 1.0))))
    solvable = (count >= 2) & (convergence >= max(cfg.min_convergence_deg, 1e-6))
    xyz_rays = np.full((n_points, 3), np.nan)
    if solvable.any():
        xyz_rays[solvable] = np.linalg.solve(normal[solvable], rhs[solvable][:, :, None])[:, :, 0]
    _, h_rays = geodetic_height(xyz_rays, a, b)
    ahead = np.einsum("mi,mi->m", xyz_rays[pt] - centre, look) > 0
    all_ahead = np.bincount(pt, weights=(~ahead & ok).astype(float), minlength=n_points) == 0
    miss = _ray_rms(proj, xyz_rays, centre, pt, ok, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        height_error = miss / np.sin(np.radians(convergence) / 2.0)
    use_rays = solvable & np.isfinite(h_rays) & (np.abs(h_rays) <= cfg.max_height_m) & all_ahead
    use_rays &= height_error <= cfg.max_height_error_m
    # fallback: mean of the measures' finite ground points
    gok = np.isfinite(ground).all(axis=1)
    gcount = np.bincount(pt, weights=gok.astype(float), minlength=n_points)
    gsum = np.stack(
        [np.bincount(pt, weights=np.where(gok, ground[:, k], 0.0), minlength=n_points) for k in range(3)],
        axis=1,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = gsum / gcount[:, None]
    xyz = np.where(use_rays[:, None], xyz_rays, mean)
    source = np.where(use_rays, "rays", np.where(gcount > 0, "average_of_measures", "none")).astype("<U19")
    _, height = geodetic_height(xyz, a, b)
    ray_rms = _ray_rms(proj, xyz, centre, pt, ok, count)
    # emission angle: between the ellipsoid normal at the point and the direction to the sensor
    normal_dir = xyz[pt] / np.array([a * a, a * a, b * b])
    normal_dir /= np.linalg.norm(normal_dir, axis=1, keepdims=True)
    to_sensor = centre - xyz[pt]
    to_sensor /= np.linalg.norm(to_sensor, axis=1, keepdims=True)
    emission = np.degrees(np.arccos(np.clip(np.einsum("mi,mi->m", normal_dir, to_sensor), -1.0, 1.0)))
    emission[~ok] = np.nan
    resolution = ground_resolution(im, xs, ys, cameras, np.where(np.isfinite(height), height, 0.0)[pt])
    # reference: finest ground resolution, then smallest emission angle (unknown ones last), then
    # the lowest image id
    rank = np.where(np.isfinite(emission), emission, np.inf)
    fine = np.where(np.isfinite(resolution), resolution, np.inf)
    order = np.lexsort((im, rank, fine, pt))
    first = np.ones(m, bool)
    first[1:] = pt[order][1:] != pt[order][:-1]
    reference = order[first]
    height_error = np.where(solvable, height_error, np.nan)
    return AprioriPoints(
        xyz,
        height,
        source,
        convergence,
        ray_rms,
        height_error,
        reference.astype(np.int64),
        emission,
        resolution,
    )


__all__ = ["SOURCES", "AprioriPoints", "apriori_points"]
