"""Match two images directly, without a database: :func:`match_images` -> :class:`PairMatches`.

For each image the up-to-date keypoint file is used or made (:func:`tiepoint.features.main`, with
ground coordinates when :func:`tiepoint.camera.find_camera` finds a camera); with both cameras the
overlap of their footprints bounds the keypoints and the pair is ground-gated, otherwise it is
matched in image space. The result is stored like a dispatched pair's (:mod:`tiepoint.matching.store`,
an up-to-date match file is reused) and returned with the keypoints' positions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tiepoint.config import JobConfig, load_job_config
from tiepoint.errors import CameraError
from tiepoint.records import PairTask


@dataclass(slots=True, eq=False)
class PairMatches:
    """The final (verified, thinned) matches of two images; positions in OpenCV pixels (as stored in
    keypoint files: centre of the first pixel at 0)."""

    x_a: np.ndarray
    """float64 samples in image a."""
    y_a: np.ndarray
    """float64 lines in image a."""
    x_b: np.ndarray
    y_b: np.ndarray
    kp_a: np.ndarray
    """int64 rows of the matched keypoints in a's keypoint file."""
    kp_b: np.ndarray
    distance: np.ndarray
    """float32 descriptor distances."""
    ratio: np.ndarray
    """float32 best / second-best distance."""
    residual_px: np.ndarray
    """float32 distance to the local image model of the verification (px in image b)."""
    ground_residual_m: np.ndarray
    """float32 ground offset minus its local median (m); NaN in image space."""
    method: str
    """``gated``, ``gated-widened``, ``ungated`` or ``image``."""
    path: Path
    """The match file (raw and all verified matches are there too)."""
    keypoints_a: Path
    keypoints_b: Path
    summary: dict[str, Any] = field(default_factory=dict)
    """``n_raw``, ``n_verified``, ``inlier_ratio``, ``offset_m``, ``offset_mad_m``, ``stats``, ``info``..."""

    def __len__(self) -> int:
        return len(self.kp_a)

    def __repr__(self) -> str:
        return (f"<PairMatches {len(self)} matches ({self.method}; {self.summary.get('n_raw')} raw, "
                f"{self.summary.get('n_verified')} verified) {self.path.name}>")  # fmt: skip

    @property
    def n_raw(self) -> int:
        """Raw matches before verification."""
        return int(self.summary.get("n_raw", 0))

    @property
    def n_verified(self) -> int:
        """Verified matches before thinning."""
        return int(self.summary.get("n_verified", 0))

    @property
    def inlier_ratio(self) -> float:
        """Verified / raw (NaN without raw matches)."""
        value = self.summary.get("inlier_ratio")
        return float("nan") if value is None else float(value)

    @property
    def offset_m(self) -> tuple[float, float, float] | None:
        """Median body-fixed ground offset b - a of the verified matches (m); None in image space."""
        value = self.summary.get("offset_m")
        return None if value is None else (float(value[0]), float(value[1]), float(value[2]))


def _camera_or_none(path: Path) -> Any:
    from tiepoint.camera import find_camera

    try:
        return find_camera(path)
    except CameraError as exc:
        if exc.message.startswith("no camera:"):  # neither a sidecar ISD nor a CSMState blob
            return None
        raise


def _keypoints(path: Path, camera: Any, cfg: JobConfig) -> Path:
    from tiepoint import features
    from tiepoint.footprint import keypoint_ground

    ground = None
    if camera is not None:
        lon_domain = cfg.footprint.longitude_domain

        def ground(kps: Any) -> dict[str, Any]:
            return keypoint_ground(camera, kps.y, kps.x, lon_domain=lon_domain, pixel_origin="center")

    return features.main(path, cfg, ground=ground)


def match_images(
    image_a: str | os.PathLike[str],
    image_b: str | os.PathLike[str],
    config: JobConfig | dict[str, Any] | str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> PairMatches:
    """Match two images.

    Parameters
    ----------
    image_a, image_b : path
        Images readable by :func:`tiepoint.io.open_image`.
    config : Config, dict, path or None
        The configuration (``features``, ``footprint``, ``output.keypoint_dir`` and ``matching``).
    overwrite : bool
        Match again even if the pair's match file is up to date (keypoint files are still reused).

    Returns
    -------
    PairMatches
        Empty (with the right shapes) when the footprints do not overlap or nothing verifies.

    Raises
    ------
    ImageError, CameraError, FeatureError, MatchingError, ConfigError
        Naming the file or key and the problem. An image without any camera is matched in image
        space; a camera that exists but is broken is an error.
    """
    from tiepoint import matching
    from tiepoint.features.store import read_positions

    cfg = load_job_config(config)
    paths = [Path(image_a).absolute(), Path(image_b).absolute()]
    for path in paths:
        if not path.exists():
            from tiepoint.io import ImageNotFoundError

            raise ImageNotFoundError("image not found", path)
    cameras = [_camera_or_none(p) for p in paths]
    kp_files = [_keypoints(p, cam, cfg) for p, cam in zip(paths, cameras, strict=True)]
    overlap = None
    states: list[str | None] = [None, None]
    if all(cam is not None for cam in cameras):
        from tiepoint.footprint import compute_footprint

        states = [cam.to_state() for cam in cameras]
        overlap = compute_footprint(cameras[0], cfg).latlon.intersection(
            compute_footprint(cameras[1], cfg).latlon
        )
    task = PairTask(
        key=f"{kp_files[0].stem}__{kp_files[1].stem}",
        image_a=str(paths[0]), image_b=str(paths[1]),
        keypoints_a=str(kp_files[0]), keypoints_b=str(kp_files[1]),
        camera_a=states[0], camera_b=states[1],
        overlap=overlap,
        output=str(matching.match_path(kp_files[0], kp_files[1], cfg.matching.match_dir)),
    )  # fmt: skip
    out = matching.main(task, cfg, overwrite=overwrite)
    content = matching.read_matches(out)
    final = content.final
    xa, ya, _ = read_positions(kp_files[0])
    xb, yb, _ = read_positions(kp_files[1])
    ka, kb = final.matches[:, 0].astype(np.int64), final.matches[:, 1].astype(np.int64)
    return PairMatches(
        xa[ka], ya[ka], xb[kb], yb[kb], ka, kb, final.distance, final.ratio, final.residual_px,
        final.ground_residual_m, str(content.attrs["method"]), Path(out), kp_files[0], kp_files[1],
        dict(content.attrs["summary"]),
    )  # fmt: skip
