"""Quaternion helpers, vectorized over leading axes.

Quaternions are ``(..., 4)`` arrays in ``(w, x, y, z)`` order (Hamilton product, as Eigen and ALE use);
the matrix of ``q`` rotates column vectors, ``v' = R(q) @ v``.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(float).eps


def normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions."""
    q = np.asarray(q, dtype=float)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (rotate by ``b`` first, then ``a``)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def inverse(q: np.ndarray) -> np.ndarray:
    """Inverse quaternion (conjugate over squared norm)."""
    q = np.asarray(q, dtype=float)
    conj = q * np.array([1.0, -1.0, -1.0, -1.0])
    return conj / np.sum(q * q, axis=-1, keepdims=True)


def to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of (normalized) quaternions."""
    w, x, y, z = np.moveaxis(normalize(q), -1, 0)
    return np.stack(
        [
            np.stack([w * w + x * x - y * y - z * z, 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=-1),
            np.stack([2 * (x * y + z * w), w * w - x * x + y * y - z * z, 2 * (y * z - x * w)], axis=-1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), w * w - x * x - y * y + z * z], axis=-1),
        ],
        axis=-2,
    )


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternion ``(w, x, y, z)`` of one 3x3 rotation matrix (Shepperd's method)."""
    m = np.asarray(m, dtype=float).reshape(3, 3)
    tr = np.trace(m)
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    return normalize(np.array(q))


def from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Quaternions rotating by ``angle`` (radians, shape ``(N,)``) about ``axis`` (3,)."""
    axis = np.asarray(axis, dtype=float)
    norm = np.linalg.norm(axis)
    unit = axis / norm if norm > 0 else np.array([1.0, 0.0, 0.0])
    half = 0.5 * np.asarray(angle, dtype=float)
    return np.concatenate([np.cos(half)[..., None], np.sin(half)[..., None] * unit], axis=-1)


def slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation along the shorter arc, as Eigen's ``Quaternion::slerp``."""
    q0 = np.asarray(q0, dtype=float)
    q1 = np.asarray(q1, dtype=float)
    t = np.asarray(t, dtype=float)
    d = np.sum(q0 * q1, axis=-1)
    abs_d = np.abs(d)
    near = abs_d >= 1.0 - _EPS
    theta = np.arccos(np.clip(abs_d, -1.0, 1.0))
    sin_theta = np.sin(theta)
    safe = np.where(near, 1.0, sin_theta)
    s0 = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    s1 = np.where(near, t, np.sin(t * theta) / safe)
    s1 = np.where(d < 0, -s1, s1)
    return s0[..., None] * q0 + s1[..., None] * q1


def make_continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 so consecutive quaternions have a non-negative dot product."""
    q = np.array(q, dtype=float)
    if len(q) < 2:
        return q
    flips = np.sum(q[1:] * q[:-1], axis=-1) < 0
    sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
    return q * sign[:, None]


def rotate(
    q: tuple[np.ndarray, ...] | list[np.ndarray],
    v: tuple[np.ndarray, ...] | list[np.ndarray],
    transpose: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``R(q) @ v`` (or ``R(q).T @ v``) for flat component arrays, without forming the matrices.

    ``q = (w, x, y, z)`` need not be unit (it is normalized, as :func:`to_matrix` does); ``v = (x, y, z)``.
    Uses ``v + 2 / |q|^2 * (w (u x v) + u x (u x v))`` with ``u = (x, y, z)``; the transpose is the
    rotation by the conjugate (``w -> -w``).
    """
    w, x, y, z = q
    vx, vy, vz = v
    # c = u x v
    cx = y * vz
    cx -= z * vy
    cy = z * vx
    cy -= x * vz
    cz = x * vy
    cz -= y * vx
    # d = u x c
    dx = y * cz
    dx -= z * cy
    dy = z * cx
    dy -= x * cz
    dz = x * cy
    dz -= y * cx
    # scale = 2 / |q|^2, signed by the direction of the rotation for the w term
    n2 = w * w
    n2 += x * x
    n2 += y * y
    n2 += z * z
    scale = np.divide(2.0, n2, out=n2)
    ws = w * scale
    if transpose:
        np.negative(ws, out=ws)
    cx *= ws
    cy *= ws
    cz *= ws
    dx *= scale
    dy *= scale
    dz *= scale
    cx += dx
    cy += dy
    cz += dz
    cx += vx
    cy += vy
    cz += vz
    return cx, cy, cz
