"""Extract keypoints from one image: stretch to 8 bit, mask no-data, detect whole or in tiles.

Images above ``FeaturesConfig.tile_threshold`` pixels are read tile by tile through the windowed
reader (see :mod:`tiepoint.features.tiling`), so memory is bounded by one tile's detector state and
the keypoints found, not by the image size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiepoint.config import FeaturesConfig
from tiepoint.errors import FeatureError, TiepointError
from tiepoint.features.extractors import Extractor, load_extractor
from tiepoint.features.keypoints import Keypoints
from tiepoint.features.source import ImageSource, as_image, image_name
from tiepoint.features.stretch import compute_stretch, keypoint_mask, to_uint8
from tiepoint.features.tiling import Tile, tile_grid

confs: dict[str, dict[str, Any]] = {
    "sift": {"extractor": "sift", "params": {}},
    "sift-4k": {"extractor": "sift", "params": {"nfeatures": 4096}},
    "orb": {"extractor": "orb", "params": {}},
    "akaze": {"extractor": "akaze", "params": {}},
}
"""Named configurations (``FeaturesConfig`` fields), in the manner of hloc's ``confs``."""


def resolve_config(config: FeaturesConfig | dict[str, Any] | str | None) -> FeaturesConfig:
    """A :class:`FeaturesConfig` from itself, a dict of its fields, a name in :data:`confs`, or None."""
    if config is None:
        return FeaturesConfig()
    if isinstance(config, FeaturesConfig):
        return config
    if isinstance(config, str):
        if config not in confs:
            raise FeatureError(f"unknown feature configuration {config!r}; known: {sorted(confs)}")
        config = confs[config]
    try:
        return FeaturesConfig.model_validate(config)
    except ValueError as exc:
        raise FeatureError(f"invalid feature configuration: {exc}") from None


def plan_tiles(shape: tuple[int, int], config: FeaturesConfig, extractor: Extractor) -> list[Tile]:
    """The tiles an image of ``shape`` is processed in (one whole-image tile below the threshold)."""
    lines, samples = shape
    if lines * samples <= config.tile_threshold:
        return [Tile(((0, lines), (0, samples)), ((0, lines), (0, samples)))]
    margin = extractor.pad + config.edge_margin + 1
    try:
        return tile_grid(shape, config.tile_size, config.tile_overlap, margin)
    except ValueError as exc:
        raise FeatureError(f"bad tiling configuration: {exc}") from None


def extract(image: Any, config: FeaturesConfig | dict[str, Any] | str | None = None) -> Keypoints:
    """Detect and describe the interest points of one image.

    Parameters
    ----------
    image : path, ImageSource or ndarray
        A path (opened with ``tiepoint.io.open_image``), an object with ``.shape`` (lines, samples)
        and ``.read(window) -> MaskedArray``, or a (masked) 2-D array.
    config : FeaturesConfig, dict, str or None
        Settings, or the name of one of :data:`confs`; None for the defaults (SIFT).

    Returns
    -------
    Keypoints
        In full-image pixel coordinates (OpenCV convention), tile by tile (row-major) in detector
        order; with a feature cap (``nfeatures``/``max_points``) the strongest of the whole image are
        kept. An image with no valid pixel, no texture, or smaller than 2 x 2 gives zero keypoints.

    Raises
    ------
    FeatureError
        Bad configuration, or the extractor failed on this image (the message names the image).
    """
    config = resolve_config(config)
    extractor = load_extractor(config.extractor, config.params)
    source = as_image(image)
    try:
        return _extract(source, config, extractor)
    finally:
        if source is not image and hasattr(source, "close"):
            source.close()  # we opened it from a path


def _extract(source: ImageSource, config: FeaturesConfig, extractor: Extractor) -> Keypoints:
    name = image_name(source)
    shape = tuple(int(v) for v in source.shape[-2:])
    if min(shape) < 2:
        return extractor.empty()
    try:
        stretch = compute_stretch(source, tuple(config.stretch_percentiles))
        if stretch is None:
            return extractor.empty()
        parts = []
        for tile in plan_tiles(shape, config, extractor):
            (l0, _), (s0, _) = tile.window
            img8, valid = to_uint8(source.read(window=tile.window), stretch)
            found = extractor.detect(img8, keypoint_mask(valid, config.edge_margin))
            found = found.shifted(s0, l0)
            parts.append(found.select(tile.owns(found.x, found.y)))
    except TiepointError:
        raise
    except Exception as exc:  # an OpenCV or numpy failure: say which image and why
        raise FeatureError(
            f"{config.extractor} extraction failed: {type(exc).__name__}: {exc}", name
        ) from exc
    responses = np.concatenate([p.response for p in parts])
    if extractor.max_features and len(responses) > extractor.max_features:
        strongest = np.argsort(-responses, kind="stable")[: extractor.max_features]
        keep = np.zeros(len(responses), bool)
        keep[strongest] = True
    else:
        keep = np.ones(len(responses), bool)
    return _merge(parts, keep)


def _merge(parts: list[Keypoints], keep: np.ndarray) -> Keypoints:
    """The rows of the concatenated ``parts`` where ``keep``, in order, filled part by part while
    ``parts`` is emptied: the output is written front to back and each part is freed once copied, so
    the merge needs little more memory than the keypoints themselves (a big image has millions)."""
    total = int(keep.sum())
    first = parts[0]
    out = {
        name: np.empty((total, *getattr(first, name).shape[1:]), getattr(first, name).dtype)
        for name in ("x", "y", "response", "size", "angle", "octave", "descriptors")
    }
    read = write = 0
    while parts:
        part = parts.pop(0)
        mine = keep[read : read + len(part)]
        count = int(mine.sum())
        for name, array in out.items():
            array[write : write + count] = getattr(part, name)[mine]
        read += len(part)
        write += count
        del part
    return Keypoints(**out, extractor=first.extractor, params=dict(first.params))
