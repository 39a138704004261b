"""Interest points and descriptors for each image, and the HDF5 keypoint store (one file per image).

Public API::

    extract(image, config=None) -> Keypoints          # stretch, mask no-data, whole or tiled
    keypoint_path(image_path, keypoint_dir=None) -> Path
    write_keypoints(path, keypoints, *, image_path, content_hash, ground=None, settings=None) -> Path
    read_keypoints(path) -> KeypointFile              # unpacks as (keypoints, ground, attrs)
    read_header(path) -> (attrs, has_ground)          # no arrays; read_positions(path) -> (x, y, attrs)
    to_camera_coords(x, y) -> (lines, samples)        # OpenCV -> USGSCSM image coordinates
    main(image_path, config=None, keypoint_dir=None, *, overwrite=False, ground=None,
         content_hash=None) -> Path                   # the stage: skips up-to-date files
    summarize(path) -> tiepoint.records.KeypointSummary

Extractors are plug-ins in :mod:`tiepoint.features.extractors` (``sift`` default, ``orb``, ``akaze``),
each with a typed ``Params`` model (``check_params(name, params)`` checks a dict, naming a bad key);
named configurations are in :data:`confs`. Coordinate conventions: :mod:`tiepoint.pixels`;
file layout: :mod:`tiepoint.features.store`.
"""

from __future__ import annotations

from tiepoint.errors import FeatureError
from tiepoint.features.extraction import confs, extract, resolve_config
from tiepoint.features.extractors import EXTRACTORS, load_extractor
from tiepoint.features.keypoints import Keypoints
from tiepoint.features.source import ArrayImage
from tiepoint.features.stage import main, summarize
from tiepoint.features.store import (
    FORMAT_VERSION,
    KeypointFile,
    keypoint_path,
    read_header,
    read_keypoints,
    read_positions,
    write_keypoints,
)
from tiepoint.pixels import from_camera_coords, to_camera_coords, to_isis_coords

__all__ = [
    "EXTRACTORS",
    "FORMAT_VERSION",
    "ArrayImage",
    "FeatureError",
    "KeypointFile",
    "Keypoints",
    "confs",
    "extract",
    "from_camera_coords",
    "keypoint_path",
    "load_extractor",
    "main",
    "read_header",
    "read_keypoints",
    "read_positions",
    "resolve_config",
    "summarize",
    "to_camera_coords",
    "to_isis_coords",
    "write_keypoints",
]
