"""Images of different resolutions: the finest measure is the reference, and a finer reference is
low-passed before it is resampled onto a coarser image (against the renderer's truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from netdata import CTX_DIR, G02

import tiepoint.network.chips as chips
from tiepoint.camera import from_isd
from tiepoint.io import write_cube
from tiepoint.network import apriori_points, register_measures
from tiepoint.network.geometry import ground_resolution
from tiepoint.pixels import from_camera_coords, to_camera_coords
from tiepoint.synthetic import render, rescale_isd
from tiepoint.synthetic.isd import frame_isd


def test_the_reference_is_the_finest_measure_not_the_most_nadir():
    """A nadir camera 900 km up and an oblique one 250 km up: the oblique one sees finer detail."""
    cams = {
        1: from_isd(frame_isd(0.0, 10.0, 900e3, lines=400, samples=400)),
        2: from_isd(frame_isd(-0.5, 9.5, 250e3, lines=400, samples=400, look_at=(0.0, 10.0))),
    }
    rng = np.random.default_rng(0)
    xy = rng.uniform(150, 250, (40, 2))
    xyz = cams[1].image_to_ground(*to_camera_coords(xy[:, 0], xy[:, 1]))
    point, image, xs, ys = [], [], [], []
    for k, cam in cams.items():
        x, y = from_camera_coords(*cam.ground_to_image(xyz))
        point.append(np.arange(len(xyz)))
        image.append(np.full(len(xyz), k))
        xs.append(x)
        ys.append(y)
    point, image, x, y = (np.concatenate(v) for v in (point, image, xs, ys))
    ap = apriori_points(point, image, x, y, cams)
    assert (image[ap.reference] == 2).all()
    assert ap.emission_deg[image == 2].min() > ap.emission_deg[image == 1].max() + 5  # 1 is more nadir
    # resolution: a nadir frame pixel covers altitude x pitch / focal length on each side
    nadir = ground_resolution(np.array([1]), np.array([199.5]), np.array([199.5]), cams, 0.0)[0]
    assert nadir == pytest.approx(900e3 * 0.01 / 50.0, rel=0.01)
    assert (ap.resolution_m[image == 2] < 0.5 * ap.resolution_m[image == 1]).all()


@pytest.fixture(scope="module")
def two_scales(tmp_path_factory):
    """G02 rendered at 800 x 800 and at 160 x 160 (pixels 5 times larger), under one sun."""
    out = tmp_path_factory.mktemp("two_scales")
    isd = json.loads((CTX_DIR / f"{G02}.json").read_text())
    fine = from_isd(rescale_isd(isd, lines=800, samples=800))
    coarse = from_isd(rescale_isd(isd, lines=160, samples=160))
    sun = fine.sun_position([400])[0]
    for name, cam in (("fine", fine), ("coarse", coarse)):
        write_cube(out / f"{name}.cub", render(cam, sun_position=sun), pixel_type="UnsignedWord")
    return out, fine, coarse


def _grid(ref, meas, step: float, margin: float):
    """True correspondences of a grid of *ref* pixels that lie *margin* measure pixels inside *meas*."""
    scale = ref.image_samples / meas.image_samples
    m0 = margin * max(scale, 1.0)
    xs, ys = np.meshgrid(
        np.arange(m0, ref.image_samples - m0, step), np.arange(m0, ref.image_lines - m0, step)
    )
    xa, ya = xs.ravel(), ys.ravel()
    xb, yb = from_camera_coords(*meas.ground_to_image(ref.image_to_ground(*to_camera_coords(xa, ya))))
    return xa, ya, xb, yb


def test_a_finer_reference_registers_a_coarser_image(two_scales, monkeypatch):
    out, fine, coarse = two_scales
    xa, ya, xb, yb = _grid(fine, coarse, 9.0, 30.0)
    rng = np.random.default_rng(1)
    angle = rng.uniform(0, 2 * np.pi, len(xa))
    x0, y0 = xb + np.cos(angle), yb + np.sin(angle)  # a-priori positions 1 coarse pixel off
    result = register_measures(out / "fine.cub", out / "coarse.cub", fine, coarse, xa, ya, x0, y0)
    err = np.hypot(result.x - xb, result.y - yb)[result.ok]
    assert len(xa) > 2000 and result.ok.mean() >= 0.95
    assert np.sqrt(np.mean(err**2)) <= 0.15 and np.mean(err > 1.0) < 0.01
    # without the low-pass the sampled template aliases: far fewer measures correlate
    monkeypatch.setattr(chips, "MIN_DOWNSAMPLING", np.inf)
    aliased = register_measures(out / "fine.cub", out / "coarse.cub", fine, coarse, xa, ya, x0, y0)
    assert aliased.ok.mean() < result.ok.mean() - 0.2


def test_a_coarser_reference_registers_fewer_but_within_its_pixels(two_scales):
    """The reverse (what the reference rule avoids): a coarse template on a fine image."""
    out, fine, coarse = two_scales
    xa, ya, xb, yb = _grid(coarse, fine, 1.7, 30.0)
    result = register_measures(out / "coarse.cub", out / "fine.cub", coarse, fine, xa, ya, xb + 2.0, yb)
    err = np.hypot(result.x - xb, result.y - yb)[result.ok]
    assert result.ok.sum() > 100
    assert np.sqrt(np.mean(err**2)) < 5.0 * 0.5  # half a coarse (reference) pixel
