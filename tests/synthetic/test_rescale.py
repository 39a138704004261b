"""ISD rescaling: the rescaled image covers the same ground with other pixels."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tiepoint.camera import from_isd
from tiepoint.errors import CameraError
from tiepoint.synthetic import rescale_isd
from tiepoint.synthetic.isd import frame_isd

from ._data import G02, load


def _ground_error(isd: dict, scaled: dict) -> np.ndarray:
    """Ground distance (m) between the same image-relative points of the two cameras."""
    a, b = from_isd(isd), from_isd(scaled)
    f = np.linspace(0.0, 1.0, 5)
    fl, fs = (v.ravel() for v in np.meshgrid(f, f, indexing="ij"))  # corners, edges, centre
    ga = a.image_to_ground(fl * a.image_lines, fs * a.image_samples)
    gb = b.image_to_ground(fl * b.image_lines, fs * b.image_samples)
    return np.linalg.norm(ga - gb, axis=1)


def _pixel_size(isd: dict) -> float:
    cam = from_isd(isd)
    g = cam.image_to_ground([cam.image_lines / 2] * 2, [cam.image_samples / 2, cam.image_samples / 2 + 1])
    return float(np.linalg.norm(g[0] - g[1]))


@pytest.mark.parametrize(("lines", "samples"), [(700, 1300), (5000, 250), (1000, 3000), (333, None)])
def test_line_scanner_rescale_covers_the_same_ground(lines, samples):
    isd = load(G02)
    original = copy.deepcopy(isd)
    scaled = rescale_isd(isd, lines=lines, samples=samples)
    assert isd == original  # the input is left alone
    assert scaled["image_lines"] == lines and scaled["image_samples"] == (samples or isd["image_samples"])
    err = _ground_error(isd, scaled)
    assert err.max() < 0.01 * _pixel_size(isd)


def test_frame_rescale_covers_the_same_ground():
    isd = frame_isd(10.0, 30.0, 400e3, lines=300, samples=400, radial_distortion=(1e-5, 0.0, 0.0))
    scaled = rescale_isd(isd, lines=750, samples=200)
    assert _ground_error(isd, scaled).max() < 0.01 * _pixel_size(isd)


def test_changing_only_the_size_would_not_cover_the_same_ground():
    """The check above can fail: a naive rescale (sizes only) misses the ground by many pixels."""
    isd = load(G02)
    naive = dict(isd, image_lines=700, image_samples=1300)
    assert _ground_error(isd, naive).max() > 100 * _pixel_size(isd)


def test_rescaled_pixels_have_the_scaled_ground_size():
    isd = load(G02)
    ratio = _pixel_size(isd) / _pixel_size(rescale_isd(isd, lines=500, samples=500))
    assert ratio == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("bad", [{"lines": 0}, {"samples": -3}])
def test_bad_sizes_raise(bad):
    with pytest.raises(CameraError, match="positive"):
        rescale_isd(load(G02), **bad)


def test_missing_keys_raise_a_camera_error():
    isd = load(G02)
    del isd["line_scan_rate"]
    with pytest.raises(CameraError, match="line_scan_rate"):
        rescale_isd(isd, lines=10)
