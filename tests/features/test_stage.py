"""The feature stage on real ISIS3 cubes: written with tiepoint.io, read through its windowed reader."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from feature_images import texture
from scipy import ndimage

from tiepoint.config import Config, FeaturesConfig
from tiepoint.errors import FeatureError
from tiepoint.features import confs, extract, keypoint_path, main, read_keypoints, summarize, write_keypoints
from tiepoint.io import content_hash, open_image, write_cube


def cube_with_null(
    path: Path, pixel_type: str = "SignedWord", seed: int = 2
) -> tuple[Path, np.ma.MaskedArray]:
    """A 16-bit (or Real) cube with a NULL band across it and an irregular NULL patch."""
    data = texture((300, 360), seed=seed, scale=3000.0) + 1000.0
    mask = np.zeros(data.shape, bool)
    mask[120:140, :] = True
    lines, samples = np.mgrid[:300, :360]
    mask |= (lines - 60) ** 2 / 30**2 + (samples - 250) ** 2 / 45**2 < 1
    data = np.round(data) if pixel_type == "SignedWord" else data.astype(np.float32)
    cube = write_cube(path, data, pixel_type=pixel_type, tile_size=128, mask=mask)
    return cube, np.ma.MaskedArray(data, mask)


@pytest.mark.parametrize("pixel_type", ["SignedWord", "Real"])
def test_cube_matches_array_and_avoids_null(pixel_type: str, tmp_path: Path) -> None:
    cube, truth = cube_with_null(tmp_path / "a.crop.cub", pixel_type)
    from_cube = extract(cube)  # opened by path through tiepoint.io
    from_array = extract(truth)
    assert len(from_cube) > 200
    np.testing.assert_allclose(from_cube.x, from_array.x, atol=1e-4)
    np.testing.assert_array_equal(from_cube.descriptors, from_array.descriptors)
    dist = ndimage.distance_transform_cdt(~truth.mask, metric="chessboard")
    assert dist[np.round(from_cube.y).astype(int), np.round(from_cube.x).astype(int)].min() > 8


def test_tiled_through_the_windowed_reader(tmp_path: Path) -> None:
    cube, truth = cube_with_null(tmp_path / "t.cub")
    config = FeaturesConfig(tile_threshold=10_000, tile_size=160, tile_overlap=64)
    with open_image(cube) as image:
        tiled = extract(image, config)
    assert len(tiled) == len(extract(truth, config)) > 200
    whole = extract(truth, FeaturesConfig(tile_threshold=10**12))
    assert abs(len(tiled) - len(whole)) < 0.01 * len(whole)


def mark(path: Path) -> None:
    with h5py.File(path, "a") as h5:
        h5.attrs["test_marker"] = 1


def marked(path: Path) -> bool:
    with h5py.File(path, "r") as h5:
        return "test_marker" in h5.attrs


def test_main_writes_skips_and_redoes(tmp_path: Path) -> None:
    cube, _ = cube_with_null(tmp_path / "a.crop.cub")
    path = main(cube)
    assert path == tmp_path / "a.crop.h5"
    kps, ground, attrs = read_keypoints(path)
    assert len(kps) > 200 and ground is None
    assert attrs["content_hash"] == content_hash(cube)
    assert attrs["image_path"] == str(cube.absolute())
    mark(path)
    assert main(cube) == path and marked(path)  # up to date: skipped
    main(cube, "sift-4k")  # other parameters: redone
    assert not marked(path) and len(read_keypoints(path).keypoints) <= 4096
    mark(path)
    main(cube, "sift-4k", overwrite=True)
    assert not marked(path)
    mark(path)
    main(cube, {**confs["sift-4k"], "edge_margin": 3})  # other settings: redone
    assert not marked(path)
    assert read_keypoints(path).attrs["settings"]["edge_margin"] == 3
    cube_with_null(cube, seed=9)  # new content, same name: redone
    assert read_keypoints(main(cube, "sift-4k")).attrs["content_hash"] == content_hash(cube)


def test_main_with_config_dir_and_ground(tmp_path: Path) -> None:
    cube, _ = cube_with_null(tmp_path / "b.cub")
    config = Config.model_validate({"output": {"keypoint_dir": str(tmp_path / "kp")}})

    def ground(kps):  # stands in for a camera: any per-keypoint arrays
        return {"lat": kps.y * 0.01, "lon": kps.x * 0.01}

    path = main(cube, config)  # no camera yet
    assert path == keypoint_path(cube, tmp_path / "kp") == tmp_path / "kp" / "b.h5"
    assert read_keypoints(path).ground is None
    mark(path)
    assert main(cube, config, ground=ground, content_hash=content_hash(cube)) == path
    assert not marked(path)  # a file without ground is not reused when ground is wanted
    mark(path)
    main(cube, config, ground=ground)
    assert marked(path)
    kps, stored, _ = read_keypoints(path)
    np.testing.assert_array_equal(stored["lat"], kps.y * 0.01)
    summary = summarize(path)
    assert summary.count == len(kps) and summary.extractor == "sift"
    assert summary.bbox == (kps.x.min(), kps.y.min(), kps.x.max(), kps.y.max())
    assert summarize(path, kps) == summary
    empty = write_keypoints(tmp_path / "e.h5", kps.select(slice(0, 0)), image_path=cube, content_hash="h")
    assert summarize(empty).count == 0 and summarize(empty).bbox is None


def test_main_unwritable_dir(tmp_path: Path) -> None:
    cube, _ = cube_with_null(tmp_path / "c.cub")
    (tmp_path / "blocker").write_text("")
    with pytest.raises(FeatureError, match="cannot write keypoints into folder"):
        main(cube, keypoint_dir=tmp_path / "blocker" / "kp")


def test_real_hirise_cube_with_null_pixels(cube_dir: Path) -> None:
    path = cube_dir / "HiRISE_no_change_before.cub"
    with open_image(path) as image:
        nodata = image.read().mask
        kps = extract(image)
    assert nodata.any() and len(kps) > 50
    dist = ndimage.distance_transform_cdt(~nodata, metric="chessboard")
    assert dist[np.round(kps.y).astype(int), np.round(kps.x).astype(int)].min() > 8


def test_module_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    cube, _ = cube_with_null(tmp_path / "d.cub")
    missing = tmp_path / "missing.cub"
    done = subprocess.run(
        [sys.executable, "-m", "tiepoint.features", str(cube), str(missing), "--conf", "orb",
         "--keypoint-dir", str(tmp_path / "kp")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1  # one image failed
    assert "missing.cub" in done.stderr and "Traceback" not in done.stderr
    path_text, count = done.stdout.strip().split("\t")
    kps = read_keypoints(path_text).keypoints
    assert Path(path_text) == tmp_path / "kp" / "d.h5" and int(count) == len(kps) > 0
    assert kps.extractor == "orb"


def test_path_is_reopened_as_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # extract(path) re-opens the cube every RELEASE_BYTES read (dropping its memory map); the keypoints
    # are those of the array, tile for tile
    from tiepoint.features import extraction

    cube, truth = cube_with_null(tmp_path / "r.cub")
    config = FeaturesConfig(tile_threshold=10_000, tile_size=160, tile_overlap=64)
    monkeypatch.setattr(extraction, "RELEASE_BYTES", 30_000)  # ~ every tile
    pages = extraction.Pages(cube)
    first = pages.source
    for l0 in range(0, 300, 50):
        pages.read(((l0, l0 + 50), (0, 360)))
    assert pages.source is not first and pages.source.shape == (300, 360)
    pages.close()
    reopened = extract(cube, config)
    np.testing.assert_array_equal(reopened.x, extract(truth, config).x)
    np.testing.assert_array_equal(reopened.descriptors, extract(truth, config).descriptors)
    with open_image(cube) as image:  # an open image is the caller's: used as it is, never closed
        pages = extraction.Pages(image)
        for l0 in range(0, 300, 50):
            pages.read(((l0, l0 + 50), (0, 360)))
        pages.close()
        assert pages.source is image and image.read(((0, 2), (0, 2))).shape == (2, 2)
