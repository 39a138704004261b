"""Interpolation and quaternion helpers against analytic truth and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from tiepoint.camera import rotation as rot
from tiepoint.camera.interpolation import UniformLagrange, hermite_resample, lagrange_uniform

rng = np.random.default_rng(11)


def test_lagrange_reproduces_polynomials():
    t0, dt, n = -2.0, 0.25, 30
    nodes = t0 + dt * np.arange(n)
    coeffs = rng.normal(size=(8, 2))
    poly = lambda t: np.stack([np.polyval(coeffs[:, k], t) for k in range(2)], axis=1)  # noqa: E731
    # interior (order 8): degree-7 polynomials exactly; near the ends the order drops (2/4/6)
    t = rng.uniform(nodes[4], nodes[-5], 500)
    np.testing.assert_allclose(lagrange_uniform(poly(nodes), t0, dt, t), poly(t), rtol=1e-9, atol=1e-9)
    lin = lambda t: np.stack([3 * t + 1, -t], axis=1)  # noqa: E731
    t = rng.uniform(nodes[0] - 1, nodes[-1] + 1, 500)  # linear data: exact everywhere, extrapolated too
    np.testing.assert_allclose(lagrange_uniform(lin(nodes), t0, dt, t), lin(t), atol=1e-11)


def test_fast_lagrange_equals_reference():
    values = np.cumsum(rng.normal(size=(40, 4)), axis=0)
    t0, dt = 5.0, 0.1
    t = rng.uniform(t0 - 0.5, t0 + 4.5, 3000)
    for order in (8, 4, 2):
        ref = lagrange_uniform(values, t0, dt, t, order)
        np.testing.assert_allclose(UniformLagrange(values, t0, dt, order)(t), ref, rtol=1e-12, atol=1e-11)


def test_hermite_cubic_exact():
    times = np.array([0.0, 1.0, 2.5, 4.0])
    f = lambda t: (2 * t**3 - t**2 + 3)[:, None] * np.ones((1, 3))  # noqa: E731
    df = lambda t: (6 * t**2 - 2 * t)[:, None] * np.ones((1, 3))  # noqa: E731
    t = rng.uniform(0, 4, 100)
    pos, vel = hermite_resample(times, f(times), df(times), t)
    np.testing.assert_allclose(pos, f(t), rtol=1e-12)
    np.testing.assert_allclose(vel, df(t), rtol=1e-12)


def test_quaternion_matrix_product_and_slerp_match_scipy():
    q = rot.normalize(rng.normal(size=(50, 4)))
    p = rot.normalize(rng.normal(size=(50, 4)))
    sq = Rotation.from_quat(q[:, [1, 2, 3, 0]])
    sp = Rotation.from_quat(p[:, [1, 2, 3, 0]])
    np.testing.assert_allclose(rot.to_matrix(q), sq.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(rot.to_matrix(rot.multiply(q, p)), (sq * sp).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(rot.to_matrix(rot.inverse(q)), sq.inv().as_matrix(), atol=1e-12)
    for m in rot.to_matrix(q[:10]):
        np.testing.assert_allclose(rot.to_matrix(rot.from_matrix(m)), m, atol=1e-12)
    s = rng.uniform(0, 1, 50)
    for i in range(50):
        ref = Slerp([0, 1], Rotation.from_quat(np.stack([q[i], p[i]])[:, [1, 2, 3, 0]]))([s[i]]).as_matrix()[
            0
        ]
        np.testing.assert_allclose(rot.to_matrix(rot.slerp(q[i], p[i], s[i])), ref, atol=1e-10)


def test_make_continuous_and_axis_angle():
    q = rot.normalize(np.array([[1.0, 0.1, 0, 0], [-1.0, -0.12, 0, 0], [1.0, 0.14, 0, 0]]))
    c = rot.make_continuous(q)
    assert np.all(np.sum(c[1:] * c[:-1], axis=1) > 0)
    np.testing.assert_allclose(rot.to_matrix(c), rot.to_matrix(q), atol=1e-15)
    r = rot.to_matrix(rot.from_axis_angle(np.array([0, 0, 2.0]), np.array([np.pi / 2])))[0]
    np.testing.assert_allclose(r @ [1, 0, 0], [0, 1, 0], atol=1e-15)
    assert rot.from_axis_angle(np.zeros(3), np.array([0.3])).shape == (1, 4)
    with pytest.raises(ValueError):
        rot.multiply(np.zeros((2, 4)), np.zeros((3, 4)))


def test_rotate_components_match_scipy():
    # rot.rotate works on flat components and normalizes q itself (interpolated quaternions are not unit)
    q = rng.normal(size=(200, 4)) * rng.uniform(0.5, 2.0, (200, 1))
    v = rng.normal(size=(200, 3)) * 1000.0
    r = Rotation.from_quat(q[:, [1, 2, 3, 0]])  # scipy normalizes
    np.testing.assert_allclose(np.stack(rot.rotate(q.T, v.T), axis=1), r.apply(v), atol=1e-9)
    back = np.stack(rot.rotate(q.T, v.T, transpose=True), axis=1)
    np.testing.assert_allclose(back, r.inv().apply(v), atol=1e-9)


def test_fast_lagrange_nan_and_extrapolation():
    values = np.cumsum(rng.normal(size=(12, 3)), axis=0)
    fast = UniformLagrange(values, 1.0, 0.5)
    t = np.array([np.nan, -50.0, 0.2, 7.4, 90.0, np.inf])
    with np.errstate(invalid="ignore"):  # inf * 0 in the Horner scheme: NaN is the answer
        out = fast(t)
        shapes = [c.shape for c in fast.components(t)]
    assert np.isnan(out[0]).all() and np.isnan(out[-1]).all()
    np.testing.assert_allclose(out[1:-1], lagrange_uniform(values, 1.0, 0.5, t[1:-1]), rtol=1e-12)
    assert shapes == [(6,)] * 3
