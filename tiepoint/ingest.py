"""The ingest job, one per image: image file in, :class:`~tiepoint.records.ImageRecord` out.

:func:`ingest_image` is what :class:`tiepoint.ImageAdder` runs on each worker:

read the image header (:mod:`tiepoint.io`) and its ISIS serial number (:mod:`tiepoint.cnet`) ->
camera model (:mod:`tiepoint.camera`, sidecar ISD or CSMState blob) -> lat/lon and body-fixed
footprints (:mod:`tiepoint.footprint`) -> keypoints with their ground coordinates, written to
``<keypoint_dir or image folder>/<image-stem>.h5`` (:mod:`tiepoint.features`; an up-to-date file
is reused) -> the record. It opens no database connection; the dispatcher writes the record.
Stage times (seconds) are in ``record.extra["timings"]``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiepoint.config import JobConfig, load_job_config
from tiepoint.records import ImageRecord
from tiepoint.timings import timed

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
    path: str | os.PathLike[str],
    config: JobConfig | dict[str, Any] | str | None = None,
    *,
    force: bool = False,
) -> ImageRecord:
    """Run the ingest pipeline on one image.

    Parameters
    ----------
    path : path
        An image readable by :func:`tiepoint.io.open_image` whose camera
        :func:`tiepoint.camera.find_camera` finds (sidecar ``<stem>.json`` ISD, or a CSMState blob).
    config : Config, JobConfig, dict, path or None
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
    from tiepoint.cnet.serial import serial_number
    from tiepoint.footprint import compute_footprint, footprint_xyz, keypoint_ground, latlon_footprint
    from tiepoint.io import content_hash, open_image
    from tiepoint.pixels import to_camera_coords

    cfg = load_job_config(config)
    image_path = Path(path).absolute()
    started = datetime.now(UTC)
    timings: dict[str, float] = {}
    with timed(timings, "read"):
        with open_image(image_path) as img:
            (lines, samples), bands = img.shape, img.bands
            product_id = _product_id(img.label)
        serial = serial_number(image_path)
        digest = content_hash(image_path)
    with timed(timings, "camera"):
        camera = find_camera(image_path, shape=(lines, samples))  # an ISD of another image is an error
    with timed(timings, "footprint"):
        if cfg.footprint.source == "cube":
            latlon = latlon_footprint(camera, source="cube", image=image_path, config=cfg)
            xyz = footprint_xyz(camera, config=cfg)
        else:
            fp = compute_footprint(camera, cfg)
            latlon, xyz = fp.latlon, fp.xyz
    lon_domain = cfg.footprint.longitude_domain

    def ground(kps: Any) -> dict[str, Any]:
        kp_lines, kp_samples = to_camera_coords(kps.x, kps.y)
        return keypoint_ground(camera, kp_lines, kp_samples, lon_domain=lon_domain)

    with timed(timings, "features"):
        kp_file = features.main(image_path, cfg, overwrite=force, ground=ground, content_hash=digest)
    with timed(timings, "summary"):
        summary = features.summarize(kp_file)
    logger.info(
        "%s: %d x %d, %d keypoints, footprint %.3f..%.3f E in %.2f s",
        image_path.name,
        lines,
        samples,
        summary.count,
        latlon.bounds[0],
        latlon.bounds[2],
        sum(timings.values()),
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
        serial_number=serial,
        started=started,
        finished=datetime.now(UTC),
        host=socket.gethostname(),
        extra={"timings": timings},
    )
