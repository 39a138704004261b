"""Keypoint files: bounded temporary names, the umask's mode, errors naming the image, hostile files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from feature_images import texture

from tiepoint.config import FeaturesConfig
from tiepoint.errors import FeatureError
from tiepoint.features import (
    extract,
    keypoint_path,
    read_header,
    read_keypoints,
    read_positions,
    write_keypoints,
)
from tiepoint.features.stage import is_current, summarize


@pytest.fixture(scope="module")
def kps():
    return extract(texture((120, 140)))


def _name_max(folder: Path) -> int:
    return os.pathconf(folder, "PC_NAME_MAX")


@pytest.mark.parametrize(
    "stem", ["a" * 240, "é" * 125, "x" * 200 + ".crop" * 9], ids=["240-ascii", "utf8", "dots"]
)
def test_long_image_names(kps, tmp_path, stem):
    image = tmp_path / f"{stem}.cub"
    assert len(image.name.encode()) <= _name_max(tmp_path)  # a name the file system allows
    path = write_keypoints(keypoint_path(image), kps, image_path=image, content_hash="h")
    assert path == tmp_path / f"{stem}.h5"
    assert len(read_keypoints(path).keypoints) == len(kps)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_keypoint_name_over_the_limit_names_the_image(kps, tmp_path):
    image = tmp_path / ("x" * (_name_max(tmp_path) - 2) + ".c")  # allowed; its <stem>.h5 is 1 byte too long
    with pytest.raises(FeatureError) as err:
        write_keypoints(keypoint_path(image), kps, image_path=image, content_hash="h")
    assert str(image) in str(err.value) and os.strerror(36) in str(err.value)  # ENAMETOOLONG
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o027])
def test_mode_follows_the_umask(kps, tmp_path, umask):
    old = os.umask(umask)
    try:
        path = write_keypoints(tmp_path / "k.h5", kps, image_path="a.cub", content_hash="h")
        with open(tmp_path / "plain", "w"):  # what any tool makes under this umask
            pass
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777 == 0o666 & ~umask


HOSTILE = [
    None,
    np.float64(np.nan),
    "x",
    np.zeros((2, 2)),
    np.array([b"\xff\xfe"]),
    b"\xff",
    -1,
    np.array([]),
    "[",
]


def _readers(path: Path):
    return {
        "read_keypoints": lambda: read_keypoints(path),
        "read_positions": lambda: read_positions(path),
        "read_header": lambda: read_header(path),
        "summarize": lambda: summarize(path),
    }


def test_hostile_keypoint_files_raise_feature_errors(kps, tmp_path):
    """Replace (or delete: None) each dataset and attribute of a real file in turn: every reader raises a
    FeatureError naming the file, or reads it; ``is_current`` says False rather than raising."""
    n = len(kps)
    good = write_keypoints(
        tmp_path / "good.h5",
        kps,
        image_path="a.cub",
        content_hash="h",
        ground={k: np.zeros(n) for k in "xyz"},
    )
    with h5py.File(good) as h5:
        names: list[str] = []
        h5.visit(names.append)
        attrs = list(h5.attrs)
    path = tmp_path / "hostile.h5"
    unexpected = []
    for kind, key in [("node", name) for name in names] + [("attr", a) for a in attrs]:
        for value in HOSTILE:
            shutil.copy(good, path)
            with h5py.File(path, "a") as h5:
                where = h5 if kind == "node" else h5.attrs
                del where[key]
                if value is not None:
                    where[key] = value
            for reader, call in _readers(path).items():
                try:
                    call()
                except FeatureError as err:
                    if err.path != str(path):
                        unexpected.append((key, value, reader, f"does not name the file: {err}"))
                except Exception as err:
                    unexpected.append((key, value, reader, f"{type(err).__name__}: {err}"))
            try:
                is_current(path, "h", FeaturesConfig(), need_ground=True)
            except Exception as err:
                unexpected.append((key, value, "is_current", f"{type(err).__name__}: {err}"))
    assert not unexpected, unexpected[:10]
