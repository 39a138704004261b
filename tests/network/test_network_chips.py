"""Chips: windowed reads against whole-image reads, the local affine against the cameras, warps
against an analytic texture written as a cube."""

from __future__ import annotations

import numpy as np
import pytest
from netdata import Texture

from tiepoint.camera import from_isd
from tiepoint.io import open_image, write_cube
from tiepoint.network import local_affine, read_chips, warp_chips
from tiepoint.pixels import from_camera_coords, to_camera_coords
from tiepoint.synthetic.isd import frame_isd

SHAPE = (700, 650)
TEX = Texture(21, max_freq=0.3 * np.pi)
NULLS = ((300, 303), (400, 460))


@pytest.fixture(scope="module")
def texture_cube(tmp_path_factory):
    """A cube of the analytic texture (pixel (i, j) = TEX(j, i)) with a NULL strip."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(float)
    data = 1000.0 + 300.0 * TEX(xx, yy)
    mask = np.zeros(SHAPE, bool)
    (l0, l1), (s0, s1) = NULLS
    mask[l0:l1, s0:s1] = True
    path = tmp_path_factory.mktemp("chips") / "texture.cub"
    write_cube(path, np.ma.MaskedArray(data, mask), pixel_type="Real")
    return path


def test_chips_equal_whole_image_reads_and_are_masked_outside(texture_cube):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, SHAPE[1] + 30, 300), [0.49, 0.5, -0.51, np.nan]])
    y = np.concatenate([rng.uniform(-30, SHAPE[0] + 30, 300), [0.0, 0.0, 0.0, 5.0]])
    size = 21
    with open_image(texture_cube) as img:
        whole = img.read()
        chips = read_chips(img, x, y, size)
    h = size // 2
    pad_data = np.pad(np.ma.getdata(whole).astype(float), h + 40)
    pad_mask = np.pad(np.ma.getmaskarray(whole), h + 40, constant_values=True)
    for k in range(len(x)):
        if not np.isfinite(x[k]):
            assert chips.mask[k].all()
            continue
        cl, cs = int(np.floor(y[k] + 0.5)) + h + 40, int(np.floor(x[k] + 0.5)) + h + 40
        want_mask = pad_mask[cl - h : cl + h + 1, cs - h : cs + h + 1]
        np.testing.assert_array_equal(chips.mask[k], want_mask)
        np.testing.assert_array_equal(
            chips.data[k][~want_mask], pad_data[cl - h : cl + h + 1, cs - h : cs + h + 1][~want_mask]
        )
    # 0.49 rounds to pixel 0 and 0.5 to pixel 1 (chip_around's rule); -0.51 to pixel -1 (outside)
    assert chips.data[-4, h, h] == pad_data[h + 40, h + 40]
    assert chips.data[-3, h, h] == pad_data[h + 40, h + 41]
    assert chips.mask[-2, :, h].all()


def test_warp_samples_the_reference_where_the_affine_says(texture_cube):
    """Template pixel (i, j) is the reference at (rx, ry) + L^-1 ((cs - h + j, cl - h + i) - (x, y))."""
    rng = np.random.default_rng(1)
    n, size = 60, 31
    rx, ry = rng.uniform(60, 590, n), rng.uniform(60, 640, n)
    # measure positions anywhere; the linear part rotates and scales
    x, y = rng.uniform(100, 200, n), rng.uniform(100, 200, n)
    theta, scale = rng.uniform(-0.5, 0.5, n), rng.uniform(0.8, 1.25, n)
    lin = scale[:, None, None] * np.stack(
        [np.stack([np.cos(theta), -np.sin(theta)], 1), np.stack([np.sin(theta), np.cos(theta)], 1)], 1
    )
    affine = np.concatenate([lin, rng.normal(0, 50, (n, 2, 1))], axis=2)  # the translation is ignored
    with open_image(texture_cube) as img:
        chips = warp_chips(img, rx, ry, affine, x, y, size)
    h = size // 2
    cs, cl = np.floor(x + 0.5), np.floor(y + 0.5)
    gy, gx = np.mgrid[-h : h + 1, -h : h + 1].astype(float)
    ox = (cs - x)[:, None, None] + gx
    oy = (cl - y)[:, None, None] + gy
    inv = np.linalg.inv(lin)
    sx = rx[:, None, None] + inv[:, 0, 0, None, None] * ox + inv[:, 0, 1, None, None] * oy
    sy = ry[:, None, None] + inv[:, 1, 0, None, None] * ox + inv[:, 1, 1, None, None] * oy
    valid = ~chips.mask
    assert valid.mean() > 0.9
    truth = 1000.0 + 300.0 * TEX(sx, sy)
    spread = truth[valid].std()
    rms = np.sqrt(np.mean((chips.data - truth)[valid] ** 2))
    assert rms < 0.03 * spread  # cubic interpolation of a band-limited texture
    # a control: the same comparison a quarter pixel off fails
    off = 1000.0 + 300.0 * TEX(sx + 0.25, sy)
    assert np.sqrt(np.mean((chips.data - off)[valid] ** 2)) > 3 * rms


def test_warp_masks_what_touches_masked_or_outside_pixels(texture_cube):
    (l0, l1), _ = NULLS  # lines 300..302 are NULL over samples 400..459
    size = 11
    ident = np.tile(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), (4, 1, 1))
    # centred on the NULL strip, beside it (sampled 0.6 px below each template row), far from it,
    # and at the image's corner
    rx, ry = np.array([430.0, 430.3, 100.0, 0.0]), np.array([301.0, 296.6, 100.0, 0.0])
    x, y = np.array([430.0, 430.0, 100.0, 0.0]), np.array([301.0, 296.0, 100.0, 0.0])
    with open_image(texture_cube) as img:
        cubic = warp_chips(img, rx, ry, ident, x, y, size, "cubic")
        linear = warp_chips(img, rx, ry, ident, x, y, size, "linear")
    h = size // 2
    assert cubic.mask[0, h, h] and not cubic.mask[2].any()
    # the corner: everything above or left of the image is masked, the image itself is not (except
    # its first line and column, whose cubic kernel reaches outside)
    assert (
        cubic.mask[3, :h, :].all()
        and cubic.mask[3, :, :h].all()
        and not cubic.mask[3, h + 1 :, h + 1 :].any()
    )
    # beside the strip: template row i is sampled at line g + 0.6, g = 291 + i; cubic interpolation
    # reads lines g - 1 .. g + 2, linear g .. g + 1
    g = 291 + np.arange(size)
    np.testing.assert_array_equal(cubic.mask[1].all(axis=1), (g + 2 >= l0) & (g - 1 < l1))
    np.testing.assert_array_equal(cubic.mask[1].any(axis=1), (g + 2 >= l0) & (g - 1 < l1))
    np.testing.assert_array_equal(linear.mask[1].any(axis=1), (g + 1 >= l0) & (g < l1))
    # identity at whole-pixel offsets is a plain copy
    with open_image(texture_cube) as img:
        again = warp_chips(img, [100.0], [100.0], ident[:1], [100.0], [100.0], size)
        plain = read_chips(img, [100.0], [100.0], size)
    np.testing.assert_allclose(again.data, plain.data, atol=1e-3)


def test_local_affine_follows_the_cameras():
    a = from_isd(frame_isd(0.0, 10.0, 400e3, lines=600, samples=600, off_nadir=10, azimuth=30))
    b = from_isd(frame_isd(0.05, 10.05, 650e3, lines=600, samples=600, look_at=(0.0, 10.0)))
    rng = np.random.default_rng(2)
    rx, ry = rng.uniform(100, 500, 40), rng.uniform(100, 500, 40)
    affine = local_affine(a, b, rx, ry)
    assert np.isfinite(affine).all()
    # points within 15 px of each reference position: affine vs the cameras
    d = rng.uniform(-15, 15, (40, 2))
    px, py = rx + d[:, 0], ry + d[:, 1]
    tx, ty = from_camera_coords(*b.ground_to_image(a.image_to_ground(*to_camera_coords(px, py))))
    ax = affine[:, 0, 0] * px + affine[:, 0, 1] * py + affine[:, 0, 2]
    ay = affine[:, 1, 0] * px + affine[:, 1, 1] * py + affine[:, 1, 2]
    assert np.hypot(ax - tx, ay - ty).max() < 0.02
    # a non-trivial mapping: not the identity
    assert np.abs(affine[:, :, :2] - np.eye(2)).max() > 0.05


def test_local_affine_is_nan_off_the_body():
    limb = from_isd(frame_isd(0.0, 0.0, 1.0e6, lines=200, samples=200, off_nadir=55, pixel_pitch=0.2))
    other = from_isd(frame_isd(0.0, 0.0, 1.0e6, lines=200, samples=200, pixel_pitch=0.2))
    affine = local_affine(limb, other, np.array([100.0, 100.0]), np.array([20.0, 150.0]))  # lines >= ~85 miss
    assert np.isfinite(affine[0]).all()
    assert np.isnan(affine[1]).all()
