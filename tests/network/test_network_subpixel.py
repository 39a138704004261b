"""Sub-pixel registration end to end, against the renderer's truth (real CTX geometry of G02 and N06).

True correspondences come from the cameras (G02 pixel -> ellipsoid -> N06 pixel); the a-priori
positions are the true ones moved by up to 3 px; registration must bring them back.

Measured here (800 x 800 renders, defaults: 41-px template, 31-px consensus, 55-px search):
one common sun: 0.16 px RMS, no measure worse than 1 px, 99 % registered; each image under its own
sun (32 deg apart in azimuth): 0.25 px RMS, of which 0.17 px is a systematic shift along the lines
that the different shading of the craters causes, none worse than 1 px, 93 % registered.
"""

from __future__ import annotations

import numpy as np
import pytest
from netdata import NULL_BOX, correspondences, perturb

from tiepoint.config import RegistrationConfig
from tiepoint.io import open_image, write_cube
from tiepoint.network import MeasureRegistration, register_measures


def _register(pair, xa, ya, x0, y0, config=None, measure=None) -> MeasureRegistration:
    return register_measures(
        pair.reference,
        measure or pair.measure,
        pair.reference_camera,
        pair.measure_camera,
        xa,
        ya,
        x0,
        y0,
        config,
    )


def _errors(result: MeasureRegistration, xb, yb):
    return np.hypot(result.x - xb, result.y - yb)


def test_registration_recovers_true_positions_to_a_fifth_of_a_pixel(one_sun):
    xa, ya, xb, yb = correspondences(one_sun)
    assert len(xa) > 500
    x0, y0 = perturb(xb, yb, 3.0)
    result = _register(one_sun, xa, ya, x0, y0)
    ok = result.ok
    assert ok.mean() >= 0.95, np.unique(result.status, return_counts=True)
    err = _errors(result, xb, yb)[ok]
    before = np.hypot(x0 - xb, y0 - yb)[ok]
    assert np.sqrt(np.mean(before**2)) > 1.5
    assert np.sqrt(np.mean(err**2)) <= 0.2
    assert np.mean(err > 1.0) < 0.01


def test_registration_under_different_suns(own_suns):
    """Shading moves with the sun; the error is larger but still well below a pixel."""
    xa, ya, xb, yb = correspondences(own_suns)
    x0, y0 = perturb(xb, yb, 3.0, seed=2)
    result = _register(own_suns, xa, ya, x0, y0)
    ok = result.ok
    assert ok.mean() >= 0.85
    err = _errors(result, xb, yb)[ok]
    assert np.sqrt(np.mean(err**2)) <= 0.3
    assert np.mean(err > 1.0) < 0.01


def test_a_priori_positions_are_kept_and_failures_keep_them(own_suns):
    xa, ya, xb, yb = correspondences(own_suns, step=25.0)
    x0, y0 = perturb(xb, yb, 2.0, seed=3)
    result = _register(own_suns, xa, ya, x0, y0)
    np.testing.assert_array_equal(result.apriori_x, x0)
    np.testing.assert_array_equal(result.apriori_y, y0)
    bad = ~result.ok
    np.testing.assert_array_equal(result.x[bad], x0[bad])
    np.testing.assert_array_equal(result.y[bad], y0[bad])
    # registering again from the same a-priori positions gives the same answer (no walking)
    again = _register(own_suns, xa, ya, x0, y0)
    np.testing.assert_array_equal(again.x, result.x)


def test_masked_pixels_never_produce_a_measure(with_null):
    xa, ya, xb, yb = correspondences(with_null, step=4.0)
    x0, y0 = perturb(xb, yb, 2.0, seed=4)
    cfg = RegistrationConfig()
    result = _register(with_null, xa, ya, x0, y0, cfg)
    with open_image(with_null.measure) as img:
        masked = np.ma.getmaskarray(img.read())
    (l0, l1), (s0, s1) = NULL_BOX
    inside = (yb >= l0) & (yb < l1) & (xb >= s0) & (xb < s1)
    assert inside.sum() > 50
    assert not result.ok[inside].any()
    # no registered measure used a masked pixel: its template's footprint at the registered
    # position, and the search chip's centre, hold none
    h = cfg.template_px // 2
    ok = np.flatnonzero(result.ok)
    assert len(ok) > 500
    cl = np.floor(result.y[ok] + 0.5).astype(int)
    cs = np.floor(result.x[ok] + 0.5).astype(int)
    rows = cl[:, None, None] + np.arange(-h, h + 1)[None, :, None]
    cols = cs[:, None, None] + np.arange(-h, h + 1)[None, None, :]
    assert not masked[rows, cols].any()
    assert (result.status[inside] == "masked").mean() > 0.9


def test_featureless_and_shadowed_ground_is_not_registered(own_suns, tmp_path):
    """A region of the measure image replaced by noise on a flat level (a shadow, a dust-covered plain)."""
    with open_image(own_suns.measure) as img:
        dn = np.ma.getdata(img.read()).astype(np.float64)
    rng = np.random.default_rng(0)
    box = ((640, 780), (150, 330))
    (l0, l1), (s0, s1) = box
    dark = dn.copy()
    dark[l0:l1, s0:s1] = 400.0 + rng.normal(0.0, 60.0, (l1 - l0, s1 - s0))  # shadow: dark, noise only
    bright = dn.copy()
    bright[l0:l1, s0:s1] = float(np.median(dn)) + rng.normal(0.0, 60.0, (l1 - l0, s1 - s0))  # featureless
    xa, ya, xb, yb = correspondences(own_suns, step=5.0)
    x0, y0 = perturb(xb, yb, 2.0, seed=5)
    inside = (yb >= l0 + 25) & (yb < l1 - 25) & (xb >= s0 + 25) & (xb < s1 - 25)
    assert inside.sum() > 100
    far = (yb < l0 - 40) | (yb >= l1 + 40) | (xb < s0 - 40) | (xb >= s1 + 40)
    before = _register(own_suns, xa, ya, x0, y0).ok
    for name, data in (("dark", dark), ("bright", bright)):
        path = tmp_path / f"{name}.cub"
        write_cube(path, data, pixel_type="UnsignedWord")
        result = _register(own_suns, xa, ya, x0, y0, measure=path)
        assert not result.ok[inside].any(), name
        assert (result.status[inside] == "low_contrast").mean() > 0.9, np.unique(result.status[inside])
        # away from it the image is unchanged and registers as before
        np.testing.assert_array_equal(result.ok[far], before[far])


def test_positions_outside_the_images_are_outside(own_suns):
    xa, ya, xb, yb = correspondences(own_suns, step=60.0)
    xa, ya = xa.copy(), ya.copy()
    xa[0], ya[1] = -5.0, 900.0
    xb = xb.copy()
    xb[2] = 1e4
    result = _register(own_suns, xa, ya, xb, yb)
    assert result.status[:3].tolist() == ["outside"] * 3
    assert result.ok[3:].mean() > 0.8


def test_length_mismatch_is_a_clear_error(own_suns):
    from tiepoint.network import NetworkError

    with pytest.raises(NetworkError, match="one value per measure"):
        _register(own_suns, np.zeros(3), np.zeros(3), np.zeros(2), np.zeros(3))
