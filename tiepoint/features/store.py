"""The keypoint store: one HDF5 file per image.

Where
-----
``<image-stem>.h5`` beside the image, or in ``OutputConfig.keypoint_dir`` when set (see
:func:`keypoint_path`; the stem of ``a.crop.cub`` is ``a.crop``).

Layout (``format_version`` 1)
-----------------------------
::

    /                         attrs: format_version (int), extractor (str), params (JSON str),
                                     settings (JSON str: stretch/tiling/edge margin used),
                                     image_path (str, absolute), content_hash (str), count (int),
                                     descriptor_dtype (str), coordinates ("opencv"), created (ISO 8601
                                     UTC), tiepoint_version (str)
    /keypoints/x              float64 (N,)   sample, OpenCV convention (centre of first pixel at 0)
    /keypoints/y              float64 (N,)   line, same convention
    /keypoints/response       float32 (N,)
    /keypoints/size           float32 (N,)   px
    /keypoints/angle          float32 (N,)   degrees, -1 if none
    /keypoints/octave         int32   (N,)   as packed by OpenCV
    /descriptors              uint8 or float32 (N, D)
    /ground/x, /ground/y, /ground/z   float64 (N,)  body-fixed metres   (only when a camera exists;
    /ground/lat, /ground/lon         float64 (N,)  degrees               NaN where the ray misses)

Row ``i`` of every dataset is keypoint ``i``. Files are written to a temporary file in the target
folder (``.<name>.<random>.tmp``, at most 255 bytes whatever the image name) and renamed over the
target (:func:`os.replace`), so a crash never leaves a file that looks valid; the ``format_version``
attribute is written last before the rename. Files get mode ``0o666`` less the umask, as any tool's do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from tiepoint.atomic import commit, temporary_beside
from tiepoint.errors import FeatureError
from tiepoint.features.keypoints import Keypoints

FORMAT_VERSION = 1
KEYPOINT_FIELDS = ("x", "y", "response", "size", "angle", "octave")
GROUND_FIELDS = ("x", "y", "z", "lat", "lon")


@dataclass(slots=True)
class KeypointFile:
    """What :func:`read_keypoints` returns (also unpacks as ``keypoints, ground, attrs``)."""

    keypoints: Keypoints
    ground: dict[str, np.ndarray] | None
    attrs: dict[str, Any]

    def __iter__(self):
        return iter((self.keypoints, self.ground, self.attrs))


def keypoint_path(
    image_path: str | os.PathLike[str], keypoint_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Where the keypoints of ``image_path`` are stored.

    Parameters
    ----------
    image_path : path
        The image; only its name is used when ``keypoint_dir`` is given.
    keypoint_dir : path, optional
        Folder for all keypoint files; None puts the file beside the image.

    Returns
    -------
    Path
        ``<folder>/<image-stem>.h5`` (the stem drops only the last suffix: ``a.crop.cub`` -> ``a.crop``).
    """
    image_path = Path(image_path)
    folder = image_path.parent if keypoint_dir is None else Path(keypoint_dir)
    return folder / f"{image_path.stem}.h5"


def _check_ground(ground: dict[str, Any] | None, n: int, path: Path) -> dict[str, np.ndarray] | None:
    if ground is None:
        return None
    unknown = sorted(set(ground) - set(GROUND_FIELDS))
    if unknown:
        raise FeatureError(f"unknown ground field(s) {unknown}; allowed: {list(GROUND_FIELDS)}", path)
    out = {k: np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for k, v in ground.items()}
    wrong = {k: v.shape[0] for k, v in out.items() if v.shape[0] != n}
    if wrong:
        raise FeatureError(f"ground arrays must have one value per keypoint ({n}); got {wrong}", path)
    return out


def write_keypoints(
    path: str | os.PathLike[str],
    keypoints: Keypoints,
    *,
    image_path: str | os.PathLike[str],
    content_hash: str,
    ground: dict[str, np.ndarray] | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """Write an image's keypoints atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    path : path
        Target file (see :func:`keypoint_path`); its folder is created if missing.
    keypoints : Keypoints
    image_path : path
        The image they came from (stored absolute).
    content_hash : str
        The image content hash (``tiepoint.io.content_hash``), to tell a stale file.
    ground : dict of arrays, optional
        Any of ``x, y, z`` (body-fixed m) and ``lat, lon`` (degrees), one value per keypoint.
    settings : dict, optional
        The other extraction settings (stretch, tiling, edge margin), stored as JSON in ``settings``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FeatureError
        The folder cannot be created or written, or the arrays disagree in length.
    """
    path = Path(path)
    ground = _check_ground(ground, len(keypoints), path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_beside(path)
    except OSError as exc:
        raise FeatureError(
            f"cannot write keypoints into folder: {exc.strerror or exc} (keypoints of image {image_path})",
            path.parent,
        ) from None
    try:
        with h5py.File(tmp, "w") as h5:
            _write(h5, keypoints, ground, image_path, content_hash, settings or {})
        commit(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise FeatureError(
                f"cannot write keypoint file: {exc.strerror or exc} (keypoints of image {image_path})", path
            ) from None
        raise
    return path


def _write(
    h5: h5py.File,
    keypoints: Keypoints,
    ground: dict[str, np.ndarray] | None,
    image_path: str | os.PathLike[str],
    content_hash: str,
    settings: dict[str, Any],
) -> None:
    from tiepoint import __version__

    group = h5.create_group("keypoints")
    for name in KEYPOINT_FIELDS:
        group.create_dataset(name, data=getattr(keypoints, name))
    h5.create_dataset("descriptors", data=keypoints.descriptors)
    if ground is not None:
        g = h5.create_group("ground")
        for name, values in ground.items():
            g.create_dataset(name, data=values)
    attrs = h5.attrs
    attrs["extractor"] = keypoints.extractor
    attrs["params"] = json.dumps(keypoints.params, sort_keys=True, default=str)
    attrs["settings"] = json.dumps(settings, sort_keys=True, default=str)
    attrs["image_path"] = str(Path(image_path).absolute())
    attrs["content_hash"] = str(content_hash)
    attrs["count"] = len(keypoints)
    attrs["descriptor_dtype"] = keypoints.descriptors.dtype.name
    attrs["coordinates"] = "opencv"
    attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    attrs["tiepoint_version"] = __version__
    attrs["format_version"] = FORMAT_VERSION


def read_positions(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Only ``x``, ``y`` and the attributes of a keypoint file (no descriptors); errors as
    :func:`read_keypoints`."""
    path = Path(path)
    with _opened(path) as (h5, attrs):
        n = attrs["count"]
        x, y = _column(h5, "keypoints/x", n, path), _column(h5, "keypoints/y", n, path)
    _decode_json_attrs(attrs, path)
    return x, y, attrs


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bool]:
    """The attributes of a keypoint file and whether it has ground coordinates (reads no arrays)."""
    path = Path(path)
    with _opened(path) as (h5, attrs):
        has_ground = "ground" in h5
    _decode_json_attrs(attrs, path)
    return attrs, has_ground


@contextmanager
def _opened(path: Path) -> Iterator[tuple[h5py.File, dict[str, Any]]]:
    """Open a keypoint file for reading, its attributes checked; read errors inside the block
    (missing datasets, corrupt data) become a :class:`FeatureError` naming the file."""
    if not path.is_file():
        raise FeatureError("keypoint file does not exist", path)
    try:
        with h5py.File(path, "r") as h5:
            yield h5, _attrs(h5, path)
    except FeatureError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise FeatureError(f"{_UNREADABLE}: {exc}", path) from None


_UNREADABLE = "not a readable keypoint file"
_STR_ATTRS = ("extractor", "params", "settings", "image_path", "content_hash", "descriptor_dtype")


def _attrs(h5: h5py.File, path: Path) -> dict[str, Any]:
    """The root attributes, with the format version, the string attributes and ``count`` checked."""
    attrs = {k: _plain(v) for k, v in h5.attrs.items()}
    version = attrs.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise FeatureError(
            f"unsupported keypoint format_version {version!r} (this tiepoint reads {FORMAT_VERSION})", path
        )
    for key in _STR_ATTRS:
        if not isinstance(attrs.get(key), str):
            got = "missing" if key not in attrs else f"{type(attrs[key]).__name__} {attrs[key]!r}"
            raise FeatureError(f"{_UNREADABLE}: attribute {key} is not a string ({got})", path)
    count = attrs.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise FeatureError(f"{_UNREADABLE}: attribute count is {count!r}, not a number >= 0", path)
    return attrs


def _decode_json_attrs(attrs: dict[str, Any], path: Path) -> None:
    for key in ("params", "settings"):
        try:
            value = json.loads(attrs.get(key, "{}"))
        except ValueError as exc:
            raise FeatureError(f"{_UNREADABLE}: attribute {key} is not JSON: {exc}", path) from None
        if not isinstance(value, dict):
            raise FeatureError(f"{_UNREADABLE}: attribute {key} is not a JSON object", path)
        attrs[key] = value


def _column(h5: h5py.File, name: str, n: int, path: Path) -> np.ndarray:
    """Dataset ``name``: numeric, one row per keypoint (``(n,)``, or ``(n, D)`` for the descriptors)."""
    node = h5.get(name)
    ndim = 2 if name == "descriptors" else 1
    if not isinstance(node, h5py.Dataset) or node.ndim != ndim or node.shape[0] != n:
        what = "missing" if node is None else f"shape {getattr(node, 'shape', None)}"
        raise FeatureError(
            f"{_UNREADABLE}: /{name} must be a {ndim}-D dataset with {n} rows (count), got {what}",
            path,
        )
    if node.dtype.kind not in "biuf":
        raise FeatureError(f"{_UNREADABLE}: /{name} is not numeric ({node.dtype})", path)
    return node[()]


def read_keypoints(path: str | os.PathLike[str]) -> KeypointFile:
    """Read a keypoint file written by :func:`write_keypoints`.

    Returns
    -------
    KeypointFile
        ``keypoints``, ``ground`` (dict of arrays or None) and ``attrs`` (dict; ``params`` decoded).

    Raises
    ------
    FeatureError
        The file is missing, not HDF5, of another format version, or incomplete or inconsistent (a
        missing or mistyped attribute or dataset, a row count other than ``count``); the message names it.
    """
    path = Path(path)
    with _opened(path) as (h5, attrs):
        n = attrs["count"]
        arrays = {name: _column(h5, f"keypoints/{name}", n, path) for name in KEYPOINT_FIELDS}
        descriptors = _column(h5, "descriptors", n, path)
        ground = None
        if "ground" in h5:
            if not isinstance(h5["ground"], h5py.Group) or not set(h5["ground"]) <= set(GROUND_FIELDS):
                raise FeatureError(f"{_UNREADABLE}: /ground must hold only {GROUND_FIELDS}", path)
            ground = {name: _column(h5, f"ground/{name}", n, path) for name in h5["ground"]}
    _decode_json_attrs(attrs, path)
    try:
        keypoints = Keypoints(**arrays, descriptors=descriptors, extractor=attrs["extractor"],
                              params=attrs["params"])  # fmt: skip
    except (KeyError, ValueError) as exc:
        raise FeatureError(f"{_UNREADABLE}: {exc}", path) from None
    return KeypointFile(keypoints, ground, attrs)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value
