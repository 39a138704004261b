"""Distortion models: apply/remove are inverses; models behave as their formulas say."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import tiepoint.camera as cam
from tiepoint.camera.distortion import Distortion
from tiepoint.errors import CameraError

rng = np.random.default_rng(7)
UX = rng.uniform(-15, 15, 400)  # mm, a CTX-sized focal plane
UY = rng.uniform(-15, 15, 400)


def test_radial_remove_formula_and_inverse():
    d = Distortion("radial", (-0.007343392592005451, 2.83758786362417e-05, 1.2842e-08))
    dx, dy = d.apply(UX, UY, precision=1e-12)
    # remove() is the closed-form polynomial: u = d * (1 - (k0 + k1 r^2 + k2 r^4))
    rr = dx * dx + dy * dy
    k = d.coefficients
    scale = 1 - (k[0] + rr * (k[1] + rr * k[2]))
    ux, uy = d.remove(dx, dy)
    np.testing.assert_allclose(ux, dx * scale, rtol=1e-14)
    np.testing.assert_allclose(ux, UX, atol=1e-9)
    np.testing.assert_allclose(uy, UY, atol=1e-9)


def test_transverse_identity_and_inverse():
    ident = Distortion("transverse", tuple([0, 1, 0] + [0] * 7 + [0, 0, 1] + [0] * 7))
    np.testing.assert_allclose(ident.apply(UX, UY), (UX, UY))
    np.testing.assert_allclose(ident.remove(UX, UY), (UX, UY))
    cx = [0.001, 1.0, 0.002, 1e-4, -2e-4, 1e-4, 1e-6, 0, -1e-6, 2e-7]
    cy = [-0.002, 0.001, 1.0, 2e-4, 1e-4, -1e-4, 0, 1e-6, 1e-6, -1e-7]
    d = Distortion("transverse", tuple(cx + cy))
    dx, dy = d.apply(UX, UY)
    f = [1, UX, UY, UX**2, UX * UY, UY**2, UX**3, UX**2 * UY, UX * UY**2, UY**3]
    np.testing.assert_allclose(dx, sum(c * t for c, t in zip(cx, f, strict=True)))
    ux, uy = d.remove(dx, dy, tolerance=1e-12)
    np.testing.assert_allclose(ux, UX, atol=1e-8)
    np.testing.assert_allclose(uy, UY, atol=1e-8)


def test_radtan_inverse_and_opencv_form():
    d = Distortion("radtan", (-0.05, 0.002, 1e-4, -2e-4, 1e-5))
    x, y = UX / 20, UY / 20  # normalized coordinates, as in OpenCV
    dx, dy = d.apply(x, y)
    r2 = x * x + y * y
    np.testing.assert_allclose(
        dx, x * (1 - 0.05 * r2 + 0.002 * r2**2 + 1e-5 * r2**3) + 2e-4 * x * y - 2e-4 * (r2 + 2 * x * x)
    )
    ux, uy = d.remove(dx, dy, tolerance=1e-13)
    np.testing.assert_allclose((ux, uy), (x, y), atol=1e-10)


def test_isd_parsing_pads_and_rejects(ctx_isd_dir):
    isd = json.loads((ctx_isd_dir / "G02_019154_1800_XN_00N133W.crop.json").read_text())
    assert Distortion.from_isd(isd).name == "radial"
    t = copy.deepcopy(isd)
    t["optical_distortion"] = {"transverse": {"x": [0, 1, 0], "y": [0, 0, 1]}}
    d = Distortion.from_isd(t)
    assert d.name == "transverse" and len(d.coefficients) == 20
    t["optical_distortion"] = {"transverse": {"x": [0, 1]}}
    with pytest.raises(CameraError, match=r"optical_distortion\.transverse\.y"):
        Distortion.from_isd(t, "f.json")
    for name in ("kaguyalism", "dawnfc", "lrolrocnac", "cahvor", "lunarorbiter", "kplo_shadowcam"):
        t["optical_distortion"] = {name: {"coefficients": [0.0]}}
        with pytest.raises(CameraError, match=f"not supported: {name}"):
            cam.from_isd(t)


def test_transverse_model_round_trip_on_ctx(ctx_isd_dir):
    # A real CTX geometry with a (made-up, mild) transverse distortion: whole-image round trip.
    isd = json.loads((ctx_isd_dir / "N06_064753_1800_XN_00S133W.crop.json").read_text())
    isd["optical_distortion"] = {
        "transverse": {
            "x": [0.0, 1.0, 0.0, 1e-5, 0.0, 0.0, 2e-6, 0.0, 0.0, 0.0],
            "y": [0.0, 0.0, 1.0, 0.0, 1e-5, 0.0, 0.0, 0.0, 2e-6, 0.0],
        }
    }
    model = cam.from_isd(isd)
    lines, samples = np.meshgrid(np.linspace(0, model.image_lines, 9), np.linspace(0, model.image_samples, 9))
    back = model.ground_to_image(model.image_to_ground(lines, samples))
    np.testing.assert_allclose(back[0], lines.ravel(), atol=1e-3)
    np.testing.assert_allclose(back[1], samples.ravel(), atol=1e-3)


# ---- USGSCSM tests/DistortionTests.cpp expectations (test names cited); points are (x=sample, y=line).
ALT = (1.0, 0.0) * 5 + (0.0, 1.0) * 5


def test_usgscsm_transverse_cases():
    from tiepoint.camera.distortion import _transverse_jacobian

    # Transverse.Jacobian1
    c = np.array([0.0] * 8 + [1.0, 0.0] + [0.0] * 8 + [1.0, 1.0])
    jac = _transverse_jacobian(np.array([7.5]), np.array([7.5]), c)
    np.testing.assert_allclose(np.ravel(jac), [56.25, 112.5, 56.25, 281.25], atol=1e-8)
    # Transverse.distortMe_AlternatingOnes / distortMe_AllCoefficientsOne
    np.testing.assert_allclose(Distortion("transverse", ALT).apply(7.5, 7.5), (908.5, 963.75), atol=1e-8)
    ones = Distortion("transverse", (1.0,) * 20)
    np.testing.assert_allclose(ones.apply(7.5, 7.5), (1872.25, 1872.25), atol=1e-8)
    # transverse.removeDistortion_AlternatingOnes / removeDistortion_AllCoefficientsOne / removeDistortion1
    ux, uy = Distortion("transverse", ALT).remove(np.array([908.5]), np.array([963.75]))
    np.testing.assert_allclose((ux[0], uy[0]), (7.5, 7.5), atol=1e-8)
    np.testing.assert_allclose(np.ravel(ones.remove(np.array([0.5]), np.array([0.5]))), (0.5, 0.5), atol=1e-8)
    ident = Distortion("transverse", tuple([0, 1] + [0] * 8 + [0, 1] + [0] * 8))
    np.testing.assert_allclose(
        np.ravel(ident.remove(np.array([7.5]), np.array([7.5]))), (7.5, 7.5), atol=1e-8
    )


def test_usgscsm_radial_cases():
    # Radial.testUndistortDistort: remove then apply returns the point to 1e-8.
    d = Distortion("radial", (0.03, 0.00001, 0.000004))
    ux, uy = d.remove(np.array([0.1]), np.array([0.0]), tolerance=1e-2)
    dx, dy = d.apply(ux, uy, precision=1e-6)
    np.testing.assert_allclose((dx[0], dy[0]), (0.1, 0.0), atol=1e-8)
    # Radial.testInverseDistortion (zero coefficients) and testInverseOnesCoeffs (diverges -> unchanged)
    for coeffs in ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)):
        dx, dy = Distortion("radial", coeffs).apply(np.array([4.0]), np.array([0.0]), precision=0.01)
        np.testing.assert_allclose((dx[0], dy[0]), (4.0, 0.0), atol=1e-8)
