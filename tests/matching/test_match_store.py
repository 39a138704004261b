"""The match file: layout round trip, atomic writes, clear errors, where files go."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from tiepoint.errors import MatchingError
from tiepoint.matching import (
    FORMAT_VERSION,
    MatchFile,
    MatchTable,
    match_path,
    read_header,
    read_matches,
    write_matches,
)
from tiepoint.matching.store import FIELDS


def _content(n: int = 50, seed: int = 0) -> MatchFile:
    rng = np.random.default_rng(seed)
    raw = MatchTable(rng.integers(0, 10000, (n, 2)), *(rng.random(n) for _ in FIELDS))
    inlier = rng.random(n) < 0.7
    verified = raw.select(inlier)
    kept = rng.random(len(verified)) < 0.5
    attrs = {
        "key": "3-8", "image_a": "/data/a.cub", "image_b": "/data/b.cub",
        "source_a": {"path": "/k/a.h5", "content_hash": "abc", "count": 10000},
        "source_b": {"path": "/k/b.h5", "content_hash": "def", "count": 9000},
        "matching": {"matcher": {"name": "gated", "params": {"ratio": 0.8}}},
        "task_digest": "d1", "method": "gated",
        "summary": {"n_raw": n, "offset_m": [1.0, 2.0, 3.0], "inlier_ratio": float("nan")},
    }  # fmt: skip
    return MatchFile(raw, inlier, verified, kept, attrs)


def test_round_trip(tmp_path):
    content = _content()
    path = write_matches(tmp_path / "sub" / "a__b.h5", content)
    back = read_matches(path)
    np.testing.assert_array_equal(back.raw.matches, content.raw.matches)
    assert back.raw.matches.dtype == np.int32 and back.raw.matches.shape == (50, 2)
    for name in FIELDS:
        np.testing.assert_array_equal(
            getattr(back.verified, name), getattr(content.verified, name).astype(np.float32)
        )
    np.testing.assert_array_equal(back.inlier, content.inlier)
    np.testing.assert_array_equal(back.final.matches, content.verified.matches[content.kept])
    assert back.attrs["format_version"] == FORMAT_VERSION and back.attrs["coordinates"] == "opencv"
    assert back.attrs["summary"]["offset_m"] == [1.0, 2.0, 3.0]
    assert np.isnan(back.attrs["summary"]["inlier_ratio"])
    assert read_header(path)["source_b"]["content_hash"] == "def"
    assert path.stat().st_mode & 0o044  # readable by others as the umask allows, not mkstemp's 0600
    with h5py.File(path) as h5:  # the documented layout
        assert set(h5["raw"]) == {"matches", "inlier", *FIELDS}
        assert set(h5["verified"]) == {"matches", "kept", *FIELDS}


def test_empty_matches_keep_their_shapes(tmp_path):
    empty = MatchTable.empty()
    content = MatchFile(empty, np.zeros(0, bool), empty, np.zeros(0, bool), _content().attrs)
    back = read_matches(write_matches(tmp_path / "e.h5", content))
    assert back.raw.matches.shape == (0, 2) and back.final.distance.shape == (0,)


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    content = _content()
    del content.attrs["task_digest"]
    with pytest.raises(MatchingError, match="task_digest") as info:
        write_matches(tmp_path / "m.h5", content)
    assert info.value.path == str(tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []
    good = write_matches(tmp_path / "m.h5", _content(seed=1))
    before = good.read_bytes()
    with pytest.raises(MatchingError):
        write_matches(good, content)  # a failed rewrite keeps the old file intact
    assert good.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


def test_inconsistent_tables_are_refused():
    with pytest.raises(MatchingError, match="per-match arrays"):
        MatchTable(np.zeros((3, 2)), np.zeros(3), np.zeros(2), np.zeros(3), np.zeros(3))
    content = _content()
    content.kept = content.kept[:-1]
    with pytest.raises(MatchingError, match="disagree"):
        write_matches("/tmp/never-written.h5", content)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(MatchingError, match=r"missing\.h5: match file does not exist"):
        read_matches(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(MatchingError, match=r"junk\.h5: not a readable match file"):
        read_matches(junk)
    with pytest.raises(MatchingError, match=r"junk\.h5"):
        read_header(junk)
    old = write_matches(tmp_path / "old.h5", _content())
    with h5py.File(old, "r+") as h5:
        h5.attrs["format_version"] = 99
    with pytest.raises(MatchingError, match=r"old\.h5: unsupported match file format_version 99"):
        read_matches(old)
    partial = write_matches(tmp_path / "partial.h5", _content())
    with h5py.File(partial, "r+") as h5:
        del h5["verified/kept"]
    with pytest.raises(MatchingError, match=r"partial\.h5"):
        read_matches(partial)


def test_match_path_beside_keypoints_or_in_match_dir(tmp_path):
    ka, kb = tmp_path / "kp" / "G02.crop.h5", Path("/elsewhere/N06.crop.h5")
    assert match_path(ka, kb) == tmp_path / "kp" / "matches" / "G02.crop__N06.crop.h5"
    assert match_path(ka, kb, tmp_path / "m") == tmp_path / "m" / "G02.crop__N06.crop.h5"
    assert match_path(kb, ka) != match_path(ka, kb)  # side a first: the dispatcher orders pairs by id
