"""The feature stage: image file in, keypoint file out (hloc's ``extract_features.main`` habit).

``main`` opens the image with :mod:`tiepoint.io`, skips it when an up-to-date keypoint file exists
(same image content hash, extractor, parameters and settings) unless ``overwrite``, extracts, optionally adds
ground coordinates from a camera, and writes the file atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.config import FeaturesConfig, JobConfig
from tiepoint.errors import FeatureError
from tiepoint.features.extraction import extract, resolve_config
from tiepoint.features.extractors import load_extractor
from tiepoint.features.keypoints import Keypoints
from tiepoint.features.store import keypoint_path, read_header, read_positions, write_keypoints
from tiepoint.records import KeypointSummary

GroundFn = Callable[[Keypoints], dict[str, np.ndarray]]
"""Maps keypoints to ground arrays (``x, y, z, lat, lon``); see ``to_camera_coords``."""


def is_current(path: Path, content_hash: str, config: FeaturesConfig, need_ground: bool = False) -> bool:
    """Whether ``path`` holds keypoints of this image content made with this extractor and parameters
    (and ground coordinates, if ``need_ground``); a missing or unreadable file is not current."""
    if not path.is_file():
        return False
    try:
        attrs, has_ground = read_header(path)
    except FeatureError:
        return False
    params = load_extractor(config.extractor, config.params).params
    return (
        attrs.get("content_hash") == content_hash
        and attrs.get("extractor") == config.extractor
        and attrs.get("params") == _json_roundtrip(params)
        and attrs.get("settings") == _json_roundtrip(settings(config))
        and (has_ground or not need_ground or attrs.get("count") == 0)
    )


def settings(config: FeaturesConfig) -> dict[str, Any]:
    """The settings besides the extractor's parameters that change which keypoints are found."""
    return config.model_dump(exclude={"extractor", "params"})


def _json_roundtrip(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(params, sort_keys=True, default=str))


def main(
    image_path: str | os.PathLike[str],
    config: JobConfig | FeaturesConfig | dict[str, Any] | str | None = None,
    keypoint_dir: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
    ground: GroundFn | None = None,
    content_hash: str | None = None,
) -> Path:
    """Extract the keypoints of one image file and store them.

    Parameters
    ----------
    image_path : path
        Image readable by ``tiepoint.io.open_image``.
    config : Config, JobConfig, FeaturesConfig, dict, str or None
        A whole configuration (its ``features`` and ``output.keypoint_dir`` are used), feature
        settings, or a name in ``tiepoint.features.confs``.
    keypoint_dir : path, optional
        Overrides ``output.keypoint_dir``; None with no Config puts the file beside the image.
    overwrite : bool
        Extract again even if an up-to-date file exists.
    ground : callable, optional
        ``ground(keypoints) -> {"x", "y", "z", "lat", "lon": arrays}`` from the image's camera; a
        stored file without ground coordinates is then not reused.
    content_hash : str, optional
        The image's ``tiepoint.io.content_hash`` if the caller has it already (saves hashing twice).

    Returns
    -------
    Path
        The keypoint file.
    """
    from tiepoint.io import content_hash as hash_file  # lazy: io is the stage before this one

    if isinstance(config, JobConfig):
        keypoint_dir = config.output.keypoint_dir if keypoint_dir is None else keypoint_dir
    features = resolve_config(config.features if isinstance(config, JobConfig) else config)
    path = keypoint_path(image_path, keypoint_dir)
    digest = hash_file(image_path) if content_hash is None else content_hash
    if not overwrite and is_current(path, digest, features, need_ground=ground is not None):
        return path
    keypoints = extract(image_path, features)  # opened there, and re-opened to bound mapped pages
    ground_arrays = ground(keypoints) if ground is not None and len(keypoints) else None
    return write_keypoints(
        path, keypoints, image_path=image_path, content_hash=digest, ground=ground_arrays,
        settings=settings(features),
    )  # fmt: skip


def summarize(path: str | os.PathLike[str], keypoints: Keypoints | None = None) -> KeypointSummary:
    """The database's view of a keypoint file (reads only positions unless ``keypoints`` is given)."""
    path = Path(path)
    if keypoints is not None:
        return KeypointSummary(str(path.absolute()), len(keypoints), keypoints.extractor, keypoints.bbox())
    x, y, attrs = read_positions(path)
    bbox = (float(x.min()), float(y.min()), float(x.max()), float(y.max())) if len(x) else None
    return KeypointSummary(str(path.absolute()), len(x), str(attrs["extractor"]), bbox)
