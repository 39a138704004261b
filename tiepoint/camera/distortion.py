"""Lens distortion models in the focal plane (mm), vectorized; conventions follow USGSCSM.

``remove`` maps distorted (measured) focal-plane coordinates to undistorted ones (image -> ground);
``apply`` is its inverse (ground -> image). Supported: ``radial`` and ``transverse`` (and ``radtan``);
any other model named in an ISD raises :class:`~tiepoint.errors.CameraError` ``not supported: <name>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tiepoint.errors import CameraError

SUPPORTED = ("radial", "transverse", "radtan")


@dataclass(frozen=True)
class Distortion:
    """A distortion model: its ISD name and flat coefficient list (USGSCSM's layout)."""

    name: str
    coefficients: tuple[float, ...] = field(default_factory=tuple)

    @classmethod
    def from_isd(cls, isd: dict[str, Any], source: str | None = None) -> Distortion:
        """Read ``optical_distortion`` (first key names the model) from an ISD."""
        od = isd.get("optical_distortion")
        if not isinstance(od, dict) or not od:
            raise CameraError("ISD is missing key 'optical_distortion'", source)
        name = next(iter(od))
        body = od[name]
        if not isinstance(body, dict):
            raise CameraError(f"ISD key 'optical_distortion.{name}' is not an object: {body!r}", source)
        try:
            if name == "radial":
                coeffs = [float(c) for c in body.get("coefficients", [0.0, 0.0, 0.0])]
                coeffs = [*coeffs, 0.0, 0.0, 0.0][:3]
            elif name == "transverse":
                x = [float(c) for c in body["x"]]
                y = [float(c) for c in body["y"]]
                coeffs = (x + [0.0] * 10)[:10] + (y + [0.0] * 10)[:10]
            elif name == "radtan":
                coeffs = [float(c) for c in body["coefficients"]]
                if len(coeffs) != 5:
                    raise CameraError(f"radtan distortion needs 5 coefficients, got {len(coeffs)}", source)
            else:
                raise CameraError(f"not supported: {name} (optical_distortion)", source)
        except KeyError as err:
            raise CameraError(
                f"ISD is missing key 'optical_distortion.{name}.{err.args[0]}'", source
            ) from None
        except (TypeError, ValueError, OverflowError) as err:
            raise CameraError(f"malformed optical_distortion.{name}: {err}", source) from None
        if not all(math.isfinite(c) for c in coeffs):
            raise CameraError(f"invalid ISD: optical_distortion.{name} has non-finite coefficients", source)
        return cls(name, tuple(coeffs))

    # ------------------------------------------------------------------ remove (distorted -> undistorted)
    def remove(
        self, dx: np.ndarray, dy: np.ndarray, tolerance: float = 1e-6
    ) -> tuple[np.ndarray, np.ndarray]:
        """Undistorted focal-plane coordinates of distorted ones."""
        c = np.asarray(self.coefficients, dtype=float)
        if self.name == "radial":
            rr = dx * dx + dy * dy
            dr = c[0] + rr * (c[1] + rr * c[2])
            return dx * (1.0 - dr), dy * (1.0 - dr)
        if self.name == "transverse":
            return _newton(dx, dy, c, _transverse, _transverse_jacobian, tolerance)
        return _newton(dx, dy, c, _radtan, _radtan_jac, tolerance)

    # ------------------------------------------------------------------ apply (undistorted -> distorted)
    def apply(self, ux: np.ndarray, uy: np.ndarray, precision: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        """Distorted focal-plane coordinates of undistorted ones."""
        c = np.asarray(self.coefficients, dtype=float)
        if self.name == "radial":
            return _apply_radial(ux, uy, c, precision)
        if self.name == "transverse":
            return _transverse(ux, uy, c)
        return _radtan(ux, uy, c)


def _apply_radial(ux: np.ndarray, uy: np.ndarray, c: np.ndarray, precision: float):
    """Fixed-point iteration of USGSCSM's radial model; gives up (no distortion) after 20 steps.

    Each point iterates until its own radius moves by at most ``precision`` (as USGSCSM's loop does),
    so its answer does not depend on the other points; only the points still moving are computed.
    """
    ux = np.asarray(ux, dtype=float)
    uy = np.asarray(uy, dtype=float)
    shape = np.broadcast_shapes(ux.shape, uy.shape)
    ux, uy = np.broadcast_to(ux, shape).ravel(), np.broadcast_to(uy, shape).ravel()
    rp2 = ux * ux
    rp2 += uy * uy
    rp = np.sqrt(rp2)
    dr_over_r = rp2 * c[2]
    dr_over_r += c[1]
    dr_over_r *= rp2
    dr_over_r += c[0]
    r = dr_over_r * rp
    r += rp
    idx = None  # the points still iterating (None: all of them)
    for _ in range(20):
        big = r > 1e9  # diverging: no distortion
        if big.any():
            dr_over_r[big if idx is None else idx[big]] = 0.0
            keep = ~big
            idx = np.nonzero(keep)[0] if idx is None else idx[keep]
            r, rp = r[keep], rp[keep]
        if not len(r):
            break
        r2 = r * r
        new_dr = r2 * c[2]
        new_dr += c[1]
        new_dr *= r2
        new_dr += c[0]
        r_next = new_dr * r
        r_next += rp
        r -= r_next
        moving = np.abs(r, out=r) > precision
        if idx is None:
            dr_over_r = new_dr
        else:
            dr_over_r[idx] = new_dr
        if not moving.any():
            break
        idx = np.nonzero(moving)[0] if idx is None else idx[moving]
        r, rp = r_next[moving], rp[moving]
    else:
        dr_over_r[slice(None) if idx is None else idx] = 0.0  # did not converge within 20 iterations
    scale = np.subtract(1.0, dr_over_r, out=dr_over_r)
    return (ux / scale).reshape(shape), (uy / scale).reshape(shape)


def _transverse(ux, uy, c):
    f = [np.ones_like(ux), ux, uy, ux * ux, ux * uy, uy * uy, ux**3, ux * ux * uy, ux * uy * uy, uy**3]
    dx = sum(fi * ci for fi, ci in zip(f, c[:10], strict=True))
    dy = sum(fi * ci for fi, ci in zip(f, c[10:20], strict=True))
    return dx, dy


def _transverse_jacobian(x, y, c):
    zero, one = np.zeros_like(x), np.ones_like(x)
    d_dx = [zero, one, zero, 2 * x, y, zero, 3 * x * x, 2 * x * y, y * y, zero]
    d_dy = [zero, zero, one, zero, x, 2 * y, zero, x * x, 2 * x * y, 3 * y * y]
    cx, cy = c[:10], c[10:20]
    jxx = sum(a * b for a, b in zip(d_dx, cx, strict=True))
    jxy = sum(a * b for a, b in zip(d_dy, cx, strict=True))
    jyx = sum(a * b for a, b in zip(d_dx, cy, strict=True))
    jyy = sum(a * b for a, b in zip(d_dy, cy, strict=True))
    return jxx, jxy, jyx, jyy


def _radtan(x, y, c):
    k1, k2, p1, p2, k3 = c
    r2 = x * x + y * y
    radial = 1.0 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
    return (x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x),
            y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y)  # fmt: skip


def _radtan_jac(x, y, c):
    k1, k2, p1, p2, k3 = c
    r2 = x * x + y * y
    radial = 1.0 + k1 * r2 + k2 * r2 * r2 + k3 * r2 * r2 * r2
    dr = k1 + 2.0 * k2 * r2 + 3.0 * k3 * r2 * r2  # d(radial)/d(r2)
    jxx = radial + x * dr * 2 * x + 2.0 * p1 * y + p2 * 6.0 * x
    jxy = x * dr * 2 * y + 2.0 * p1 * x + p2 * 2 * y
    jyx = y * dr * 2 * x + p1 * 2 * x + 2.0 * p2 * y
    jyy = radial + y * dr * 2 * y + p1 * 6.0 * y + 2.0 * p2 * x
    return jxx, jxy, jyx, jyy


def _newton(dx, dy, c, fwd, jac, tolerance):
    """USGSCSM's Newton-Raphson inversion of a forward distortion, vectorized (20 tries)."""
    dx = np.asarray(dx, dtype=float)
    dy = np.asarray(dy, dtype=float)
    ux, uy = dx.copy(), dy.copy()
    fx, fy = fwd(ux, uy, c)
    active = (np.abs(fx) + np.abs(fy)) > tolerance
    for _ in range(1, 20):
        if not active.any():
            break
        fx, fy = fwd(ux, uy, c)
        fx, fy = dx - fx, dy - fy
        jxx, jxy, jyx, jyy = jac(ux, uy, c)
        det = jxx * jyy - jxy * jyx
        active &= np.abs(det) >= 1e-6
        safe = np.where(active, det, 1.0)
        ux = np.where(active, ux + (jyy * fx - jxy * fy) / safe, ux)
        uy = np.where(active, uy + (jxx * fy - jyx * fx) / safe, uy)
        active &= (np.abs(fx) + np.abs(fy)) > tolerance
    return ux, uy
