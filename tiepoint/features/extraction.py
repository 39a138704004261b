"""Extract keypoints from one image: stretch to 8 bit, mask no-data, detect whole or in tiles.

Images above ``FeaturesConfig.tile_threshold`` pixels are read tile by tile through the windowed
reader (see :mod:`tiepoint.features.tiling`), so memory is bounded by one tile's detector state and
the keypoints found, not by the image size.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tiepoint.config import FeaturesConfig
from tiepoint.errors import FeatureError, TiepointError
from tiepoint.features.allocator import keep_heap
from tiepoint.features.collect import KeypointCollector
from tiepoint.features.extractors import Extractor, load_extractor
from tiepoint.features.keypoints import Keypoints
from tiepoint.features.source import ImageSource, as_image, image_name
from tiepoint.features.stretch import compute_stretch, keypoint_mask, to_uint8
from tiepoint.features.tiling import Tile, tile_grid
from tiepoint.io.windows import Window

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
        and ``.read(window) -> MaskedArray``, or a (masked) 2-D array. Given a path, the file is
        re-opened as it is read, so a memory-mapped reader holds only about :data:`RELEASE_BYTES` of
        a big file in the process at a time (see :class:`Pages`).
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

    Notes
    -----
    The first call sets glibc's malloc thresholds for the whole process
    (:func:`tiepoint.features.allocator.keep_heap`): tiles are much faster when freed buffers stay
    in the heap.
    """
    config = resolve_config(config)
    extractor = load_extractor(config.extractor, config.params)
    keep_heap()  # tiles reuse the heap instead of faulting in fresh pages each time
    pages = Pages(image)
    try:
        return _extract(pages, config, extractor)
    finally:
        pages.close()


RELEASE_BYTES = 64 << 20
"""Bytes of file rows spanned by the reads after which an image opened from a path is re-opened."""


class Pages:
    """The image being read, re-opened now and then when :func:`extract` opened it from a path.

    ISIS cubes are read through a memory map: every page a read touches stays mapped, and counted in
    the process's resident memory, until the map is dropped. Once the lines read since the last
    re-open span :data:`RELEASE_BYTES` of full-width rows (the part of the file they may have touched,
    whether the cube is stored by rows or in tiles), the image is re-opened, which drops the map: the
    pages stay in the kernel's page cache, which is not the worker's. An image passed in open, or an
    array, is used as it is.
    """

    def __init__(self, image: Any) -> None:
        self._path = image if isinstance(image, str | os.PathLike) else None
        self.source: ImageSource = as_image(image)
        self._span: tuple[int, int] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.source.shape

    def read(self, window: Window) -> np.ma.MaskedArray:
        """``source.read(window)``; then re-open the file if the reads since the last time span enough."""
        data = self.source.read(window=window)
        (l0, l1), _ = window
        first, last = self._span or (l0, l1)
        self._span = first, last = min(first, l0), max(last, l1)
        if self._path is not None and (last - first) * self.shape[-1] * data.itemsize >= RELEASE_BYTES:
            self.close()
            self.source = as_image(self._path)
            self._span = None
        return data

    def close(self) -> None:
        """Close the image if we opened it."""
        if self._path is not None and hasattr(self.source, "close"):
            self.source.close()


def _extract(pages: Pages, config: FeaturesConfig, extractor: Extractor) -> Keypoints:
    source = pages.source
    name = image_name(source)
    shape = tuple(int(v) for v in source.shape[-2:])
    if min(shape) < 2:
        return extractor.empty()
    collector = KeypointCollector(extractor.empty(), extractor.max_features)
    try:
        stretch = compute_stretch(pages, tuple(config.stretch_percentiles))
        if stretch is None:
            return extractor.empty()
        for tile in plan_tiles(shape, config, extractor):
            (l0, _), (s0, _) = tile.window
            img8, valid = to_uint8(pages.read(tile.window), stretch)
            found = extractor.detect(img8, keypoint_mask(valid, config.edge_margin))
            del img8, valid
            found = found.shifted(s0, l0)
            collector.add(found.select(tile.owns(found.x, found.y)))
    except TiepointError:
        raise
    except Exception as exc:  # an OpenCV or numpy failure: say which image and why
        raise FeatureError(
            f"{config.extractor} extraction failed: {type(exc).__name__}: {exc}", name
        ) from exc
    return collector.result()
