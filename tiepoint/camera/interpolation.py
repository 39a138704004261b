"""Interpolation of ephemerides, vectorized over query times.

Two families, matching the libraries whose numbers tiepoint reproduces:

* :func:`lagrange_uniform` -- USGSCSM's Lagrange interpolation on equally spaced nodes (order up to 8,
  lowered near the ends of the table), used at run time for positions and quaternions.
* :func:`hermite_resample` / :func:`lagrange_window` -- ALE's cubic Hermite (with velocities) and
  windowed Lagrange (without), used once when an ISD's states are resampled onto equal steps.
"""

from __future__ import annotations

import numpy as np

# Lagrange basis on nodes -3..4 (order 8), -2..3 (6), -1..2 (4), 0..1 (2), relative to the lower node.
_NODES = {8: np.arange(-3, 5), 6: np.arange(-2, 4), 4: np.arange(-1, 3), 2: np.arange(0, 2)}


def interpolation_index(times: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index ``i`` of the interval ``[times[i], times[i+1]]`` holding ``t``, clamped to the table (ALE)."""
    times = np.asarray(times, dtype=float)
    idx = np.searchsorted(times, t, side="right") - 1
    return np.clip(idx, 0, max(len(times) - 2, 0))


def _basis(u: np.ndarray, order: int) -> np.ndarray:
    """Lagrange weights ``(len(u), order)`` at fractional offsets ``u`` from the lower node."""
    nodes = _NODES[order].astype(float)
    weights = np.ones((len(u), order))
    for k in range(order):
        for j in range(order):
            if j != k:
                weights[:, k] *= (u - nodes[j]) / (nodes[k] - nodes[j])
    return weights


def lagrange_uniform(
    values: np.ndarray, t0: float, dt: float, times: np.ndarray, max_order: int = 8
) -> np.ndarray:
    """USGSCSM ``lagrangeInterp``: values ``(n, k)`` at ``t0 + i*dt`` evaluated at ``times`` -> ``(m, k)``.

    The order is 8 away from the table's ends and drops to 6, 4, 2 within 3, 2, 1 nodes of them;
    times outside the table extrapolate from the end intervals.
    """
    values = np.asarray(values, dtype=float)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    n = len(values)
    if n < 2:
        return np.broadcast_to(values[0], (len(times), values.shape[1])).copy()
    fndex = (times - t0) / dt
    index = np.trunc(fndex)
    index = np.nan_to_num(index, nan=0.0, posinf=n - 2, neginf=0.0).astype(np.int64)
    index = np.clip(index, 0, n - 2)
    order = np.full(len(times), 2)
    order[(index >= 1) & (index < n - 2)] = 4
    order[(index >= 2) & (index < n - 3)] = 6
    order[(index >= 3) & (index < n - 4)] = 8
    order = np.minimum(order, max_order)
    u = fndex - index
    out = np.empty((len(times), values.shape[1]))
    for o in np.unique(order):
        sel = np.nonzero(order == o)[0]
        w = _basis(u[sel], int(o))
        rows = index[sel, None] + _NODES[int(o)][None, :]
        out[sel] = np.einsum("mk,mkc->mc", w, values[rows])
    return out


def _power_basis(order: int) -> np.ndarray:
    """``(order, 8)``: coefficients of u^0..u^7 of each Lagrange basis polynomial of ``order``."""
    nodes = _NODES[order].astype(float)
    out = np.zeros((order, 8))
    for k in range(order):
        others = np.delete(nodes, k)
        poly = np.poly(others) / np.prod(nodes[k] - others)  # highest power first
        out[k, : len(poly)] = poly[::-1]
    return out


class UniformLagrange:
    """:func:`lagrange_uniform` precomputed as one polynomial in ``u`` per table interval (fast).

    The interpolant on interval ``i`` (the order chosen for it as in USGSCSM) is expanded once into
    powers of ``u = (t - t0)/dt - i``; evaluation is a gather and an 8-term Horner scheme per component,
    on flat arrays (:meth:`components`). Results agree with :func:`lagrange_uniform` to rounding.
    """

    def __init__(self, values: np.ndarray, t0: float, dt: float, max_order: int = 8) -> None:
        values = np.asarray(values, dtype=float)
        self.t0, self.dt, self.n = float(t0), float(dt), len(values)
        self.ncomp = values.shape[1]
        n = self.n
        if n < 2:
            coeffs = np.zeros((1, 8, self.ncomp))
            coeffs[0, 0] = values[0]
        else:
            index = np.arange(n - 1)
            order = np.full(n - 1, 2)
            order[(index >= 1) & (index < n - 2)] = 4
            order[(index >= 2) & (index < n - 3)] = 6
            order[(index >= 3) & (index < n - 4)] = 8
            order = np.minimum(order, max_order)
            coeffs = np.zeros((n - 1, 8, self.ncomp))
            for o in np.unique(order):
                sel = np.nonzero(order == o)[0]
                rows = sel[:, None] + _NODES[int(o)][None, :]
                coeffs[sel] = np.einsum("kp,mkc->mpc", _power_basis(int(o)), values[rows])
        # (component, power, interval): each row a flat table for one gather
        self.coeffs = np.ascontiguousarray(coeffs.transpose(2, 1, 0))
        self._last = max(n - 2, 0)

    def locate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval index (clamped to the table: outside it the end polynomials extrapolate) and ``u``.

        A NaN time gives interval 0 and a NaN ``u``, so NaN propagates to the values.
        """
        fndex = np.subtract(times, self.t0)
        fndex /= self.dt
        index = np.fmax(fndex, 0.0)  # fmax/fmin ignore NaN: NaN -> 0
        np.fmin(index, self._last, out=index)
        np.trunc(index, out=index)
        fndex -= index
        return index.astype(np.intp), fndex

    def components(self, times: np.ndarray) -> list[np.ndarray]:
        """Interpolated values at flat ``times``: one 1-D array per component."""
        index, u = self.locate(times)
        tmp = np.empty_like(u)
        out = []
        for table in self.coeffs:  # index is in range already: mode="clip" skips the bounds check
            value = table[7].take(index, mode="clip")
            for p in range(6, -1, -1):
                value *= u
                value += table[p].take(index, out=tmp, mode="clip")
            out.append(value)
        return out

    def __call__(self, times: np.ndarray) -> np.ndarray:
        """Interpolated values ``(len(times), ncomp)``."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        return np.stack(self.components(times), axis=1)


def hermite_resample(
    times: np.ndarray, positions: np.ndarray, velocities: np.ndarray, new_times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ALE's cubic Hermite spline through ``(times, positions, velocities)`` -> positions, velocities."""
    times = np.asarray(times, dtype=float)
    new_times = np.asarray(new_times, dtype=float)
    i = interpolation_index(times, new_times)
    x0, x1 = times[i], times[i + 1]
    h = (x1 - x0)[:, None]
    t = ((new_times - x0) / (x1 - x0))[:, None]
    y0, y1 = positions[i], positions[i + 1]
    m0, m1 = velocities[i], velocities[i + 1]
    t2, t3 = t * t, t * t * t
    pos = (
        (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * h * m0 + (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * h * m1
    )
    vel = ((6 * t2 - 6 * t) * y0 + (3 * t2 - 4 * t + 1) * h * m0 + (-6 * t2 + 6 * t) * y1
           + (3 * t2 - 2 * t) * h * m1) / h  # fmt: skip
    return pos, vel


def lagrange_window(
    times: np.ndarray, values: np.ndarray, new_times: np.ndarray, order: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """ALE's windowed Lagrange (value and derivative) on arbitrary nodes, for states without velocities."""
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    out = np.empty((len(new_times), values.shape[1]))
    der = np.empty_like(out)
    idx = interpolation_index(times, new_times)
    for m, (t, i) in enumerate(zip(np.asarray(new_times, dtype=float), idx, strict=True)):
        half = min(i + 1, len(times) - i - 1, order // 2)
        sl = slice(i - half + 1, i + half + 1)
        tt, vv = times[sl], values[sl]
        val = np.zeros(values.shape[1])
        dval = np.zeros(values.shape[1])
        for a in range(len(tt)):
            others = np.delete(tt, a)
            weight = np.prod(tt[a] - others)
            num = np.prod(t - others)
            val += num * vv[a] / weight
            # derivative of prod(t - others): sum over j of prod over the others but j
            dnum = sum(np.prod(np.delete(t - others, j)) for j in range(len(others)))
            dval += dnum * vv[a] / weight
        out[m], der[m] = val, dval
    return out, der
