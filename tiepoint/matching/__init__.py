"""Pairwise matching of overlapping images: raw matches, geometric verification, thinning.

Public API::

    match_images(image_a, image_b, config=None) -> PairMatches   # two images, no database
    main(task, config=None, *, overwrite=False) -> Path          # the stage: PairTask -> match file
    is_current(path, task, config) -> bool                       # match file up to date?
    match_path(keypoints_a, keypoints_b, match_dir=None) -> Path # where a pair's match file goes
    read_matches(path) -> MatchFile; read_header(path) -> dict; write_matches(path, content) -> Path
    load_matcher(name, params=None) -> Matcher                   # plug-ins: MATCHERS = ("gated", "bf")
    verify(xa, ya, xb, yb, xyz_a=None, xyz_b=None, config=None) -> Verification
    grid_thin(x, y, score, target) -> indices
    tiepoint.matching.job.match_pair(task, config=None, force=False) -> PairRecord   # the worker job

Matchers are plug-ins in :mod:`tiepoint.matching.matchers` (``gated``: ground-gated KD-tree on the
keypoints' a-priori ground positions; ``bf``: brute force or FLANN in descriptor space). File layout:
:mod:`tiepoint.matching.store`. Settings: ``Config.matching`` (:class:`tiepoint.config.MatchingConfig`).
Positions are OpenCV pixels (:mod:`tiepoint.pixels`). Nothing here imports :mod:`tiepoint.db`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tiepoint.errors import MatchingError
from tiepoint.matching.verify import Verification, verify  # eager: the name is also a submodule's

if TYPE_CHECKING:
    from tiepoint.matching.api import PairMatches, match_images
    from tiepoint.matching.matchers import MATCHERS, METHODS, Matcher, Matches, MatchSide, load_matcher
    from tiepoint.matching.stage import compute, is_current, main, resolve_config
    from tiepoint.matching.store import (
        FORMAT_VERSION,
        MatchFile,
        MatchTable,
        match_path,
        read_header,
        read_matches,
        write_matches,
    )
    from tiepoint.matching.thin import grid_thin

_HOMES = {
    "api": ("PairMatches", "match_images"),
    "matchers": ("MATCHERS", "METHODS", "Matcher", "Matches", "MatchSide", "load_matcher"),
    "stage": ("compute", "is_current", "main", "resolve_config"),
    "store": ("FORMAT_VERSION", "MatchFile", "MatchTable", "match_path", "read_header", "read_matches",
              "write_matches"),
    "thin": ("grid_thin",),
}  # fmt: skip
_WHERE = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import on first use: validating a configuration loads the matcher plug-ins through this package,
    and must not pull in OpenCV, h5py and scipy."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMAT_VERSION",
    "MATCHERS",
    "METHODS",
    "MatchFile",
    "MatchSide",
    "MatchTable",
    "Matcher",
    "Matches",
    "MatchingError",
    "PairMatches",
    "Verification",
    "compute",
    "grid_thin",
    "is_current",
    "load_matcher",
    "main",
    "match_images",
    "match_path",
    "read_header",
    "read_matches",
    "resolve_config",
    "verify",
    "write_matches",
]
