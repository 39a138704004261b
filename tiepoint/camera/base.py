"""The camera-model interface shared by the framing and line-scan models.

A model is built from a plain *state* (numbers and arrays computed once from an ISD) so that it can
round-trip through JSON (:meth:`CameraModel.to_state` / :func:`tiepoint.camera.from_state`) and give
identical results. Image coordinates follow USGSCSM: ``(line, sample)``, the upper-left pixel's centre at
``(0.5, 0.5)``; ground coordinates are body-fixed metres.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from tiepoint.errors import CameraError

STATE_VERSION = 1


def as_points(lines: Any, samples: Any) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast line/sample inputs to flat float arrays of equal length."""
    try:
        ln, sp = np.broadcast_arrays(np.asarray(lines, dtype=float), np.asarray(samples, dtype=float))
    except ValueError:
        raise CameraError("lines and samples must have the same shape") from None
    return ln.ravel(), sp.ravel()


def as_xyz(xyz: Any) -> np.ndarray:
    """``(N, 3)`` float array of body-fixed points."""
    arr = np.asarray(xyz, dtype=float)
    if arr.shape[-1:] != (3,):
        raise CameraError(f"ground points must have shape (N, 3), got {arr.shape}")
    return arr.reshape(-1, 3)


CHUNK = 8192
"""Points the vectorized kernels process at once: their temporaries then stay in the CPU cache."""


def chunks(n: int, size: int = CHUNK) -> list[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def intersect_components(
    origin: tuple[np.ndarray, ...],
    look: tuple[np.ndarray, ...],
    ap: Any,
    bp: Any,
    nearest_on_miss: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`intersect_ellipsoid` on flat components: ``origin = (x, y, z)``, ``look = (x, y, z)``,
    radii ``ap``, ``bp`` (scalars or one per point, height included). Returns ``(x, y, z)``."""
    xc, yc, zc = origin
    xl, yl, zl = look
    k = (ap * ap) / (bp * bp)
    kzl = k * zl
    at = xl * xl
    at += yl * yl
    at += kzl * zl
    bt = xl * xc
    bt += yl * yc
    bt += kzl * zc
    bt *= 2.0
    ct = xc * xc
    ct += yc * yc
    ct += (k * zc) * zc
    ct -= ap * ap
    quad = bt * bt
    ct *= at
    ct *= 4.0
    quad -= ct
    miss = quad < 0.0
    quad[miss] = 0.0
    root = np.sqrt(quad, out=quad)
    # the root of smaller magnitude (nearest the origin): -bt + root if bt > 0, else -bt - root
    np.negative(root, out=root, where=bt > 0.0)
    scale = np.negative(bt, out=bt)
    scale -= root
    at *= 2.0
    scale /= at
    bad = ~np.isfinite(scale)
    bad |= scale < 0.0
    if not nearest_on_miss:
        bad |= miss
    scale[bad] = np.nan  # NaN rows, as the ray misses or points away
    x = xl * scale
    x += xc
    y = yl * scale
    y += yc
    z = zl * scale
    z += zc
    return x, y, z


def intersect_ellipsoid(
    origin: np.ndarray,
    look: np.ndarray,
    semimajor: float,
    semiminor: float,
    height: Any = 0.0,
    nearest_on_miss: bool = False,
) -> np.ndarray:
    """Ray/ellipsoid intersection as USGSCSM does it: the ellipsoid with radii ``a+h``, ``b+h``.

    Returns the nearest intersection in front of the origin; rays that miss (or point away) give NaN,
    or, with ``nearest_on_miss``, USGSCSM's point of closest approach (for conformance checks).
    """
    h = np.asarray(height, dtype=float)
    if h.ndim:
        h = np.broadcast_to(h, (len(origin),))
    out = np.empty((len(origin), 3))
    for sl in chunks(len(origin)):
        hh = h[sl] if h.ndim else h
        xyz = intersect_components(
            (origin[sl, 0], origin[sl, 1], origin[sl, 2]),
            (look[sl, 0], look[sl, 1], look[sl, 2]),
            semimajor + hh,
            semiminor + hh,
            nearest_on_miss,
        )
        for k in range(3):
            out[sl, k] = xyz[k]
    return out


def arrays_from_lists(state: dict[str, Any]) -> dict[str, Any]:
    """A state with its numeric lists (as decoded from JSON) turned back into float arrays."""
    keep = {"distortion_coefficients"}
    return {
        k: np.asarray(v, dtype=float) if isinstance(v, list) and k not in keep else v
        for k, v in state.items()
    }


def encode(value: Any) -> Any:
    """JSON-ready copy of a state value (arrays to nested lists; floats keep full precision)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


class CameraModel(ABC):
    """Image <-> ground mapping of one image on an ellipsoidal body.

    Attributes
    ----------
    model_name : str
        The CSM model name, e.g. ``USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL``.
    image_lines, image_samples : int
        Image size in pixels.
    semimajor, semiminor : float
        Ellipsoid radii in metres.
    center_time : float
        Ephemeris time (s past J2000) of the image centre.
    source : str or None
        The ISD file (or image) the model was built from, for error messages; not part of the state.
    """

    model_name: ClassVar[str]
    source: str | None = None

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        self.image_lines = int(state["image_lines"])
        self.image_samples = int(state["image_samples"])
        self.semimajor = float(state["semimajor"])
        self.semiminor = float(state["semiminor"])
        self.center_time = float(state["center_time"])

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.image_lines}x{self.image_samples} "
            f"sensor={self._state.get('sensor_name', '')!r}>"
        )

    # ---------------------------------------------------------------- public API
    def image_to_ground(self, lines: Any, samples: Any, height: Any = 0.0) -> np.ndarray:
        """Body-fixed ground points ``(N, 3)`` (m) seen at image ``(line, sample)``.

        Parameters
        ----------
        lines, samples : array_like
            Image coordinates (USGSCSM convention: first pixel centre at 0.5, 0.5).
        height : float or array_like
            Height above the ellipsoid (m), scalar or one per point.

        Returns
        -------
        ndarray
            ``(N, 3)``; rows are NaN where the ray misses the ellipsoid.
        """
        ln, sp = as_points(lines, samples)
        h = np.asarray(height, dtype=float)
        if h.ndim:
            h = np.broadcast_to(h, np.broadcast_shapes(np.shape(lines), np.shape(samples))).ravel()
        out = np.empty((len(ln), 3))
        for sl in chunks(len(ln)):
            hh = h[sl] if h.ndim else h
            origin, look = self._ray_components(ln[sl], sp[sl])
            xyz = intersect_components(origin, look, self.semimajor + hh, self.semiminor + hh)
            for k in range(3):
                out[sl, k] = xyz[k]
        return out

    def sensor_position(self, lines: Any, samples: Any) -> np.ndarray:
        """Body-fixed sensor positions ``(N, 3)`` (m) when ``(line, sample)`` was exposed."""
        ln, sp = as_points(lines, samples)
        return self._rays(ln, sp)[0]

    def look_direction(self, lines: Any, samples: Any) -> np.ndarray:
        """Unit body-fixed look vectors ``(N, 3)`` of image points."""
        ln, sp = as_points(lines, samples)
        look = self._rays(ln, sp)[1]
        return look / np.linalg.norm(look, axis=1, keepdims=True)

    @abstractmethod
    def ground_to_image(self, xyz: Any, precision: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
        """Image ``(lines, samples)`` of body-fixed ground points ``(N, 3)`` (m).

        ``precision`` is the line tolerance (pixels) of an iterative solution, where there is one.
        """

    @abstractmethod
    def sun_position(self, lines: Any) -> np.ndarray:
        """Body-fixed sun positions ``(N, 3)`` (m) at the times of image ``lines``."""

    @abstractmethod
    def _ray_components(
        self, lines: np.ndarray, samples: np.ndarray
    ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Sensor positions ``(x, y, z)`` and (not necessarily unit) body-fixed look vectors ``(x, y, z)``
        of flat line/sample arrays, each component a flat array (or a scalar for a fixed position)."""

    def _rays(self, lines: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor positions and (not necessarily unit) body-fixed look vectors, ``(N, 3)`` each."""
        pos = np.empty((len(lines), 3))
        look = np.empty((len(lines), 3))
        for sl in chunks(len(lines)):
            origin, direction = self._ray_components(lines[sl], samples[sl])
            for k in range(3):
                pos[sl, k] = origin[k]
                look[sl, k] = direction[k]
        return pos, look

    # ---------------------------------------------------------------- serialization
    def to_state(self) -> str:
        """JSON text from which :func:`tiepoint.camera.from_state` rebuilds an identical model."""
        return json.dumps(
            {
                "tiepoint_camera_state": STATE_VERSION,
                "model_name": self.model_name,
                "state": encode(self._state),
            }
        )

    def __reduce__(self):  # pickle through the state (Dask ships models between processes)
        return (type(self), (self._state,))
