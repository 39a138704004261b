"""The feature stage: image file in, keypoint file out (hloc's ``extract_features.main`` habit).

``main`` opens the image with :mod:`tiepoint.io`, skips it when an up-to-date keypoint file exists
(same image content hash, extractor and parameters) unless ``overwrite``, extracts, optionally adds
ground coordinates from a camera, and writes the file atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.config import Config, FeaturesConfig
from tiepoint.errors import FeatureError
from tiepoint.features.extraction import extract, resolve_config
from tiepoint.features.extractors import load_extractor
from tiepoint.features.keypoints import Keypoints
from tiepoint.features.store import keypoint_path, read_keypoints, write_keypoints
from tiepoint.records import KeypointSummary

GroundFn = Callable[[Keypoints], dict[str, np.ndarray]]
"""Maps keypoints to ground arrays (``x, y, z, lat, lon``); see ``to_camera_coords``."""


def is_current(path: Path, content_hash: str, config: FeaturesConfig) -> bool:
    """Whether ``path`` holds keypoints of this image content made with this extractor and parameters."""
    if not path.is_file():
        return False
    try:
        _, _, attrs = read_keypoints(path)
    except FeatureError:
        return False
    params = load_extractor(config.extractor, config.params).params
    return (
        attrs.get("content_hash") == content_hash
        and attrs.get("extractor") == config.extractor
        and attrs.get("params") == _json_roundtrip(params)
    )


def _json_roundtrip(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(params, sort_keys=True, default=str))


def main(
    image_path: str | os.PathLike[str],
    config: Config | FeaturesConfig | dict[str, Any] | str | None = None,
    keypoint_dir: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
    ground: GroundFn | None = None,
) -> Path:
    """Extract the keypoints of one image file and store them.

    Parameters
    ----------
    image_path : path
        Image readable by ``tiepoint.io.open_image``.
    config : Config, FeaturesConfig, dict, str or None
        A whole :class:`Config` (its ``features`` and ``output.keypoint_dir`` are used), feature
        settings, or a name in ``tiepoint.features.confs``.
    keypoint_dir : path, optional
        Overrides ``output.keypoint_dir``; None with no Config puts the file beside the image.
    overwrite : bool
        Extract again even if an up-to-date file exists.
    ground : callable, optional
        ``ground(keypoints) -> {"x", "y", "z", "lat", "lon": arrays}`` from the image's camera.

    Returns
    -------
    Path
        The keypoint file.
    """
    from tiepoint.io import content_hash, open_image  # lazy: io is the stage before this one

    if isinstance(config, Config):
        keypoint_dir = config.output.keypoint_dir if keypoint_dir is None else keypoint_dir
        config = config.features
    features = resolve_config(config)
    path = keypoint_path(image_path, keypoint_dir)
    digest = content_hash(image_path)
    if not overwrite and is_current(path, digest, features):
        return path
    with open_image(image_path) as image:
        keypoints = extract(image, features)
    ground_arrays = ground(keypoints) if ground is not None and len(keypoints) else None
    return write_keypoints(path, keypoints, image_path=image_path, content_hash=digest, ground=ground_arrays)


def summarize(path: str | os.PathLike[str], keypoints: Keypoints | None = None) -> KeypointSummary:
    """The database's view of a keypoint file (reads it unless ``keypoints`` is given)."""
    if keypoints is None:
        keypoints = read_keypoints(path).keypoints
    return KeypointSummary(str(Path(path).absolute()), len(keypoints), keypoints.extractor, keypoints.bbox())
