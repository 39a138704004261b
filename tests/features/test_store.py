"""The HDF5 keypoint store: layout, round trip, atomic writes, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
from feature_images import texture

from tiepoint.errors import FeatureError
from tiepoint.features import FORMAT_VERSION, extract, keypoint_path, read_keypoints, write_keypoints
from tiepoint.features import store as store_module


@pytest.fixture(scope="module")
def kps():
    return extract(texture((200, 240)))


def test_keypoint_path(tmp_path: Path) -> None:
    assert keypoint_path("/data/a.crop.cub") == Path("/data/a.crop.h5")
    assert keypoint_path("/data/a.crop.cub", tmp_path) == tmp_path / "a.crop.h5"
    assert keypoint_path(Path("rel/B10.lbl"), "out") == Path("out/B10.h5")


def test_round_trip(kps, tmp_path: Path) -> None:
    n = len(kps)
    rng = np.random.default_rng(0)
    ground = {k: rng.normal(size=n) for k in ("x", "y", "z", "lat", "lon")}
    path = write_keypoints(
        tmp_path / "a.h5", kps, image_path="img/a.cub", content_hash="abc123", ground=ground
    )
    back, ground_back, attrs = read_keypoints(path)
    for name in ("x", "y", "response", "size", "angle", "octave", "descriptors"):
        got, want = getattr(back, name), getattr(kps, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert back.extractor == kps.extractor == attrs["extractor"] == "sift"
    assert back.params == kps.params == attrs["params"]
    for name, values in ground.items():
        np.testing.assert_array_equal(ground_back[name], values)
    assert attrs["image_path"] == str(Path("img/a.cub").absolute())
    assert attrs["content_hash"] == "abc123" and attrs["count"] == n
    assert attrs["format_version"] == FORMAT_VERSION
    # the documented layout, read with plain h5py
    with h5py.File(path) as h5:
        assert sorted(h5) == ["descriptors", "ground", "keypoints"]
        assert sorted(h5["keypoints"]) == sorted(["x", "y", "response", "size", "angle", "octave"])
        assert h5["descriptors"].shape == (n, 128)


def test_ground_must_match(kps, tmp_path: Path) -> None:
    with pytest.raises(FeatureError, match="one value per keypoint"):
        write_keypoints(tmp_path / "a.h5", kps, image_path="a", content_hash="h", ground={"lat": np.zeros(3)})
    with pytest.raises(FeatureError, match="unknown ground field"):
        write_keypoints(
            tmp_path / "a.h5", kps, image_path="a", content_hash="h", ground={"h": np.zeros(len(kps))}
        )
    assert not list(tmp_path.iterdir())


def test_crash_while_writing_keeps_the_old_file(kps, tmp_path: Path, monkeypatch) -> None:
    path = write_keypoints(tmp_path / "a.h5", kps.select(slice(0, 10)), image_path="a", content_hash="old")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if the worker were killed mid-write

    monkeypatch.setattr(store_module, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        write_keypoints(path, kps, image_path="a", content_hash="new")
    assert [p.name for p in tmp_path.iterdir()] == ["a.h5"]  # no temp file left behind
    assert read_keypoints(path).attrs["content_hash"] == "old"


def test_partial_file_is_rejected(kps, tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as h5:  # what a non-atomic writer could leave: no version attribute
        h5.create_group("keypoints").create_dataset("x", data=kps.x)
    with pytest.raises(FeatureError, match=r"a\.h5: unsupported keypoint format_version None"):
        read_keypoints(path)


def test_bad_files_are_named(kps, tmp_path: Path) -> None:
    with pytest.raises(FeatureError, match=r"missing\.h5: keypoint file does not exist"):
        read_keypoints(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(FeatureError, match=r"junk\.h5: not a readable keypoint file"):
        read_keypoints(junk)
    path = write_keypoints(tmp_path / "v.h5", kps, image_path="a", content_hash="h")
    with h5py.File(path, "a") as h5:
        h5.attrs["format_version"] = 99
    with pytest.raises(FeatureError, match=r"v\.h5: unsupported keypoint format_version 99"):
        read_keypoints(path)
    with h5py.File(path, "a") as h5:
        h5.attrs["format_version"] = FORMAT_VERSION
        del h5["descriptors"]
    with pytest.raises(FeatureError, match=r"v\.h5: not a readable keypoint file"):
        read_keypoints(path)


def test_unwritable_output_folder(kps, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(FeatureError, match=r"file/sub: cannot write keypoints into folder"):
        write_keypoints(blocker / "sub" / "a.h5", kps, image_path="a", content_hash="h")
    if os.geteuid() != 0:  # root ignores permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(FeatureError, match="locked: cannot write keypoints into folder"):
            write_keypoints(locked / "a.h5", kps, image_path="a", content_hash="h")


def test_missing_folder_is_created(kps, tmp_path: Path) -> None:
    path = write_keypoints(tmp_path / "new" / "dir" / "a.h5", kps, image_path="a", content_hash="h")
    assert len(read_keypoints(path).keypoints) == len(kps)


def test_header_and_positions_read_no_descriptors(kps, tmp_path: Path) -> None:
    from tiepoint.features import read_header, read_positions

    ground = {"lat": np.zeros(len(kps))}
    with_ground = write_keypoints(tmp_path / "g.h5", kps, image_path="a", content_hash="h", ground=ground,
                                  settings={"edge_margin": 8})  # fmt: skip
    without = write_keypoints(tmp_path / "n.h5", kps, image_path="a", content_hash="h")
    attrs, has_ground = read_header(with_ground)
    assert has_ground and attrs["settings"] == {"edge_margin": 8} and attrs["params"] == kps.params
    assert read_header(without)[1] is False and read_header(without)[0]["settings"] == {}
    x, y, attrs = read_positions(without)
    np.testing.assert_array_equal(x, kps.x)
    np.testing.assert_array_equal(y, kps.y)
    with pytest.raises(FeatureError, match="does not exist"):
        read_header(tmp_path / "none.h5")
