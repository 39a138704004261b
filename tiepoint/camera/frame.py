"""USGSCSM's framing-camera model, ``USGS_ASTRO_FRAME_SENSOR_MODEL``, vectorized.

One exposure: the sensor position and sensor-to-body rotation at the image's time. As in USGSCSM an
ISD with a single position/quaternion uses it as-is (rotated into the body frame at its own time);
with several, they are interpolated at ``center_ephemeris_time`` (ALE Hermite / slerp).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiepoint.camera import rotation as rot
from tiepoint.camera.base import CameraModel, arrays_from_lists, as_xyz
from tiepoint.camera.distortion import Distortion
from tiepoint.camera.isd import Orientations, States
from tiepoint.camera.linescan import DISTORTION_PRECISION, common_sensor_state, focal_plane, look_sign
from tiepoint.errors import CameraError

MODEL_NAME = "USGS_ASTRO_FRAME_SENSOR_MODEL"


def _state_at(states: States, body: Orientations, center: float) -> tuple[np.ndarray, np.ndarray]:
    t = states.times[:1] if len(states.times) == 1 else np.array([center])
    pos, vel = (states.positions[:1], states.velocities[:1] if states.velocities is not None else None)
    if len(states.times) > 1:
        pos, vel = states.at(t)
    if vel is None:
        vel = np.zeros_like(pos)
    p, v = body.rotate_state(t, pos, vel)
    return p[0] * 1000.0, v[0] * 1000.0


class FrameModel(CameraModel):
    """A framing camera: the whole image exposed at once."""

    model_name = MODEL_NAME

    @classmethod
    def from_isd(cls, isd: dict[str, Any], source: str | None = None) -> FrameModel:
        """Build from a parsed ALE ISD; ``source`` names the file in errors."""
        if "jitter" in isd:
            raise CameraError("not supported: jitter (frame-camera jitter correction)", source)
        state = common_sensor_state(isd, source)
        center = state["center_time"]
        body = Orientations.from_isd(isd, "body_rotation", source)
        pointing = Orientations.from_isd(isd, "instrument_pointing", source)
        pos, vel = _state_at(States.from_isd(isd, "instrument_position", source), body, center)
        sun, _ = _state_at(States.from_isd(isd, "sun_position", source), body, center)
        s2b = body.compose(pointing.inverse())
        t = s2b.times[:1] if len(s2b.times) == 1 else np.array([center])
        quat = rot.normalize(s2b.at(t))[0]
        state.update(position=pos, velocity=vel, sun_position=sun, quaternion=quat)
        return cls(state)

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(arrays_from_lists(state))
        self._distortion = Distortion(
            self._state["distortion_name"], tuple(self._state["distortion_coefficients"])
        )
        self._matrix = rot.to_matrix(self._state["quaternion"])
        if "look_sign" not in self._state:
            self._state["look_sign"] = look_sign(self)

    def sun_position(self, lines: Any) -> np.ndarray:
        """Body-fixed sun position ``(N, 3)`` (m): the same for every line of a frame."""
        n = np.size(lines)
        return np.repeat(self._state["sun_position"][None, :], n, axis=0)

    def _ray_components(self, lines: np.ndarray, samples: np.ndarray):
        s = self._state
        dx, dy = focal_plane(s, lines, samples)
        ux, uy = self._distortion.remove(dx, dy)
        sign = s.get("look_sign", 1.0)
        cam = (sign * ux, sign * uy, sign * s["focal_length"])
        m = self._matrix
        look = tuple(m[k, 0] * cam[0] + m[k, 1] * cam[1] + m[k, 2] * cam[2] for k in range(3))
        return tuple(s["position"]), look

    def ground_to_image(self, xyz: Any, precision: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
        """Image ``(lines, samples)`` of body-fixed ground points ``(N, 3)`` (m), in closed form.

        ``precision`` is accepted for symmetry with the line-scan model (nothing is iterated here).
        """
        s = self._state
        d = as_xyz(xyz) - s["position"]
        cam = d @ self._matrix  # R^T @ d for each row
        with np.errstate(divide="ignore", invalid="ignore"):
            ux = s["focal_length"] * cam[:, 0] / cam[:, 2]
            uy = s["focal_length"] * cam[:, 1] / cam[:, 2]
        fx, fy = self._distortion.apply(ux, uy, DISTORTION_PRECISION)
        il, isamp = s["itrans_line"], s["itrans_sample"]
        det_line = il[0] + il[1] * fx + il[2] * fy + s["detector_line_origin"]
        det_sample = isamp[0] + isamp[1] * fx + isamp[2] * fy + s["detector_sample_origin"]
        lines = (det_line - s["starting_detector_line"]) / s["line_summing"]
        samples = (det_sample - s["starting_detector_sample"]) / s["sample_summing"]
        return lines, samples
