"""Synthetic a-priori pointing error: the truth camera's ground is about M metres from the sidecar's.

The offsets are measured independently of how they were made: both cameras are evaluated on a grid
of pixels, the rendered pixels are compared with renders through each camera, and keypoints of two
overlapping images are related through the truth cameras.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from scipy.spatial import cKDTree
from typer.testing import CliRunner

from tiepoint.camera import from_isd
from tiepoint.camera.discovery import find_camera
from tiepoint.cli.main import app
from tiepoint.errors import CameraError
from tiepoint.features import extract
from tiepoint.io import open_image
from tiepoint.synthetic import perturb_isd, render, rescale_isd, synthesize, true_correspondence
from tiepoint.synthetic.pointing import TRUTH_KEY

from ._data import CTX_DIR, G02, N06, load

B10, N12 = "B10_013615_2178_XI_37N117W.crop", "N12_067021_2177_XN_37N117W.crop"


def _ground_offsets(apriori, truth, n: int = 7) -> np.ndarray:
    """|truth ground - a-priori ground| (m) on an n x n grid of pixels."""
    lines, samples = np.meshgrid(
        np.linspace(0.5, apriori.image_lines - 0.5, n), np.linspace(0.5, apriori.image_samples - 0.5, n)
    )
    d = truth.image_to_ground(lines.ravel(), samples.ravel()) - apriori.image_to_ground(
        lines.ravel(), samples.ravel()
    )
    return np.linalg.norm(d, axis=1)


@pytest.mark.parametrize("name", [G02, B10, N12])
@pytest.mark.parametrize("error_m", [50.0, 300.0, 1000.0])
def test_the_ground_moves_by_about_the_requested_error(name, error_m):
    isd = load(name)
    truth, err = perturb_isd(isd, error_m, seed=7)
    offsets = _ground_offsets(from_isd(isd), from_isd(truth))
    assert np.all(np.abs(offsets - error_m) <= 0.01 * error_m), offsets
    assert err.magnitude_m == pytest.approx(error_m, rel=1e-3)
    assert np.hypot(err.along_m, err.cross_m) == pytest.approx(err.magnitude_m, rel=1e-3)  # horizontal
    assert truth[TRUTH_KEY]["requested_m"] == error_m
    assert isd == load(name)  # the input is not modified


def test_directions_vary_with_the_seed_and_mix_along_and_cross_track():
    isd = load(G02)
    errors = [perturb_isd(isd, 300.0, seed=s)[1] for s in range(24)]
    azimuths = np.array([np.arctan2(e.cross_m, e.along_m) for e in errors])
    assert np.ptp(np.cos(azimuths)) > 1.5 and np.ptp(np.sin(azimuths)) > 1.5  # all round the compass
    shares = np.array([np.linalg.norm(e.rotation_rad) for e in errors])
    assert np.all(shares > 0)  # pointing always contributes; position sometimes too
    assert any(np.linalg.norm(e.translation_m) > 20 for e in errors)
    again = perturb_isd(isd, 300.0, seed=3)[1]
    assert again == errors[3]  # reproducible


def test_zero_error_is_the_identity_and_bad_errors_are_refused():
    isd = load(G02)
    truth, err = perturb_isd(isd, 0.0, seed=1)
    assert np.max(_ground_offsets(from_isd(isd), from_isd(truth))) < 1e-6
    assert err.magnitude_m < 1e-6
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(CameraError, match="pointing error"):
            perturb_isd(isd, bad)


def test_synthesize_renders_the_truth_and_keeps_the_apriori_camera_as_sidecar_and_blob(tmp_path):
    size, error_m = 300, 300.0
    res = synthesize(CTX_DIR / f"{G02}.json", tmp_path, lines=size, samples=size, pointing_error_m=error_m)
    apriori_isd = rescale_isd(load(G02), lines=size, samples=size)
    assert json.loads(res.isd.read_text()) == apriori_isd  # the sidecar: unperturbed
    assert res.truth == tmp_path / f"{G02}.truth.json"
    truth = from_isd(res.truth)
    apriori = find_camera(res.cube)  # the sidecar
    with open_image(res.cube) as img:
        pixels = img.read().astype(np.float64).filled(np.nan)
    res.isd.unlink()  # now find_camera has only the CSMState blob
    from_blob = find_camera(res.cube)
    grid = np.linspace(0.5, size - 0.5, 9)
    ll, ss = np.meshgrid(grid, grid)
    np.testing.assert_allclose(
        from_blob.image_to_ground(ll.ravel(), ss.ravel()), apriori.image_to_ground(ll.ravel(), ss.ravel())
    )
    offsets = _ground_offsets(from_blob, truth)
    assert np.all(np.abs(offsets - error_m) < 0.01 * error_m)
    # the pixels show the truth camera's ground: a noise-free render through it matches them, one
    # through the a-priori camera is shifted by the error (measured by phase correlation)
    via_truth = render(truth, noise=0.0)
    via_apriori = render(apriori, noise=0.0)
    ok = np.isfinite(pixels)
    assert np.corrcoef(pixels[ok], via_truth[ok])[0, 1] > 0.98
    (dx, dy), _ = cv2.phaseCorrelate(via_apriori.astype(np.float64), np.nan_to_num(pixels))
    pixel_m = np.linalg.norm(
        truth.image_to_ground([150.5], [150.5]) - truth.image_to_ground([150.5], [151.5])
    )
    assert np.hypot(dx, dy) * pixel_m == pytest.approx(error_m, rel=0.15)
    (dx0, dy0), _ = cv2.phaseCorrelate(via_truth.astype(np.float64), np.nan_to_num(pixels))
    assert np.hypot(dx0, dy0) < 0.3


def test_synth_cli_pointing_error(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "synth", str(CTX_DIR / f"{G02}.json"), "--out", str(out), "--lines", "80", "--samples", "60",
            "--pointing-error-m", "250", "--seed", "4",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ground offset 250.0 m" in result.output
    apriori, truth = from_isd(out / f"{G02}.json"), from_isd(out / f"{G02}.truth.json")
    assert np.all(np.abs(_ground_offsets(apriori, truth, 4) - 250.0) < 2.5)
    bad = CliRunner().invoke(app, ["synth", str(CTX_DIR / f"{G02}.json"), "--out", str(out),
                                   "--pointing-error-m", "-5"])  # fmt: skip
    assert bad.exit_code != 0


@pytest.fixture(scope="module")
def overlapping_pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("pe")
    return [synthesize(CTX_DIR / f"{n}.json", out, lines=600, samples=600, pointing_error_m=300.0, seed=1)
            for n in (G02, N06)]  # fmt: skip


def test_true_correspondence_relates_the_keypoints_of_two_rendered_images(overlapping_pair):
    a, b = overlapping_pair
    kp_a, kp_b = extract(a.cube), extract(b.cube)
    tree = cKDTree(np.column_stack([kp_b.x, kp_b.y]))

    def fraction_with_keypoint_within_1px(cam_a, cam_b):
        xb, yb = true_correspondence(cam_a, cam_b, kp_a.x, kp_a.y)
        inside = (xb > 8) & (xb < 592) & (yb > 8) & (yb < 592)
        dist, _ = tree.query(np.column_stack([xb[inside], yb[inside]]))
        return inside.sum(), float(np.mean(dist < 1.0))

    n_inside, truth_fraction = fraction_with_keypoint_within_1px(a.truth, b.truth)
    _, apriori_fraction = fraction_with_keypoint_within_1px(a.isd, b.isd)
    assert n_inside > 200
    assert truth_fraction >= 0.45, truth_fraction
    assert apriori_fraction <= 0.1 * truth_fraction, apriori_fraction  # 300 m error: ~35-50 px off
    # a -> b -> a is the identity (to the cameras' ground_to_image precision)
    xb, yb = true_correspondence(a.truth, b.truth, kp_a.x[:50], kp_a.y[:50])
    xa, ya = true_correspondence(b.truth, a.truth, xb, yb)
    np.testing.assert_allclose(
        np.column_stack([xa, ya]), np.column_stack([kp_a.x[:50], kp_a.y[:50]]), atol=1e-3
    )
