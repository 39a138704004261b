"""The match store: one HDF5 file per image pair.

Where
-----
:func:`match_path`: ``<match_dir>/<stem_a>__<stem_b>.h5``, where ``stem`` is the keypoint file's
stem (so the image's: ``a.crop.cub`` -> ``a.crop.h5`` -> ``a.crop``) and ``match_dir`` is
``MatchingConfig.match_dir`` or, when unset, a ``matches`` folder beside image a's keypoint file.
Side ``a`` is the image with the smaller database id (see :func:`tiepoint.records.pair_key`); the
dispatcher fills ``PairTask.output`` with this function. At 10,000 images x 10 neighbours x 1,000
matches a file holds ~1,000 rows (~40 KB): files scale with pairs, the database only keeps a summary.

Layout (``format_version`` 1)
-----------------------------
::

    /                           attrs: format_version (int), key (str), image_a, image_b (absolute
                                       paths), source_a, source_b (JSON: each keypoint file's path,
                                       content_hash, settings, extractor, params, count, created),
                                       matching (JSON: matcher name and full parameters, verification
                                       and thinning settings), task_digest (str: hash of the overlap
                                       and camera states), method (str), summary (JSON: counts, inlier
                                       ratio, offset, residual statistics, matcher info, timings),
                                       coordinates ("opencv"), created (ISO 8601 UTC), tiepoint_version
    /raw/matches                int32   (N, 2)  keypoint rows [row in a's file, row in b's file]
    /raw/distance               float32 (N,)    descriptor distance (L2, or Hamming bits)
    /raw/ratio                  float32 (N,)    best / second-best distance (0: one candidate)
    /raw/ground_residual_m      float32 (N,)    ground offset minus its local median (NaN: no cameras)
    /raw/residual_px            float32 (N,)    distance to the local image model (NaN: none fitted)
    /raw/inlier                 bool    (N,)    passed geometric verification
    /verified/...               the same five datasets for the inliers only (M rows), and
    /verified/kept              bool    (M,)    kept by thinning: the pair's final matches

Raw and verified matches are kept apart (COLMAP's ``matches`` and ``two_view_geometries``); row
``i`` of every dataset of a group is match ``i``. Files are written to a temporary file in the target
folder and renamed over the target, so an interrupted job never leaves a file that looks valid.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from tiepoint.atomic import commit, temporary_beside
from tiepoint.errors import MatchingError

FORMAT_VERSION = 1
FIELDS = ("distance", "ratio", "ground_residual_m", "residual_px")
JSON_ATTRS = ("source_a", "source_b", "matching", "summary")


@dataclass(slots=True, eq=False)
class MatchTable:
    """Matches as keypoint-row pairs with per-match values (one group of a match file)."""

    matches: np.ndarray
    """(N, 2) int32: [row in a's keypoint file, row in b's]."""
    distance: np.ndarray
    ratio: np.ndarray
    ground_residual_m: np.ndarray
    residual_px: np.ndarray

    def __post_init__(self) -> None:
        self.matches = np.ascontiguousarray(self.matches, dtype=np.int32).reshape(-1, 2)
        for name in FIELDS:
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32).reshape(-1))
        wrong = {k: len(getattr(self, k)) for k in FIELDS if len(getattr(self, k)) != len(self.matches)}
        if wrong:
            raise MatchingError(f"{len(self.matches)} matches but per-match arrays of lengths {wrong}")

    def __len__(self) -> int:
        return len(self.matches)

    def select(self, keep: np.ndarray) -> MatchTable:
        """The rows selected by ``keep`` (mask or indices)."""
        return MatchTable(self.matches[keep], *(getattr(self, k)[keep] for k in FIELDS))

    @classmethod
    def empty(cls) -> MatchTable:
        """No matches."""
        return cls(np.empty((0, 2), np.int32), *(np.empty(0, np.float32) for _ in FIELDS))


@dataclass(slots=True, eq=False)
class MatchFile:
    """The content of a match file."""

    raw: MatchTable
    inlier: np.ndarray
    """(len(raw),) bool."""
    verified: MatchTable
    kept: np.ndarray
    """(len(verified),) bool: the final, thinned matches."""
    attrs: dict[str, Any]

    @property
    def final(self) -> MatchTable:
        """The verified matches kept by thinning."""
        return self.verified.select(self.kept)


def match_path(
    keypoints_a: str | os.PathLike[str],
    keypoints_b: str | os.PathLike[str],
    match_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Where the matches of the pair (a, b) are stored (see the module docstring).

    Parameters
    ----------
    keypoints_a, keypoints_b : path
        The two keypoint files, side a first (the image with the smaller id).
    match_dir : path, optional
        ``MatchingConfig.match_dir``; None: ``matches/`` beside ``keypoints_a``.
    """
    ka, kb = Path(keypoints_a), Path(keypoints_b)
    folder = ka.parent / "matches" if match_dir is None else Path(match_dir)
    return folder / f"{ka.stem}__{kb.stem}.h5"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_plain_json)


def _plain_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_matches(path: str | os.PathLike[str], content: MatchFile) -> Path:
    """Write a match file atomically (temporary file in the same folder, then rename).

    ``content.attrs`` must hold ``key``, ``image_a``, ``image_b``, ``source_a``, ``source_b``,
    ``matching``, ``task_digest``, ``method`` and ``summary``; the rest of the root attributes are
    added here.

    Raises
    ------
    MatchingError
        The folder cannot be created or written, or the content is inconsistent.
    """
    path = Path(path)
    if len(content.inlier) != len(content.raw) or len(content.kept) != len(content.verified):
        raise MatchingError("inlier/kept masks disagree with the match tables in length", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_beside(path)
    except OSError as exc:
        raise MatchingError(f"cannot write matches into folder: {exc.strerror or exc}", path.parent) from None
    try:
        with h5py.File(tmp, "w") as h5:
            _write(h5, content)
        commit(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise MatchingError(f"cannot write match file: {exc.strerror or exc}", path) from None
        if isinstance(exc, KeyError):
            raise MatchingError(f"match file attribute missing: {exc}", path) from None
        raise
    return path


def _write(h5: h5py.File, content: MatchFile) -> None:
    from tiepoint import __version__

    groups = (("raw", content.raw, "inlier", content.inlier),
              ("verified", content.verified, "kept", content.kept))  # fmt: skip
    for group_name, table, flag_name, flag in groups:
        group = h5.create_group(group_name)
        group.create_dataset("matches", data=table.matches)
        for name in FIELDS:
            group.create_dataset(name, data=getattr(table, name))
        group.create_dataset(flag_name, data=np.asarray(flag, dtype=bool))
    attrs = content.attrs
    for name in ("key", "image_a", "image_b", "task_digest", "method"):
        h5.attrs[name] = str(attrs[name])
    for name in JSON_ATTRS:
        h5.attrs[name] = _json(attrs[name])
    h5.attrs["coordinates"] = "opencv"
    h5.attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    h5.attrs["tiepoint_version"] = __version__
    h5.attrs["format_version"] = FORMAT_VERSION


def _attrs(h5: h5py.File, path: Path) -> dict[str, Any]:
    attrs = {k: (v.decode() if isinstance(v, bytes) else v.item() if isinstance(v, np.generic) else v)
             for k, v in h5.attrs.items()}  # fmt: skip
    if attrs.get("format_version") != FORMAT_VERSION:
        raise MatchingError(f"unsupported match file format_version {attrs.get('format_version')!r} "
                            f"(this tiepoint reads {FORMAT_VERSION})", path)  # fmt: skip
    try:
        for name in JSON_ATTRS:
            attrs[name] = json.loads(attrs[name])
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise MatchingError(f"match file attribute {exc} missing or not JSON", path) from None
    return attrs


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The root attributes of a match file (JSON ones decoded); reads no arrays.

    Raises
    ------
    MatchingError
        The file is missing, not HDF5, or of another format version (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise MatchingError("match file does not exist", path)
    try:
        with h5py.File(path, "r") as h5:
            return _attrs(h5, path)
    except MatchingError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise MatchingError(f"not a readable match file: {exc}", path) from None


def read_matches(path: str | os.PathLike[str]) -> MatchFile:
    """Read a match file written by :func:`write_matches`.

    Raises
    ------
    MatchingError
        The file is missing, not HDF5, of another format version, or incomplete.
    """
    path = Path(path)
    if not path.is_file():
        raise MatchingError("match file does not exist", path)
    try:
        with h5py.File(path, "r") as h5:
            attrs = _attrs(h5, path)
            tables, flags = [], []
            for group_name, flag_name in (("raw", "inlier"), ("verified", "kept")):
                group = h5[group_name]
                tables.append(MatchTable(group["matches"][()], *(group[k][()] for k in FIELDS)))
                flags.append(np.asarray(group[flag_name][()], dtype=bool))
    except MatchingError as exc:
        raise MatchingError(exc.message, path) from None
    except (OSError, KeyError, ValueError) as exc:
        raise MatchingError(f"not a readable match file: {exc}", path) from None
    content = MatchFile(tables[0], flags[0], tables[1], flags[1], attrs)
    if len(content.inlier) != len(content.raw) or len(content.kept) != len(content.verified):
        raise MatchingError("inconsistent match file: masks and tables differ in length", path)
    return content
