"""Synthetic Image Support Data (ISD) for a frame camera, in the ALE / USGSCSM JSON layout.

:func:`frame_isd` builds a ``USGS_ASTRO_FRAME_SENSOR_MODEL`` ISD for a pinhole camera at a chosen
sub-spacecraft point, altitude and look direction, on any ellipsoid, in the body-fixed frame
(identity ``body_rotation``). It is meant for tests: views of the 0/360 meridian, of a pole, of the
limb, and views that miss the body entirely.

Conventions (facts read from USGSCSM ``UsgsAstroFrameSensorModel.cpp`` / ``Utilities.cpp`` and ALE
``Util.cpp``, not code):

- ISD lengths are kilometres (``radii``, positions); ``reference_height`` is metres.
- ISD quaternions are ``(w, x, y, z)``; ``instrument_pointing`` rotates J2000 vectors into the sensor
  frame and ``body_rotation`` rotates J2000 into the body frame. With identity ``body_rotation`` the
  sensor-to-body matrix is the transpose of the pointing quaternion's matrix.
- The focal plane: ``x = (line - detector_center.line) / focal2pixel_lines[1]``,
  ``y = (sample - detector_center.sample) / focal2pixel_samples[2]`` (mm), and the look direction in
  the sensor frame is ``(x, y, +focal_length)``.

So the camera's axes are: z = boresight, x = direction of increasing line, y = z cross x (increasing
sample). Here x is the local north (projected onto the image plane), so lines run north and samples
east for a nadir view; at a pole, where north is undefined, x is the body +x axis projected instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from tiepoint.errors import CameraError

__all__ = ["camera_axes", "frame_isd", "linescan_isd", "surface_normal", "surface_point"]

MARS_SEMIMAJOR = 3396190.0
MARS_SEMIMINOR = 3376200.0
SUN_DISTANCE_KM = 2.28e8


def surface_point(lat: float, lon: float, semimajor: float, semiminor: float) -> np.ndarray:
    """Body-fixed point (metres) on the ellipsoid at planetocentric ``lat``/``lon`` (degrees)."""
    phi, lam = np.radians(lat), np.radians(lon)
    radius = semimajor * semiminor / np.hypot(semiminor * np.cos(phi), semimajor * np.sin(phi))
    return radius * np.array([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def surface_normal(point: np.ndarray, semimajor: float, semiminor: float) -> np.ndarray:
    """Outward unit normal of the ellipsoid at body-fixed ``point``."""
    n = np.asarray(point, dtype=float) / np.array([semimajor**2, semimajor**2, semiminor**2])
    return n / np.linalg.norm(n)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _north_east(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local north and east unit vectors for the outward ``normal`` (x axis stands in at a pole)."""
    ref = np.array([0.0, 0.0, 1.0])
    north = ref - normal.dot(ref) * normal
    if np.linalg.norm(north) < 1e-9:
        ref = np.array([1.0, 0.0, 0.0])
        north = ref - normal.dot(ref) * normal
    north = _unit(north)
    return north, np.cross(north, normal)


def camera_axes(boresight: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Sensor-to-body rotation matrix whose columns are the camera x (line), y (sample), z axes.

    Parameters
    ----------
    boresight : (3,) array
        Look direction of the image centre (body-fixed); it becomes the z axis.
    up : (3,) array
        A direction the line axis (x) should point to, projected onto the image plane.
    """
    z = _unit(np.asarray(boresight, dtype=float))
    x = np.asarray(up, dtype=float) - z.dot(up) * z
    if np.linalg.norm(x) < 1e-9:  # up along the boresight: take any perpendicular direction
        alt = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        x = alt - z.dot(alt) * z
    x = _unit(x)
    return np.column_stack([x, np.cross(z, x), z])


def _require_positive(what: str, **values: float) -> None:
    """Raise CameraError naming the first of *values* that is not a finite positive number."""
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise CameraError(f"{what}: {name} must be positive, got {value!r}")


def frame_isd(
    lat: float,
    lon: float,
    altitude: float,
    *,
    lines: int = 512,
    samples: int = 512,
    focal_length: float = 50.0,
    pixel_pitch: float = 0.01,
    semimajor: float = MARS_SEMIMAJOR,
    semiminor: float = MARS_SEMIMINOR,
    look_at: tuple[float, float] | None = None,
    off_nadir: float = 0.0,
    azimuth: float = 0.0,
    radial_distortion: tuple[float, float, float] = (0.0, 0.0, 0.0),
    center_time: float = 0.0,
    image_id: str = "SYNTHETIC_FRAME",
) -> dict[str, Any]:
    """Build a ``USGS_ASTRO_FRAME_SENSOR_MODEL`` ISD (a JSON-ready dict) for a synthetic frame camera.

    Parameters
    ----------
    lat, lon : float
        Planetocentric latitude and positive-east longitude (degrees) of the sub-spacecraft point;
        the spacecraft sits ``altitude`` above it along the ellipsoid normal.
    altitude : float
        Height of the spacecraft above the ellipsoid (metres, > 0).
    lines, samples : int
        Image size in pixels.
    focal_length, pixel_pitch : float
        Millimetres; the ground sample distance at nadir is ``altitude * pixel_pitch / focal_length``.
    semimajor, semiminor : float
        Ellipsoid radii (metres); Mars IAU 2015 by default.
    look_at : (lat, lon), optional
        Point the boresight at this surface point (planetocentric degrees); overrides ``off_nadir``.
    off_nadir, azimuth : float
        Tilt of the boresight from nadir (degrees) toward ``azimuth`` (degrees clockwise from local
        north). A tilt beyond the limb gives a view that misses the body.
    radial_distortion : 3 floats
        USGSCSM ``radial`` distortion coefficients (zeros: an ideal pinhole).
    center_time : float
        Ephemeris time of the exposure (seconds).
    image_id : str
        ``image_identifier``.

    Returns
    -------
    dict
        The ISD; ``json.dump`` it to get a file USGSCSM and ALE accept.

    Raises
    ------
    CameraError
        On a non-positive size, altitude, focal length, pitch or radius.
    """
    _require_positive(
        "synthetic frame ISD",
        altitude=altitude,
        lines=lines,
        samples=samples,
        focal_length=focal_length,
        pixel_pitch=pixel_pitch,
        semimajor=semimajor,
        semiminor=semiminor,
    )
    ground = surface_point(lat, lon, semimajor, semiminor)
    normal = surface_normal(ground, semimajor, semiminor)
    position = ground + altitude * normal
    north, east = _north_east(normal)
    if look_at is not None:
        boresight = _unit(surface_point(look_at[0], look_at[1], semimajor, semiminor) - position)
    else:
        tilt, az = np.radians(off_nadir), np.radians(azimuth)
        horizontal = np.cos(az) * north + np.sin(az) * east
        boresight = np.cos(tilt) * -normal + np.sin(tilt) * horizontal
    sensor_to_body = camera_axes(boresight, north if abs(boresight.dot(north)) < 0.99 else east)
    qx, qy, qz, qw = Rotation.from_matrix(sensor_to_body.T).as_quat()
    sun = _unit(position) * SUN_DISTANCE_KM
    identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    inv_pitch = 1.0 / pixel_pitch
    return {
        "name_model": "USGS_ASTRO_FRAME_SENSOR_MODEL",
        "name_platform": "SYNTHETIC_SPACECRAFT",
        "name_sensor": "SYNTHETIC_FRAME_CAMERA",
        "image_identifier": image_id,
        "image_lines": int(lines),
        "image_samples": int(samples),
        "center_ephemeris_time": float(center_time),
        "starting_ephemeris_time": float(center_time),
        "interpolation_method": "lagrange",
        "detector_sample_summing": 1,
        "detector_line_summing": 1,
        "starting_detector_line": 0,
        "starting_detector_sample": 0,
        "detector_center": {"line": lines / 2.0, "sample": samples / 2.0},
        "focal_length_model": {"focal_length": float(focal_length)},
        "focal2pixel_lines": [0.0, inv_pitch, 0.0],
        "focal2pixel_samples": [0.0, 0.0, inv_pitch],
        "optical_distortion": {"radial": {"coefficients": [float(c) for c in radial_distortion]}},
        "radii": {"semimajor": semimajor / 1000.0, "semiminor": semiminor / 1000.0, "unit": "km"},
        "reference_height": {"minheight": -1000.0, "maxheight": 1000.0, "unit": "m"},
        "instrument_position": {
            "unit": "km",
            "positions": [(position / 1000.0).tolist()],
            "velocities": [[0.0, 0.0, 0.0]],
            "ephemeris_times": [float(center_time)],
            "reference_frame": 1,
        },
        "instrument_pointing": {
            "quaternions": [[float(qw), float(qx), float(qy), float(qz)]],
            "angular_velocities": [[0.0, 0.0, 0.0]],
            "ephemeris_times": [float(center_time)],
            "reference_frame": 1,
            "time_dependent_frames": [-1000, 1],
            "constant_frames": [-1000],
            "constant_rotation": identity,
        },
        "body_rotation": {
            "quaternions": [[1.0, 0.0, 0.0, 0.0]],
            "angular_velocities": [[0.0, 0.0, 0.0]],
            "ephemeris_times": [float(center_time)],
            "reference_frame": 1,
            "time_dependent_frames": [10000, 1],
            "constant_frames": [10000],
            "constant_rotation": identity,
        },
        "sun_position": {
            "unit": "km",
            "positions": [sun.tolist()],
            "velocities": [[0.0, 0.0, 0.0]],
            "ephemeris_times": [float(center_time)],
            "reference_frame": 1,
        },
    }


def linescan_isd(
    lat: float,
    lon: float,
    altitude: float,
    *,
    lines: int = 512,
    samples: int = 512,
    focal_length: float = 50.0,
    pixel_pitch: float = 0.01,
    heading: float = 0.0,
    roll: float = 0.0,
    line_time: float = 1e-3,
    semimajor: float = MARS_SEMIMAJOR,
    semiminor: float = MARS_SEMIMINOR,
    center_time: float = 0.0,
    nodes: int = 33,
    image_id: str = "SYNTHETIC_LINESCAN",
) -> dict[str, Any]:
    """Build a ``USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL`` ISD for a nadir push-broom on a circular orbit.

    The spacecraft flies a circle of radius ``|surface point| + altitude`` about the body centre
    whose ground track passes over planetocentric ``lat``/``lon`` at ``center_time``, heading
    ``heading`` degrees clockwise from north (from the body +x axis projected, at a pole). Unrolled,
    the camera looks at the body centre (the centre pixel of the middle line sees ``lat``/``lon``);
    lines advance along track, samples run to the right of the track (x = velocity, z = nadir). The
    orbit rate makes along-track pixels about as long as the nadir ground sample distance
    ``altitude * pixel_pitch / focal_length``.

    Parameters
    ----------
    lat, lon, altitude, lines, samples, focal_length, pixel_pitch, semimajor, semiminor, center_time,
    image_id
        As in :func:`frame_isd`.
    heading : float
        Ground-track azimuth at the centre (degrees clockwise from north).
    roll : float
        Tilt of the look direction from nadir toward increasing samples (degrees, about the
        velocity); beyond the limb angle the view misses the body.
    line_time : float
        Exposure time of one line (seconds).
    nodes : int
        Number of ephemeris / pointing samples spread over the image time (>= 2).

    Returns
    -------
    dict
        The ISD.

    Raises
    ------
    CameraError
        On a non-positive size, altitude, focal length, pitch, radius or line time, or nodes < 2.
    """
    _require_positive(
        "synthetic line-scan ISD",
        altitude=altitude,
        lines=lines,
        samples=samples,
        focal_length=focal_length,
        pixel_pitch=pixel_pitch,
        line_time=line_time,
        semimajor=semimajor,
        semiminor=semiminor,
    )
    if nodes < 2:
        raise CameraError(f"synthetic line-scan ISD: nodes must be >= 2, got {nodes}")
    ground = surface_point(lat, lon, semimajor, semiminor)
    up = _unit(ground)
    north, east = _north_east(up)
    az = np.radians(heading)
    along = np.cos(az) * north + np.sin(az) * east
    radius = np.linalg.norm(ground) + altitude
    gsd = altitude * pixel_pitch / focal_length
    rate = gsd / (np.linalg.norm(ground) * line_time)  # orbit angular rate (rad/s)
    half = 0.5 * lines * line_time
    times = np.linspace(-half, half, nodes) * 1.1  # a margin beyond the first and last line
    angle = rate * times
    pos = radius * (np.cos(angle)[:, None] * up + np.sin(angle)[:, None] * along)
    vel = radius * rate * (-np.sin(angle)[:, None] * up + np.cos(angle)[:, None] * along)
    quats = []
    tilt = np.radians(roll)
    for p, v in zip(pos, vel, strict=True):
        nadir, right = -_unit(p), np.cross(-_unit(p), _unit(v))
        sensor_to_body = camera_axes(np.cos(tilt) * nadir + np.sin(tilt) * right, v)
        qx, qy, qz, qw = Rotation.from_matrix(sensor_to_body.T).as_quat()
        quats.append([float(qw), float(qx), float(qy), float(qz)])
    et = (center_time + times).tolist()
    identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    inv_pitch = 1.0 / pixel_pitch
    sun = _unit(ground) * SUN_DISTANCE_KM
    return {
        "name_model": "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL",
        "name_platform": "SYNTHETIC_SPACECRAFT",
        "name_sensor": "SYNTHETIC_LINESCAN_CAMERA",
        "image_identifier": image_id,
        "image_lines": int(lines),
        "image_samples": int(samples),
        "center_ephemeris_time": float(center_time),
        "starting_ephemeris_time": float(center_time - half),
        "line_scan_rate": [[0.5, -half, float(line_time)]],
        "interpolation_method": "lagrange",
        "detector_sample_summing": 1,
        "detector_line_summing": 1,
        "starting_detector_line": 0,
        "starting_detector_sample": 0,
        "detector_center": {"line": 0.0, "sample": samples / 2.0},
        "focal_length_model": {"focal_length": float(focal_length)},
        "focal2pixel_lines": [0.0, inv_pitch, 0.0],
        "focal2pixel_samples": [0.0, 0.0, inv_pitch],
        "optical_distortion": {"radial": {"coefficients": [0.0, 0.0, 0.0]}},
        "radii": {"semimajor": semimajor / 1000.0, "semiminor": semiminor / 1000.0, "unit": "km"},
        "reference_height": {"minheight": -1000.0, "maxheight": 1000.0, "unit": "m"},
        "instrument_position": {
            "unit": "km",
            "positions": (pos / 1000.0).tolist(),
            "velocities": (vel / 1000.0).tolist(),
            "ephemeris_times": et,
            "reference_frame": 1,
        },
        "instrument_pointing": {
            "quaternions": quats,
            "angular_velocities": [[0.0, 0.0, 0.0]] * nodes,
            "ephemeris_times": et,
            "reference_frame": 1,
            "time_dependent_frames": [-1000, 1],
            "constant_frames": [-1000],
            "constant_rotation": identity,
        },
        "body_rotation": {
            "quaternions": [[1.0, 0.0, 0.0, 0.0]] * nodes,
            "angular_velocities": [[0.0, 0.0, 0.0]] * nodes,
            "ephemeris_times": et,
            "reference_frame": 1,
            "time_dependent_frames": [10000, 1],
            "constant_frames": [10000],
            "constant_rotation": identity,
        },
        "sun_position": {
            "unit": "km",
            "positions": [sun.tolist()] * 2,
            "velocities": [[0.0, 0.0, 0.0]] * 2,
            "ephemeris_times": [et[0], et[-1]],
            "reference_frame": 1,
        },
    }
