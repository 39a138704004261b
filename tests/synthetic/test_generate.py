"""Rendering and writing synthetic cubes: the pixels are the texture at each pixel's ground point."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tiepoint.camera import from_isd
from tiepoint.camera.discovery import find_camera
from tiepoint.cli.main import app
from tiepoint.io import open_image
from tiepoint.io.special_pixels import HIS, HRS, LIS, NULL, classify, pixel_type
from tiepoint.synthetic import GroundTexture, SpecialRegion, SynthesisError, render, rescale_isd, synthesize
from tiepoint.synthetic.isd import frame_isd
from tiepoint.synthetic.render import DN_GAIN, DN_OFFSET, ground_grid, pixel_size

from ._data import CTX_DIR, G02, load


@pytest.mark.parametrize(("grid_step", "rtol"), [(1, 1e-9), (8, 2e-2)])
def test_pixels_are_the_texture_at_their_exact_ground_points(grid_step, rtol):
    cam = from_isd(rescale_isd(load(G02), lines=120, samples=90))
    tex = GroundTexture(cam.semimajor)
    img = render(cam, tex, noise=0.0, grid_step=grid_step)
    rng = np.random.default_rng(3)
    rows, cols = rng.integers(0, 120, 300), rng.integers(0, 90, 300)
    xyz = cam.image_to_ground(rows + 0.5, cols + 0.5)  # exact, per pixel
    sun = cam.sun_position(rows + 0.5) - xyz
    sun /= np.linalg.norm(sun, axis=1, keepdims=True)
    psize = pixel_size(ground_grid(cam, grid_step))
    expected = DN_OFFSET + DN_GAIN * tex.shade(xyz, sun, pixel_size=psize)
    # interpolating the ground every 8 px moves points by < 0.01 px: sharp rims change a few pixels
    close = np.isclose(img[rows, cols], expected, rtol=rtol, atol=0.01)
    assert close.mean() >= (1.0 if grid_step == 1 else 0.97)
    # the pixel size is the original's times the (larger) scale factor
    g = from_isd(load(G02)).image_to_ground([500.5, 500.5, 501.5], [500.5, 501.5, 500.5])
    along, across = np.linalg.norm(g[2] - g[0]) * 1000 / 120, np.linalg.norm(g[1] - g[0]) * 1000 / 90
    assert psize == pytest.approx(max(along, across), rel=0.05)


def test_chunked_rendering_equals_one_chunk():
    cam = from_isd(rescale_isd(load(G02), lines=64, samples=48))
    whole = render(cam, noise=0.0, chunk_lines=64)
    np.testing.assert_array_equal(render(cam, noise=0.0, chunk_lines=7), whole)
    np.testing.assert_array_equal(render(cam, noise=0.0, chunk_lines=1), whole)


def test_synth_cli_writes_cube_and_rescaled_isd(tmp_path):
    isd_path = CTX_DIR / f"{G02}.json"
    result = CliRunner().invoke(
        app, ["synth", str(isd_path), "--out", str(tmp_path / "out"), "--lines", "150", "--samples", "100"]
    )
    assert result.exit_code == 0, result.output
    cube, sidecar = tmp_path / "out" / f"{G02}.cub", tmp_path / "out" / f"{G02}.json"
    assert json.loads(sidecar.read_text()) == rescale_isd(load(G02), lines=150, samples=100)
    with open_image(cube) as img:
        assert img.shape[-2:] == (150, 100)
        data = img.read()
        label = cube.read_bytes()[:4096].decode("ascii", "replace")
    assert "Format      = Tile" in label and "Type       = UnsignedWord" in label
    assert not np.ma.getmaskarray(data).any()
    assert 1000 < data.mean() < 60000 and data.std() > 0.05 * data.mean()
    cam = find_camera(cube)
    assert (cam.image_lines, cam.image_samples) == (150, 100)


def test_special_regions_and_determinism(tmp_path):
    isd_path = CTX_DIR / f"{G02}.json"
    regions = [SpecialRegion.parse("NULL:0:10:0:20"), SpecialRegion.parse("his:50:55:10:60")]
    a = synthesize(isd_path, tmp_path / "a", lines=80, samples=70, special=regions)
    b = synthesize(isd_path, tmp_path / "b", lines=80, samples=70, special=regions)
    assert a.cube.read_bytes() == b.cube.read_bytes()  # the same ISD renders the same cube
    with open_image(a.cube) as img:
        mask = np.ma.getmaskarray(img.read())
    raw = np.fromfile(a.cube, dtype="<u2", offset=65536, count=80 * 70).reshape(80, 70)
    codes = classify(raw, pixel_type("UnsignedWord"))
    expected = np.zeros((80, 70), dtype=np.uint8)
    expected[0:10, 0:20] = NULL
    expected[50:55, 10:60] = HIS
    np.testing.assert_array_equal(codes, expected)
    np.testing.assert_array_equal(mask, expected > 0)
    assert HRS not in codes and LIS not in codes


@pytest.mark.parametrize("text", ["NULL:0:10:0", "BAD:0:1:0:1", "NULL:5:1:0:1", "NULL:a:1:0:1"])
def test_bad_special_regions_raise(text):
    with pytest.raises(SynthesisError, match="special region"):
        SpecialRegion.parse(text)


def test_bad_isd_files_raise_naming_the_file(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(SynthesisError, match=r"nope\.json.*does not exist"):
        synthesize(missing, tmp_path / "out")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SynthesisError, match=r"broken\.json.*JSON"):
        synthesize(broken, tmp_path / "out")
    result = CliRunner().invoke(app, ["synth", str(broken), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "broken.json" in result.output
    with pytest.raises(SynthesisError, match="outside"):
        synthesize(
            CTX_DIR / f"{G02}.json",
            tmp_path / "o",
            lines=20,
            samples=20,
            special=[SpecialRegion.parse("NULL:30:40:0:5")],
        )


def test_rays_that_miss_the_body_are_null(tmp_path):
    isd = frame_isd(0.0, 0.0, 400e3, lines=96, samples=96, off_nadir=63.4)  # the limb crosses the view
    (tmp_path / "limb.json").write_text(json.dumps(isd))
    res = synthesize(tmp_path / "limb.json", tmp_path / "out")
    with open_image(res.cube) as img:
        null = np.ma.getmaskarray(img.read())
    cam = from_isd(isd)
    rows, cols = np.indices((96, 96))
    hit = np.isfinite(cam.image_to_ground(rows.ravel() + 0.5, cols.ravel() + 0.5)[:, 0]).reshape(96, 96)
    assert 0.1 < hit.mean() < 0.9  # a real limb view
    assert null[~hit].all()  # every miss is NULL
    assert (~null[hit]).mean() > 0.8  # hits are rendered (the 8-px grid cells at the limb are not)
