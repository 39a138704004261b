"""USGSCSM's line-scan (push-broom) model, ``USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL``, vectorized.

Built as USGSCSM builds it from an ALE ISD: instrument positions resampled (ALE cubic Hermite) onto at
least 25 equal time steps and rotated into the body-fixed frame with ``body_rotation`` (``R(q) @ p``,
quaternions ``(w, x, y, z)``); sensor-to-body quaternions ``body_rotation * instrument_pointing^-1``
resampled (slerp) onto equal steps over the merged pointing/body times. At run time, positions and
quaternions are Lagrange-interpolated (order 8) at the line's exposure time (``line_scan_rate``; a line
number ``L`` is exposed at ``t_start + dt * (L - L_start + 0.5)``). No light-aberration correction is
applied, as in USGSCSM's ``imageToGround``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiepoint.camera import rotation as rot
from tiepoint.camera.base import CameraModel, arrays_from_lists, as_xyz, chunks
from tiepoint.camera.distortion import Distortion
from tiepoint.camera.interpolation import UniformLagrange
from tiepoint.camera.isd import Orientations, States, get, get_array, get_count, get_float, radii_m
from tiepoint.errors import CameraError

MODEL_NAME = "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"
MIN_EPHEMERIS_NODES = 25
DISTORTION_PRECISION = 1e-10  # mm; USGSCSM uses 1e-6 (and the caller's precision in its last step)


def common_sensor_state(isd: dict[str, Any], source: str | None) -> dict[str, Any]:
    """Image size, detector/focal-plane mapping, distortion and ellipsoid shared by both models."""
    a, b = radii_m(isd, source)
    distortion = Distortion.from_isd(isd, source)
    state = {
        "image_lines": get_count(isd, "image_lines", source),
        "image_samples": get_count(isd, "image_samples", source),
        "semimajor": a,
        "semiminor": b,
        "sensor_name": str(get(isd, "name_sensor", source, "")),
        "platform_name": str(get(isd, "name_platform", source, "")),
        "focal_length": get_float(isd, "focal_length_model.focal_length", source),
        "itrans_line": get_array(isd, "focal2pixel_lines", source, (3,)),
        "itrans_sample": get_array(isd, "focal2pixel_samples", source, (3,)),
        "detector_line_origin": get_float(isd, "detector_center.line", source),
        "detector_sample_origin": get_float(isd, "detector_center.sample", source),
        "starting_detector_line": get_float(isd, "starting_detector_line", source, 0.0),
        "starting_detector_sample": get_float(isd, "starting_detector_sample", source, 0.0),
        "line_summing": get_float(isd, "detector_line_summing", source, 1.0),
        "sample_summing": get_float(isd, "detector_sample_summing", source, 1.0),
        "distortion_name": distortion.name,
        "distortion_coefficients": list(distortion.coefficients),
        "center_time": get_float(isd, "center_ephemeris_time", source),
    }
    il, isamp = state["itrans_line"], state["itrans_sample"]
    if il[1] * isamp[2] - il[2] * isamp[1] == 0:
        raise CameraError("ISD focal2pixel_lines/focal2pixel_samples are singular", source)
    for key, name in (
        ("focal_length", "focal_length_model.focal_length"),
        ("line_summing", "detector_line_summing"),
        ("sample_summing", "detector_sample_summing"),
    ):
        if state[key] <= 0:
            raise CameraError(f"invalid ISD: {name} must be positive, got {state[key]:g}", source)
    return state


def focal_plane(state: dict[str, Any], det_line: np.ndarray, det_sample: np.ndarray):
    """Distorted focal-plane (x, y) mm of image line/sample offsets (USGSCSM's inverse affine)."""
    il, isamp = state["itrans_line"], state["itrans_sample"]
    d_line = det_line * state["line_summing"] + state["starting_detector_line"]
    d_sample = det_sample * state["sample_summing"] + state["starting_detector_sample"]
    t1 = d_line - state["detector_line_origin"] - il[0]
    t2 = d_sample - state["detector_sample_origin"] - isamp[0]
    det = il[1] * isamp[2] - il[2] * isamp[1]
    x = (isamp[2] * t1 - il[2] * t2) / det
    y = (-isamp[1] * t1 + il[1] * t2) / det
    return x, y


def resample_ephemeris(
    isd: dict[str, Any], source: str | None, body: Orientations
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Equally spaced times and body-fixed sensor/sun positions (m) and velocities, as USGSCSM does."""
    inst = States.from_isd(isd, "instrument_position", source)
    n = max(len(inst.times), MIN_EPHEMERIS_NODES)
    start, stop = inst.times[0], inst.times[-1]
    step = (stop - start) / (n - 1)
    times = start + step * np.arange(n)
    pos, vel = body.rotate_state(times, *inst.at(times))
    sun = States.from_isd(isd, "sun_position", source)
    sun_pos, _ = body.rotate_state(times, *sun.at(times))
    return times, pos * 1000.0, vel * 1000.0, sun_pos * 1000.0, np.array(step)


def sensor_to_body_quaternions(
    body: Orientations, pointing: Orientations
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sensor-to-body quaternions on equal steps over the merged node times: (times, quats, step)."""
    s2b = body.compose(pointing.inverse())
    times = s2b.times
    n = len(times)
    step = (times[-1] - times[0]) / (n - 1) if n > 1 else 0.0
    grid = times[0] + step * np.arange(n)
    quats = rot.make_continuous(rot.normalize(s2b.at(grid)))
    return grid, quats, step


def look_sign(model: CameraModel) -> float:
    """+1 if the camera's +z (focal-plane) ray at the image centre points toward the body, else -1."""
    pos, look = model._rays(np.array([model.image_lines / 2.0]), np.array([model.image_samples / 2.0]))
    return 1.0 if float(np.dot(look[0], -pos[0])) >= 0.0 else -1.0


class LineScanModel(CameraModel):
    """A push-broom camera: one detector line exposed at a time (CTX, HiRISE, ...)."""

    model_name = MODEL_NAME

    @classmethod
    def from_isd(cls, isd: dict[str, Any], source: str | None = None) -> LineScanModel:
        """Build from a parsed ALE ISD; ``source`` names the file in errors."""
        state = common_sensor_state(isd, source)
        rate = get_array(isd, "line_scan_rate", source, (None, 3))
        if len(rate) == 0:
            raise CameraError("ISD key 'line_scan_rate' is empty", source)
        state["int_time_lines"] = rate[:, 0]
        state["int_time_start_times"] = rate[:, 1]
        state["int_times"] = rate[:, 2]
        state["starting_time"] = get_float(isd, "starting_ephemeris_time", source, state["center_time"])
        body = Orientations.from_isd(isd, "body_rotation", source)
        pointing = Orientations.from_isd(isd, "instrument_pointing", source)
        times, pos, vel, sun, step = resample_ephemeris(isd, source, body)
        if not step > 0:
            raise CameraError("ISD 'instrument_position' must span a time interval (>= 2 times)", source)
        qtimes, quats, qstep = sensor_to_body_quaternions(body, pointing)
        if not qstep > 0:
            raise CameraError("ISD pointing/body rotation must span a time interval (>= 2 times)", source)
        center = state["center_time"]
        state.update(
            t0_ephem=float(times[0] - center),
            dt_ephem=float(step),
            positions=pos,
            velocities=vel,
            sun_positions=sun,
            t0_quat=float(qtimes[0] - center),
            dt_quat=float(qstep),
            quaternions=quats,
        )
        return cls(state)

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(arrays_from_lists(state))
        s = self._state
        self._distortion = Distortion(s["distortion_name"], tuple(s["distortion_coefficients"]))
        self._position = UniformLagrange(s["positions"], s["t0_ephem"], s["dt_ephem"], 8)
        self._sun = UniformLagrange(s["sun_positions"], s["t0_ephem"], s["dt_ephem"], 8)
        self._quaternion = UniformLagrange(s["quaternions"], s["t0_quat"], s["dt_quat"], 8)
        if "look_sign" not in s:
            s["look_sign"] = look_sign(self)
        self._proj = self._projective_approximation()

    # ---------------------------------------------------------------- time and ephemeris
    def image_time(self, lines: Any) -> np.ndarray:
        """Exposure time of image lines, seconds relative to :attr:`center_time`."""
        s = self._state
        lines = np.asarray(lines, dtype=float)
        starts = s["int_time_lines"]
        if len(starts) == 1:  # one line rate: the same formula with scalars
            t = lines - starts[0]
            t += 0.5
            t *= s["int_times"][0]
            t += s["int_time_start_times"][0]
            return t
        i = np.clip(np.searchsorted(starts, lines, side="right") - 1, 0, None)
        return s["int_time_start_times"][i] + s["int_times"][i] * (lines - starts[i] + 0.5)

    def sun_position(self, lines: Any) -> np.ndarray:
        """Body-fixed sun positions ``(N, 3)`` (m) at the exposure times of ``lines``."""
        return self._sun(self.image_time(np.ravel(np.asarray(lines, dtype=float))))

    # ---------------------------------------------------------------- image -> ground
    def _ray_components(self, lines: np.ndarray, samples: np.ndarray):
        s = self._state
        t = self.image_time(lines)
        pos = self._position.components(t)
        quat = self._quaternion.components(t)
        dx, dy = focal_plane(s, 0.0, samples)
        ux, uy = self._distortion.remove(dx, dy)
        # USGSCSM's camera look is (-x, -y, -f) and its intersection takes the root nearest the sensor
        # on the whole line, so either sign of the boresight works there; tiepoint orients the ray
        # toward the body once per model (``look_sign``) and intersects in front of the sensor only.
        sign = s.get("look_sign", 1.0)
        cx, cy, cz = sign * ux, sign * uy, sign * s["focal_length"]
        norm = cx * cx
        norm += cy * cy
        norm += cz * cz
        norm = np.sqrt(norm, out=norm)
        cx /= norm
        cy /= norm
        return pos, rot.rotate(quat, (cx, cy, cz / norm))

    # ---------------------------------------------------------------- ground -> image
    def _detector_view(
        self, lines: np.ndarray, ground: tuple[np.ndarray, ...], precision: float = DISTORTION_PRECISION
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distorted focal-plane (x, y) of ground points ``(x, y, z)`` seen from the sensor at ``lines``."""
        s = self._state
        t = self.image_time(lines)
        pos = self._position.components(t)
        for k in range(3):
            np.subtract(ground[k], pos[k], out=pos[k])
        cx, cy, cz = rot.rotate(self._quaternion.components(t), pos, transpose=True)  # R^T @ look
        scale = np.divide(s["focal_length"], cz, out=cz)
        cx *= scale
        cy *= scale
        return self._distortion.apply(cx, cy, precision)

    def _line_offset(self, lines: np.ndarray, ground: tuple[np.ndarray, ...]):
        """Image-line offset of ground points from the detector line exposed at ``lines``, and the
        distorted focal-plane (x, y) it comes from."""
        s = self._state
        fx, fy = self._detector_view(lines, ground)
        il = s["itrans_line"]
        det_line = il[1] * fx
        det_line += il[0]
        det_line += il[2] * fy
        det_line += s["detector_line_origin"]
        det_line -= s["starting_detector_line"]
        det_line /= s["line_summing"]
        return det_line, fx, fy

    def ground_to_image(self, xyz: Any, precision: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
        """Image ``(lines, samples)`` of body-fixed ground points ``(N, 3)`` (m).

        Solves, for all points at once, for the line whose exposure puts the point on the detector
        line (secant method from a projective first guess, as USGSCSM), then maps the focal-plane
        position to the sample. ``precision`` is the line tolerance of the search.
        """
        pts = as_xyz(xyz)
        lines = np.empty(len(pts))
        samples = np.empty(len(pts))
        for sl in chunks(len(pts)):
            lines[sl], samples[sl] = self._ground_to_image(pts[sl], precision)
        return lines, samples

    def _ground_to_image(self, pts: np.ndarray, precision: float) -> tuple[np.ndarray, np.ndarray]:
        s = self._state
        ground = tuple(np.ascontiguousarray(pts[:, k]) for k in range(3))
        approx = self._approx_lines(ground)
        t0 = np.zeros(len(pts))
        e0 = self._line_offset(approx, ground)[0]
        t1 = np.full(len(pts), 0.1)
        e1, fx, fy = self._line_offset(approx + t1, ground)
        active = np.isfinite(e1) & (np.abs(e1) > precision) & (e1 != e0)
        for _ in range(14):
            if not active.any():
                break
            idx = slice(None) if active.all() else np.nonzero(active)[0]  # a slice copies nothing
            a0, a1, b0, b1 = t0[idx], t1[idx], e0[idx], e1[idx]
            t2 = a1 - b1 * (a1 - a0) / (b1 - b0)
            e2, fx2, fy2 = self._line_offset(approx[idx] + t2, tuple(g[idx] for g in ground))
            still = np.isfinite(e2) & (np.abs(e2) > precision) & (e2 != b1)
            t0[idx], e0[idx] = a1, b1
            t1[idx], e1[idx] = t2, e2
            fx[idx], fy[idx] = fx2, fy2
            active[idx] = still
        # the last evaluation of each point is its answer: line + its offset, sample from its (fx, fy)
        isamp = s["itrans_sample"]
        det_sample = isamp[1] * fx
        det_sample += isamp[0]
        det_sample += isamp[2] * fy
        det_sample += s["detector_sample_origin"] - s["starting_detector_sample"]
        det_sample /= s["sample_summing"]
        lines = approx + t1
        lines += e1
        return lines, det_sample

    # ---------------------------------------------------------------- first guess
    def _projective_approximation(self) -> np.ndarray | None:
        """Fit line = P(x)/Q(x) (rational, 7 coefficients each) to a 3x3 grid at two heights."""
        nl, ns = self.image_lines, self.image_samples
        u = np.repeat([0.0, 0.5, 1.0], 3) * nl
        v = np.tile([0.0, 0.5, 1.0], 3) * ns
        lines = np.concatenate([u, u])
        samples = np.concatenate([v, v])
        heights = np.concatenate([np.zeros(9), np.full(9, 100.0)])
        ground = self.image_to_ground(lines, samples, heights)
        ok = np.all(np.isfinite(ground), axis=1)
        if ok.sum() < 8:
            return None
        g, lines, samples = ground[ok], lines[ok], samples[ok]
        center = g.mean(axis=0)
        scale = max(float(np.abs(g - center).max()), 1.0)
        gn = (g - center) / scale
        coeffs = []
        for target in (lines, samples):
            a = np.column_stack([np.ones(len(gn)), gn, -target[:, None] * gn])
            c, *_ = np.linalg.lstsq(a, target, rcond=None)
            coeffs.append(c)
        return np.concatenate([center, [scale], coeffs[0], coeffs[1]])

    def _approx_lines(self, ground: tuple[np.ndarray, ...]) -> np.ndarray:
        """First-guess lines of ground points ``(x, y, z)`` from the rational fit (image centre if none)."""
        nl = float(self.image_lines)
        if self._proj is None:
            return np.full(len(ground[0]), nl / 2.0)
        center, scale, cl = self._proj[:3], self._proj[3], self._proj[4:11]
        num = np.full(len(ground[0]), cl[0])
        den = np.ones(len(ground[0]))
        for k in range(3):
            gn = ground[k] - center[k]
            gn /= scale
            num += gn * cl[1 + k]
            den += gn * cl[4 + k]
        with np.errstate(divide="ignore", invalid="ignore"):
            line = np.divide(num, den, out=num)
        line[~np.isfinite(line)] = nl / 2.0
        return np.clip(line, 0.0, nl, out=line)
