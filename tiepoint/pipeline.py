"""The per-image ingest job: image file in, :class:`~tiepoint.records.ImageRecord` out.

:func:`ingest_image` is what :class:`tiepoint.ImageAdder` runs on each worker:

read the image header (:mod:`tiepoint.io`) -> camera model (:mod:`tiepoint.camera`, sidecar ISD or
CSMState blob) -> lat/lon and body-fixed footprints (:mod:`tiepoint.footprint`) -> keypoints with
their ground coordinates, written to ``<keypoint_dir or image folder>/<image-stem>.h5``
(:mod:`tiepoint.features`; an up-to-date file is reused) -> the record. It opens no database
connection; the dispatcher writes the record. Stage times (seconds) are in ``record.extra["timings"]``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiepoint.config import Config, load_config
from tiepoint.records import ImageRecord

logger = logging.getLogger(__name__)

_PRODUCT_ID_KEYS = ("ProductId", "PRODUCT_ID", "ProductID")


def _product_id(label: Any) -> str | None:
    """The first product id found in a (nested) label mapping, or None."""
    stack = [label]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        for key in _PRODUCT_ID_KEYS:
            value = node.get(key)
            if isinstance(value, str | int):
                return str(value).strip('"')
        stack.extend(v for v in node.values() if isinstance(v, Mapping))
    return None


def ingest_image(
    path: str | os.PathLike[str], config: Config | dict[str, Any] | str | None = None, *, force: bool = False
) -> ImageRecord:
    """Run the ingest pipeline on one image.

    Parameters
    ----------
    path : path
        An image readable by :func:`tiepoint.io.open_image` whose camera
        :func:`tiepoint.camera.find_camera` finds (sidecar ``<stem>.json`` ISD, or a CSMState blob).
    config : Config, dict, path or None
        The configuration; ``features``, ``footprint`` and ``output.keypoint_dir`` are used.
    force : bool
        Extract keypoints again even if an up-to-date keypoint file exists (same image content,
        extractor and settings); otherwise that file is reused.

    Returns
    -------
    ImageRecord

    Raises
    ------
    ImageError, CameraError, FootprintError, FeatureError
        Naming the image and the problem.
    """
    from tiepoint import features
    from tiepoint.camera import find_camera
    from tiepoint.footprint import compute_footprint, footprint_xyz, keypoint_ground, latlon_footprint
    from tiepoint.io import content_hash, open_image

    cfg = load_config(config)
    image_path = Path(path).absolute()
    started = datetime.now(UTC)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with open_image(image_path) as img:
        (lines, samples), bands = img.shape, img.bands
        product_id = _product_id(img.label)
    digest = content_hash(image_path)
    t1 = time.perf_counter()
    camera = find_camera(image_path, shape=(lines, samples))  # an ISD of another image is an error
    t2 = time.perf_counter()
    if cfg.footprint.source == "cube":
        latlon = latlon_footprint(camera, source="cube", image=image_path, config=cfg)
        xyz = footprint_xyz(camera, config=cfg)
    else:
        fp = compute_footprint(camera, cfg)
        latlon, xyz = fp.latlon, fp.xyz
    t3 = time.perf_counter()
    lon_domain = cfg.footprint.longitude_domain

    def ground(kps: Any) -> dict[str, Any]:
        return keypoint_ground(camera, kps.y, kps.x, lon_domain=lon_domain, pixel_origin="center")

    kp_file = features.main(image_path, cfg, overwrite=force, ground=ground, content_hash=digest)
    t4 = time.perf_counter()
    summary = features.summarize(kp_file)
    t5 = time.perf_counter()
    timings.update(read=t1 - t0, camera=t2 - t1, footprint=t3 - t2, features=t4 - t3, summary=t5 - t4)
    logger.info(
        "%s: %d x %d, %d keypoints, footprint %.3f..%.3f E in %.2f s",
        image_path.name,
        lines,
        samples,
        summary.count,
        latlon.bounds[0],
        latlon.bounds[2],
        t5 - t0,
    )
    return ImageRecord(
        path=str(image_path),
        name=image_path.stem,
        lines=int(lines),
        samples=int(samples),
        bands=int(bands),
        content_hash=digest,
        footprint=latlon,
        footprint_xyz=xyz,
        camera_model=camera.model_name,
        camera_state=camera.to_state(),
        keypoints=summary,
        product_id=product_id,
        started=started,
        finished=datetime.now(UTC),
        host=socket.gethostname(),
        extra={"timings": timings},
    )
