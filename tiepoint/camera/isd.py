"""Reading ALE-format Image Support Data (ISD) JSON: keys, units, states and orientations.

Every missing or malformed key raises :class:`~tiepoint.errors.CameraError` naming the key (and the
file, when there is one). Time-dependent rotations follow ALE's semantics (``Orientations``): a rotation
at time ``t`` is ``constant * slerp(q_i, q_i+1)`` and states are rotated with their angular velocity.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.camera import rotation as rot
from tiepoint.camera.interpolation import hermite_resample, interpolation_index, lagrange_window
from tiepoint.errors import CameraError

_MISSING = object()
_LENGTH_UNITS = {"km": 1000.0, "kilometers": 1000.0, "m": 1.0, "meters": 1.0, "metres": 1.0}


def load_isd(path_or_dict: str | os.PathLike[str] | dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Return ``(isd, source)``: the parsed ISD and the file it came from (None for a dict).

    Raises
    ------
    CameraError
        Naming the file: it is missing, not a regular file, unreadable, not UTF-8 JSON text, nested
        too deeply to parse, or not a JSON object.
    """
    if isinstance(path_or_dict, dict):
        return path_or_dict, None
    path = Path(path_or_dict)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CameraError("ISD file not found", path) from None
    except IsADirectoryError:
        raise CameraError("the ISD path is a directory, not an ISD file", path) from None
    except OSError as err:
        raise CameraError(f"cannot read ISD: {err.strerror or err}", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CameraError(
            f"ISD is not JSON text: byte 0x{data[err.start]:02x} at offset {err.start} is not UTF-8 "
            "(a binary file?)",
            path,
        ) from None
    try:
        isd = json.loads(text)
    except json.JSONDecodeError as err:
        raise CameraError(f"ISD is not valid JSON: {err}", path) from None
    except RecursionError:
        raise CameraError("ISD JSON nests arrays/objects too deeply to be an ISD", path) from None
    if not isinstance(isd, dict):
        raise CameraError(f"ISD is not a JSON object (the file holds a JSON {_json_type(isd)})", path)
    return isd, str(path)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names = {dict: "object", list: "array", str: "string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def get(isd: dict[str, Any], key: str, source: str | None, default: Any = _MISSING) -> Any:
    """Value at dotted ``key``; CameraError naming the key when it is missing (and no default)."""
    node: Any = isd
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict):
            parent = ".".join(parts[:depth])
            raise CameraError(f"ISD key '{parent}' is a JSON {_json_type(node)}, not an object", source)
        if part not in node:
            if default is _MISSING:
                raise CameraError(f"ISD is missing key '{key}'", source)
            return default
        node = node[part]
    return node


def get_str(isd: dict[str, Any], key: str, source: str | None, default: Any = _MISSING) -> str:
    """A string at ``key``."""
    value = get(isd, key, source, default)
    if not isinstance(value, str):
        raise CameraError(f"ISD key '{key}' is a JSON {_json_type(value)}, not a string: {value!r}", source)
    return value


def get_float(isd: dict[str, Any], key: str, source: str | None, default: Any = _MISSING) -> float:
    """A finite number at ``key`` (NaN, infinities and booleans are refused, naming the key)."""
    value = get(isd, key, source, default)
    try:
        if isinstance(value, bool | str):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise CameraError(f"ISD key '{key}' is not a number: {value!r}", source) from None
    if not math.isfinite(number):
        raise CameraError(f"invalid ISD: {key} is {_non_finite(number)}", source)
    return number


def get_count(isd: dict[str, Any], key: str, source: str | None) -> int:
    """A positive whole number at ``key`` (an image size): finite, integral, >= 1."""
    number = get_float(isd, key, source)
    if number < 1 or number != int(number):
        raise CameraError(f"invalid ISD: {key} must be a positive whole number, got {number:g}", source)
    return int(number)


def get_array(
    isd: dict[str, Any], key: str, source: str | None, shape: tuple[int | None, ...], default: Any = _MISSING
) -> np.ndarray:
    """A finite float array at ``key`` with the given shape (None = any length)."""
    value = get(isd, key, source, default)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise CameraError(f"ISD key '{key}' is not a numeric array", source) from None
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise CameraError(f"ISD key '{key}' has shape {arr.shape}, expected {want}", source)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise CameraError(f"invalid ISD: {key} has non-finite values ({_non_finite(bad)})", source)
    return arr


def radii_m(isd: dict[str, Any], source: str | None) -> tuple[float, float]:
    """Semimajor and semiminor radii in metres (``radii.unit``, km by default as in ALE)."""
    a = get_float(isd, "radii.semimajor", source)
    b = get_float(isd, "radii.semiminor", source, a)
    unit = str(get(isd, "radii.unit", source, "km")).lower()
    if unit not in _LENGTH_UNITS:
        raise CameraError(f"ISD key 'radii.unit' has unknown unit {unit!r}", source)
    scale = _LENGTH_UNITS[unit]
    if a <= 0 or b <= 0:
        raise CameraError(f"invalid ISD: radii must be positive, got {a:g} and {b:g}", source)
    return a * scale, b * scale


@dataclass
class States:
    """Positions (and velocities) in km at ephemeris times, as in an ISD's ``*_position`` group."""

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray | None

    @classmethod
    def from_isd(cls, isd: dict[str, Any], key: str, source: str | None) -> States:
        """Read ``key`` (``instrument_position`` or ``sun_position``)."""
        pos = get_array(isd, f"{key}.positions", source, (None, 3))
        times = get_array(isd, f"{key}.ephemeris_times", source, (None,))
        if len(pos) == 0 or len(pos) != len(times):
            raise CameraError(f"ISD '{key}' needs as many positions as ephemeris_times (>= 1)", source)
        vel = None
        if "velocities" in get(isd, key, source):
            vel = get_array(isd, f"{key}.velocities", source, (len(times), 3))
        if len(times) > 1 and np.any(np.diff(times) <= 0):
            raise CameraError(f"ISD '{key}.ephemeris_times' must increase", source)
        return cls(times, pos, vel)

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ALE ``States::getState(t, SPLINE)``: node values at node times, else Hermite or Lagrange."""
        t = np.asarray(t, dtype=float)
        vel = self.velocities if self.velocities is not None else np.zeros_like(self.positions)
        if len(self.times) == 1:
            return self.positions[0] + vel[0] * (t - self.times[0])[:, None], np.repeat(vel[:1], len(t), 0)
        if self.velocities is not None:
            pos, v = hermite_resample(self.times, self.positions, self.velocities, t)
        else:
            pos, v = lagrange_window(self.times, self.positions, t, order=4)
        exact = np.searchsorted(self.times, t)
        exact = np.clip(exact, 0, len(self.times) - 1)
        hit = self.times[exact] == t
        pos[hit], v[hit] = self.positions[exact[hit]], vel[exact[hit]]
        return pos, v


@dataclass
class Orientations:
    """A time-dependent rotation (ALE ``Orientations``); quaternions ``(w, x, y, z)``."""

    times: np.ndarray
    quats: np.ndarray
    avs: np.ndarray | None
    const: np.ndarray

    @classmethod
    def from_isd(cls, isd: dict[str, Any], key: str, source: str | None) -> Orientations:
        """Read ``key`` (``instrument_pointing`` or ``body_rotation``)."""
        quats = get_array(isd, f"{key}.quaternions", source, (None, 4))
        times = get_array(isd, f"{key}.ephemeris_times", source, (None,))
        if len(quats) == 0 or len(quats) != len(times):
            raise CameraError(f"ISD '{key}' needs as many quaternions as ephemeris_times (>= 1)", source)
        if len(times) > 1 and np.any(np.diff(times) <= 0):
            raise CameraError(f"ISD '{key}.ephemeris_times' must increase", source)
        norms = np.linalg.norm(quats, axis=1)
        if np.any(norms == 0):
            raise CameraError(f"ISD '{key}.quaternions' has a zero quaternion", source)
        group = get(isd, key, source)
        avs = None
        if "angular_velocities" in group:
            avs = get_array(isd, f"{key}.angular_velocities", source, (len(times), 3))
        const = np.array([1.0, 0.0, 0.0, 0.0])
        if "constant_rotation" in group:
            m = get_array(isd, f"{key}.constant_rotation", source, (9,))
            const = rot.from_matrix(m.reshape(3, 3))
        return cls(times, quats / norms[:, None], avs, const)

    def time_dependent(self, t: np.ndarray) -> np.ndarray:
        """The time-dependent part at times ``t`` (slerp between nodes, clamped extrapolation)."""
        t = np.asarray(t, dtype=float)
        if len(self.times) > 1:
            i = interpolation_index(self.times, t)
            s = (t - self.times[i]) / (self.times[i + 1] - self.times[i])
            return rot.slerp(self.quats[i], self.quats[i + 1], s)
        if self.avs is None:
            return np.repeat(self.quats[:1], len(t), axis=0)
        av = self.avs[0]
        step = rot.from_axis_angle(av, (t - self.times[0]) * np.linalg.norm(av))
        return rot.multiply(step, self.quats[0])

    def at(self, t: np.ndarray) -> np.ndarray:
        """The full rotation ``constant * time_dependent(t)``."""
        return rot.multiply(self.const, self.time_dependent(t))

    def av(self, t: np.ndarray) -> np.ndarray:
        """Angular velocity at ``t`` (linear between nodes), zeros when the ISD has none."""
        t = np.asarray(t, dtype=float)
        if self.avs is None:
            return np.zeros((len(t), 3))
        if len(self.times) == 1:
            return np.repeat(self.avs[:1], len(t), axis=0)
        i = interpolation_index(self.times, t)
        s = ((t - self.times[i]) / (self.times[i + 1] - self.times[i]))[:, None]
        return self.avs[i] + s * (self.avs[i + 1] - self.avs[i])

    def rotate_state(self, t: np.ndarray, pos: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rotate positions and velocities: ``R p`` and ``R (v + p x av)`` (ALE ``rotateStateAt``)."""
        r = rot.to_matrix(self.at(t))
        av = self.av(t)
        new_pos = np.einsum("nij,nj->ni", r, pos)
        new_vel = np.einsum("nij,nj->ni", r, vel + np.cross(pos, av))
        return new_pos, new_vel

    def inverse(self) -> Orientations:
        """ALE ``Orientations::inverse``: nodes ``q_i^-1 * C^-1`` and no constant part."""
        cinv = rot.inverse(self.const)
        quats = rot.multiply(rot.inverse(self.quats), cinv)
        avs = None
        if self.avs is not None:
            full = rot.to_matrix(rot.multiply(self.const, self.quats))
            avs = -np.einsum("nij,nj->ni", full, self.avs)
        return Orientations(self.times, quats, avs, np.array([1.0, 0.0, 0.0, 0.0]))

    def compose(self, rhs: Orientations) -> Orientations:
        """ALE ``self * rhs`` on the merged node times (the left constant is kept)."""
        times = np.union1d(self.times, rhs.times)
        quats = rot.multiply(self.time_dependent(times), rhs.at(times))
        return Orientations(times, rot.make_continuous(quats), None, self.const.copy())
