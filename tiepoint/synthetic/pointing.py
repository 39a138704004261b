"""Synthetic a-priori pointing error: perturb an ISD so its ground shifts by about M metres.

Real cameras are off by hundreds of metres on the ground (CTX: ~150-850 m at the 95th percentile);
rendering through a perfect camera makes matching too easy. :func:`perturb_isd` returns the *truth*
ISD, a copy of the a-priori one whose spacecraft attitude and position carry a constant bias chosen so
that the ground point seen at the image centre moves by ``error_m`` metres:

* the direction on the ground is random (uniform azimuth from the seed), so pairs get a realistic
  mix of along- and cross-track error;
* a random share of it (50-100 %) comes from pointing (a constant rotation composed with every
  ``instrument_pointing`` quaternion), the rest from position (a constant shift of every
  ``instrument_position``, J2000 frame);
* the two biases are solved from the camera's own numerical Jacobian (minimum-norm: no roll about
  the boresight, no shift along the look), then corrected once, so the centre offset is ``error_m``
  to well under 1 %; away from the centre it differs by the perspective of the rotation (< 1 % on a
  CTX crop).

:func:`true_correspondence` maps OpenCV pixel positions of one image into another through the truth
cameras (``image_to_ground`` on the ellipsoid the synthetic texture lives on, then
``ground_to_image``), which is what matching tests check against.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tiepoint.camera import rotation as rot
from tiepoint.errors import CameraError

TRUTH_KEY = "tiepoint_pointing_error"
"""Key of the truth ISD under which :func:`perturb_isd` records what it applied (other readers ignore it)."""

_POINTING_SHARE = (0.5, 1.0)
_EPS_ROTATION = 1e-6  # rad, for the numerical Jacobian (~0.3 m on the ground from orbit)
_EPS_POSITION = 1.0  # m
_RANK_CUT = 1e-3


@dataclass(frozen=True, slots=True)
class PointingError:
    """What :func:`perturb_isd` applied, and its effect at the image centre."""

    offset_m: tuple[float, float, float]
    """Body-fixed ground point seen at the image centre by the truth camera minus the a-priori one (m)."""
    along_m: float
    """Component of ``offset_m`` along the ground track (direction of increasing lines), m."""
    cross_m: float
    """Component across the track (up x along), m."""
    rotation_rad: tuple[float, float, float]
    """Rotation vector composed with every ``instrument_pointing`` quaternion (radians)."""
    translation_m: tuple[float, float, float]
    """Shift added to every ``instrument_position`` (J2000, metres)."""

    @property
    def magnitude_m(self) -> float:
        """Length of :attr:`offset_m`."""
        return float(np.linalg.norm(self.offset_m))


def _apply(isd: dict[str, Any], rotation: np.ndarray, translation: np.ndarray) -> dict[str, Any]:
    """A copy of ``isd`` with the pointing rotated by ``rotation`` (vector, rad) and the positions shifted."""
    out = copy.deepcopy(isd)
    try:
        pointing = out["instrument_pointing"]
        quats = np.asarray(pointing["quaternions"], dtype=float)
        angle = float(np.linalg.norm(rotation))
        delta = rot.from_axis_angle(rotation, np.array([angle]))[0]
        pointing["quaternions"] = rot.normalize(rot.multiply(quats, delta)).tolist()
        position = out["instrument_position"]
        positions = np.asarray(position["positions"], dtype=float)
        position["positions"] = (positions + translation / 1000.0).tolist()  # ISD positions are km
    except (KeyError, TypeError, ValueError) as exc:
        raise CameraError(f"cannot perturb the ISD's pointing or position: {exc!r}") from None
    return out


def _centre_ground(isd: dict[str, Any]) -> np.ndarray:
    from tiepoint.camera import from_isd

    cam = from_isd(isd)
    xyz = cam.image_to_ground([cam.image_lines / 2.0], [cam.image_samples / 2.0])[0]
    if not np.all(np.isfinite(xyz)):
        raise CameraError("the image centre does not see the body; cannot place a pointing error")
    return xyz


def _track_frame(isd: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit (along, cross, up) vectors at the image centre's ground point."""
    from tiepoint.camera import from_isd

    cam = from_isd(isd)
    lines = np.array([0.0, 0.5, 1.0]) * cam.image_lines
    g = cam.image_to_ground(lines, np.full(3, cam.image_samples / 2.0))
    up = g[1] / np.linalg.norm(g[1])
    along = g[2] - g[0]
    along -= up * np.dot(along, up)
    along /= np.linalg.norm(along)
    return along, np.cross(up, along), up


def _jacobian(isd: dict[str, Any], centre: np.ndarray, kind: str) -> np.ndarray:
    """3x3 ground displacement of the centre per unit rotation (rad) or translation (m) along x, y, z."""
    eps = _EPS_ROTATION if kind == "rotation" else _EPS_POSITION
    columns = []
    for axis in np.eye(3):
        args = (axis * eps, np.zeros(3)) if kind == "rotation" else (np.zeros(3), axis * eps)
        columns.append((_centre_ground(_apply(isd, *args)) - centre) / eps)
    return np.stack(columns, axis=1)


def perturb_isd(
    isd: dict[str, Any], error_m: float, seed: int | np.random.Generator | Any = 0
) -> tuple[dict[str, Any], PointingError]:
    """The truth ISD: ``isd`` with a constant attitude and position bias moving its ground by ``error_m``.

    Parameters
    ----------
    isd : dict
        The a-priori ISD (``USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL`` or ``USGS_ASTRO_FRAME_SENSOR_MODEL``,
        with ``instrument_pointing`` and ``instrument_position``); not modified.
    error_m : float
        Ground offset at the image centre, metres (>= 0).
    seed : int, sequence of int or numpy Generator
        Chooses the direction on the ground and the pointing/position share.

    Returns
    -------
    truth : dict
        The perturbed ISD; what was applied is also recorded under :data:`TRUTH_KEY`.
    error : PointingError

    Raises
    ------
    CameraError
        The ISD cannot be used, ``error_m`` is negative or not finite, or the image centre misses the body.
    """
    if not np.isfinite(error_m) or error_m < 0:
        raise CameraError(f"the pointing error must be a finite number of metres >= 0, got {error_m!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    share = rng.uniform(*_POINTING_SHARE)
    centre = _centre_ground(isd)
    along, cross, _ = _track_frame(isd)
    target = error_m * (np.cos(azimuth) * along + np.sin(azimuth) * cross)
    # each Jacobian has rank 2 (a roll about the look, a shift along it, move nothing): cut the third
    # singular value, which is numerical noise, so the minimum-norm solve never leans on it
    pinv_rot = np.linalg.pinv(_jacobian(isd, centre, "rotation"), rcond=_RANK_CUT)
    pinv_pos = np.linalg.pinv(_jacobian(isd, centre, "translation"), rcond=_RANK_CUT)
    rotation, translation = np.zeros(3), np.zeros(3)
    if error_m > 0:
        for _ in range(2):  # a linear solve, then one correction for the (tiny) nonlinearity
            achieved = _centre_ground(_apply(isd, rotation, translation)) - centre
            residual = target - achieved
            rotation = rotation + pinv_rot @ (share * residual)
            translation = translation + pinv_pos @ ((1.0 - share) * residual)
    truth = _apply(isd, rotation, translation)
    offset = _centre_ground(truth) - centre
    error = PointingError(
        offset_m=tuple(float(v) for v in offset),
        along_m=float(np.dot(offset, along)),
        cross_m=float(np.dot(offset, cross)),
        rotation_rad=tuple(float(v) for v in rotation),
        translation_m=tuple(float(v) for v in translation),
    )
    truth[TRUTH_KEY] = {**asdict(error), "requested_m": float(error_m), "pointing_share": float(share)}
    return truth, error


def _camera(model: Any) -> Any:
    from tiepoint.camera import CameraModel, from_isd

    if isinstance(model, CameraModel):
        return model
    if isinstance(model, dict | str | os.PathLike):
        return from_isd(model)
    raise CameraError(f"expected a camera model, an ISD dict or an ISD path, got {type(model).__name__}")


def true_correspondence(
    truth_a: Any, truth_b: Any, x_a: np.ndarray, y_a: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where the ground seen at OpenCV positions ``(x_a, y_a)`` of image a appears in image b.

    Parameters
    ----------
    truth_a, truth_b : CameraModel, ISD dict or ISD path
        The truth cameras (``<stem>.truth.json`` written by ``synthesize(..., pointing_error_m=...)``).
    x_a, y_a : array_like
        Sample and line in image a, OpenCV convention (centre of the first pixel at 0).

    Returns
    -------
    x_b, y_b : ndarray of float64
        Positions in image b, OpenCV convention; NaN where a's ray misses the body. Positions outside
        image b are returned as computed (check them against its size).
    """
    from tiepoint.pixels import from_camera_coords, to_camera_coords

    cam_a, cam_b = _camera(truth_a), _camera(truth_b)
    lines, samples = to_camera_coords(np.ravel(x_a), np.ravel(y_a))
    xyz = cam_a.image_to_ground(lines, samples)  # height 0: the ellipsoid the texture is defined on
    ok = np.all(np.isfinite(xyz), axis=1)
    x_b, y_b = np.full(len(xyz), np.nan), np.full(len(xyz), np.nan)
    if ok.any():
        lb, sb = cam_b.ground_to_image(xyz[ok])
        x_b[ok], y_b[ok] = from_camera_coords(lb, sb)
    return x_b, y_b
