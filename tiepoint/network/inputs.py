"""What building points reads from files: the pairs' final matches and the keypoints they name.

File I/O only (no database): one read per match file and one per keypoint file, whatever the
number of matches; everything after is column arrays.

- :func:`read_pair_matches`: the final (verified, kept) matches of many pairs as one set of
  columns; a pair whose file cannot be read is reported, not fatal.
- :func:`read_keypoint_rows`: positions and body-fixed ground positions of chosen rows of keypoint
  files (the ``/keypoints/x,y`` and ``/ground/x,y,z`` datasets of :mod:`tiepoint.features.store`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from tiepoint.errors import FeatureError, MatchingError, TiepointError


@dataclass(slots=True)
class PairMatches:
    """Matches of many pairs: match ``i`` joins row ``kp_a[i]`` of image ``image_a[i]`` to row
    ``kp_b[i]`` of image ``image_b[i]``."""

    image_a: np.ndarray
    kp_a: np.ndarray
    image_b: np.ndarray
    kp_b: np.ndarray
    score: np.ndarray
    """(N,) Lowe ratio of the match (lower is better)."""
    pair: np.ndarray
    """(N,) index of the match's pair in the pairs given."""
    failed: list[tuple[int, str]] = field(default_factory=list)
    """``(pair index, error message naming the file)`` of the pairs whose file could not be read."""

    def __len__(self) -> int:
        return len(self.image_a)


def read_pair_matches(
    paths: Sequence[str | os.PathLike[str]], image_a: Sequence[int], image_b: Sequence[int]
) -> PairMatches:
    """The final matches of each pair's match file (:func:`tiepoint.matching.read_matches`).

    Parameters
    ----------
    paths : sequence of path
        Match files, one per pair.
    image_a, image_b : sequence of int
        The image ids of each pair's sides a and b (the match file's row order).
    """
    from tiepoint.matching import read_matches

    cols: list[list[np.ndarray]] = [[], [], [], [], [], []]
    failed: list[tuple[int, str]] = []
    for k, (path, a, b) in enumerate(zip(paths, image_a, image_b, strict=True)):
        try:
            final = read_matches(path).final
        except MatchingError as exc:
            failed.append((k, str(exc)))
            continue
        n = len(final)
        for col, values in zip(
            cols,
            (
                np.full(n, a),
                final.matches[:, 0],
                np.full(n, b),
                final.matches[:, 1],
                final.ratio,
                np.full(n, k),
            ),
            strict=True,
        ):
            col.append(values)
    ints = [np.concatenate(c).astype(np.int64) if c else np.empty(0, np.int64) for c in cols[:4]]
    score = np.concatenate(cols[4]).astype(np.float64) if cols[4] else np.empty(0)
    pair = np.concatenate(cols[5]).astype(np.int64) if cols[5] else np.empty(0, np.int64)
    return PairMatches(*ints, score, pair, failed)


@dataclass(slots=True)
class KeypointRows:
    """Positions of keypoint rows: ``x``, ``y`` (OpenCV) and body-fixed ``ground`` (N, 3), NaN
    where a keypoint's ray missed the body or the file has no ground positions."""

    x: np.ndarray
    y: np.ndarray
    ground: np.ndarray


def _dataset(h5: h5py.File, name: str, n: int, path: Path) -> np.ndarray:
    node = h5.get(name)
    if not isinstance(node, h5py.Dataset) or node.shape != (n,):
        got = "missing" if node is None else f"shape {getattr(node, 'shape', None)}"
        raise FeatureError(
            f"not a readable keypoint file: /{name} must have {n} rows (count), got {got}", path
        )
    return np.asarray(node[()], dtype=np.float64)


def read_keypoint_rows(path: str | os.PathLike[str], rows: np.ndarray) -> KeypointRows:
    """``x``, ``y`` and ground positions of the keypoints at *rows* of one keypoint file.

    Raises
    ------
    FeatureError
        The file is missing or unreadable, or a row is outside its keypoints (naming the file).
    """
    from tiepoint.features.store import read_header

    path = Path(path)
    rows = np.asarray(rows, dtype=np.int64)
    attrs, has_ground = read_header(path)  # checks the format version and the count
    n = int(attrs["count"])
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        bad = rows[(rows < 0) | (rows >= n)][0]
        raise FeatureError(f"a match names keypoint row {bad}, but the file has {n} keypoints", path)
    try:
        with h5py.File(path, "r") as h5:
            x = _dataset(h5, "keypoints/x", n, path)[rows]
            y = _dataset(h5, "keypoints/y", n, path)[rows]
            if has_ground:
                ground = np.stack([_dataset(h5, f"ground/{c}", n, path)[rows] for c in "xyz"], axis=1)
            else:
                ground = np.full((len(rows), 3), np.nan)
    except TiepointError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise FeatureError(f"not a readable keypoint file: {exc}", path) from None
    return KeypointRows(x, y, ground)


def lookup_keypoints(files: Mapping[int, str], image: np.ndarray, keypoint: np.ndarray) -> KeypointRows:
    """Positions of ``(image, keypoint row)`` nodes, reading each image's file once.

    Parameters
    ----------
    files : mapping of image id to keypoint file
    image, keypoint : (N,) int
    """
    image = np.asarray(image, dtype=np.int64)
    keypoint = np.asarray(keypoint, dtype=np.int64)
    x, y, ground = np.full(len(image), np.nan), np.full(len(image), np.nan), np.full((len(image), 3), np.nan)
    order = np.argsort(image, kind="stable")
    ids, starts = np.unique(image[order], return_index=True)
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    for img, a, b in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True):  # one read per image
        idx = order[a:b]
        path = files.get(img)
        if path is None:
            raise FeatureError(f"image {img} has no keypoint file in the database")
        wanted, inverse = np.unique(keypoint[idx], return_inverse=True)
        got = read_keypoint_rows(path, wanted)
        x[idx], y[idx], ground[idx] = got.x[inverse], got.y[inverse], got.ground[inverse]
    return KeypointRows(x, y, ground)


__all__ = ["KeypointRows", "PairMatches", "lookup_keypoints", "read_keypoint_rows", "read_pair_matches"]
