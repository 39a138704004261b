"""Models from USGSCSM *model states* (the ``m_*`` JSON that ISIS keeps in a cube's ``CSMState`` blob).

A USGSCSM state already holds body-fixed positions (m) on equal time steps and sensor-to-body
quaternions ``(x, y, z, w)``, so it maps directly onto tiepoint's state. Adjusted states (non-zero
``m_currentParameterValue`` corrections on a line-scan model) are not supported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiepoint.camera.base import CameraModel
from tiepoint.errors import CameraError

# USGSCSM's DistortionType enum order (include/usgscsm/Distortion.h).
DISTORTION_NAMES = ("radial", "transverse", "kaguyalism", "dawnfc", "lrolrocnac", "cahvor",
                    "lunarorbiter", "radtan", "kplo_shadowcam")  # fmt: skip


def _get(state: dict[str, Any], key: str, source: str | None) -> Any:
    if key not in state:
        raise CameraError(f"USGSCSM state is missing key '{key}'", source)
    return state[key]


def _arr(state: dict[str, Any], key: str, source: str | None, width: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(_get(state, key, source), dtype=float)
        return arr.reshape(-1, width) if width else arr
    except (TypeError, ValueError):
        raise CameraError(f"USGSCSM state key '{key}' is malformed", source) from None


def _distortion(state: dict[str, Any], source: str | None) -> tuple[str, list[float]]:
    kind = int(_get(state, "m_distortionType", source))
    name = DISTORTION_NAMES[kind] if 0 <= kind < len(DISTORTION_NAMES) else str(kind)
    if name not in ("radial", "transverse", "radtan"):
        raise CameraError(f"not supported: {name} (USGSCSM m_distortionType)", source)
    coeffs = [float(c) for c in _get(state, "m_opticalDistCoeffs", source)]
    if name == "radial":
        coeffs = [*coeffs, 0.0, 0.0, 0.0][:3]
    return name, coeffs


def _common(state: dict[str, Any], source: str | None) -> dict[str, Any]:
    name, coeffs = _distortion(state, source)
    return {
        "image_lines": int(_get(state, "m_nLines", source)),
        "image_samples": int(_get(state, "m_nSamples", source)),
        "semimajor": float(_get(state, "m_majorAxis", source)),
        "semiminor": float(_get(state, "m_minorAxis", source)),
        "sensor_name": str(state.get("m_sensorName", state.get("m_sensorIdentifier", ""))),
        "platform_name": str(state.get("m_platformName", state.get("m_platformIdentifier", ""))),
        "focal_length": float(_get(state, "m_focalLength", source)),
        "itrans_line": _arr(state, "m_iTransL", source),
        "itrans_sample": _arr(state, "m_iTransS", source),
        "starting_detector_line": float(_get(state, "m_startingDetectorLine", source)),
        "starting_detector_sample": float(_get(state, "m_startingDetectorSample", source)),
        "line_summing": float(_get(state, "m_detectorLineSumming", source)),
        "sample_summing": float(_get(state, "m_detectorSampleSumming", source)),
        "distortion_name": name,
        "distortion_coefficients": coeffs,
    }


def _xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    return q[:, [3, 0, 1, 2]]


def from_usgscsm_state(state: dict[str, Any], source: str | None = None) -> CameraModel:
    """A tiepoint model equivalent to a USGSCSM line-scan or frame model state.

    Raises
    ------
    CameraError
        Naming ``source`` and the key: a missing, malformed or non-finite value, or an unsupported model.
    """
    if not isinstance(state, dict):
        raise CameraError("USGSCSM state is not a JSON object", source)
    try:
        return _from_state(state, source)
    except CameraError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as err:
        raise CameraError(f"malformed USGSCSM state: {type(err).__name__}: {err}", source) from None


def _check_values(out: dict[str, Any], source: str | None) -> None:
    """Every number of the converted state is finite, and sizes, radii, focal length and summing > 0."""
    for key, value in out.items():
        if isinstance(value, float | np.ndarray) and not np.all(np.isfinite(value)):
            raise CameraError(f"invalid USGSCSM state: {key} has non-finite values", source)
    for key in ("image_lines", "image_samples", "semimajor", "semiminor", "focal_length", "line_summing",
                "sample_summing"):  # fmt: skip
        if not out[key] > 0:
            raise CameraError(f"invalid USGSCSM state: {key} must be positive, got {out[key]}", source)


def _from_state(state: dict[str, Any], source: str | None) -> CameraModel:
    from tiepoint.camera.frame import FrameModel
    from tiepoint.camera.linescan import LineScanModel
    from tiepoint.camera.rotation import make_continuous

    name = _get(state, "m_modelName", source)
    out = _common(state, source)
    adjustments = _arr(state, "m_currentParameterValue", source)
    if name == LineScanModel.model_name:
        if np.any(adjustments != 0):
            raise CameraError(
                "not supported: adjusted USGSCSM line-scan state (m_currentParameterValue)", source
            )
        out.update(
            detector_line_origin=float(_get(state, "m_detectorLineOrigin", source)),
            detector_sample_origin=float(_get(state, "m_detectorSampleOrigin", source)),
            center_time=float(_get(state, "m_centerEphemerisTime", source)),
            starting_time=float(state.get("m_startingEphemerisTime", state["m_centerEphemerisTime"])),
            int_time_lines=_arr(state, "m_intTimeLines", source),
            int_time_start_times=_arr(state, "m_intTimeStartTimes", source),
            int_times=_arr(state, "m_intTimes", source),
            t0_ephem=float(_get(state, "m_t0Ephem", source)),
            dt_ephem=float(_get(state, "m_dtEphem", source)),
            positions=_arr(state, "m_positions", source, 3),
            velocities=_arr(state, "m_velocities", source, 3),
            sun_positions=_arr(state, "m_sunPosition", source, 3),
            t0_quat=float(_get(state, "m_t0Quat", source)),
            dt_quat=float(_get(state, "m_dtQuat", source)),
            quaternions=make_continuous(_xyzw_to_wxyz(_arr(state, "m_quaternions", source, 4))),
        )
        if len(out["positions"]) < 2 or len(out["quaternions"]) < 2:
            raise CameraError("USGSCSM state needs >= 2 positions and quaternions", source)
        _check_values(out, source)
        return LineScanModel(out)
    if name == FrameModel.model_name:
        if len(adjustments) < 7:
            raise CameraError("USGSCSM frame state 'm_currentParameterValue' needs 7 values", source)
        center = _arr(state, "m_ccdCenter", source)
        sun = _arr(state, "m_sunPosition", source, 3)
        out.update(
            detector_line_origin=float(center[0]),
            detector_sample_origin=float(center[1]),
            center_time=float(_get(state, "m_ephemerisTime", source)),
            position=adjustments[:3].copy(),
            velocity=np.zeros(3),
            sun_position=sun[0] if len(sun) else np.zeros(3),
            quaternion=_xyzw_to_wxyz(adjustments[None, 3:7])[0],
        )
        _check_values(out, source)
        return FrameModel(out)
    raise CameraError(f"not supported: {name} (USGSCSM m_modelName)", source)
