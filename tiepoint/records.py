"""The records jobs return to the dispatcher, which writes them to the database: ingest
(:class:`ImageRecord`), pair matching (:class:`PairTask` in, :class:`PairRecord` out) and sub-pixel
registration (:class:`RegistrationTask` in, :class:`RegistrationRecord` out).

Workers build an :class:`ImageRecord`; only the dispatcher turns it into database rows. It holds
plain, picklable values (shapely geometries pickle) and no open handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from shapely.geometry.base import BaseGeometry


@dataclass(slots=True)
class KeypointSummary:
    """What the database keeps about an image's keypoints (the arrays stay in the HDF5 file)."""

    path: str
    """Absolute path of the HDF5 keypoint file."""
    count: int
    extractor: str
    bbox: tuple[float, float, float, float] | None
    """(x_min, y_min, x_max, y_max) of keypoint image coordinates (x = sample, y = line); None if none."""


@dataclass(slots=True)
class ImageRecord:
    """Everything one ingest job learned about one image."""

    path: str
    """Absolute path of the image; the database's unique key."""
    name: str
    lines: int
    samples: int
    bands: int
    content_hash: str
    """Hex digest identifying the image file's content (see tiepoint.io)."""
    footprint: BaseGeometry
    """Lat/lon footprint: x = positive-east longitude (degrees), y = planetocentric latitude."""
    footprint_xyz: BaseGeometry | None
    """Body-fixed footprint (metres), a Polygon/MultiPolygon with Z."""
    camera_model: str
    """CSM model name, e.g. USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL."""
    camera_state: str
    """JSON state from which the camera model is rebuilt exactly."""
    keypoints: KeypointSummary
    product_id: str | None = None
    serial_number: str | None = None
    """ISIS serial number (``tiepoint.cnet.serial_number``), or the file stem for non-ISIS images."""
    started: datetime | None = None
    finished: datetime | None = None
    host: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def pair_key(image_id_a: int, image_id_b: int) -> str:
    """The one canonical key of an image pair: ``"<smaller id>-<larger id>"``.

    Used for match-job keys in the job ledger, match file names and ``pairs`` rows (as COLMAP's
    ``image_ids_to_pair_id``), so a pair has one identity whichever way round it is given.

    Raises
    ------
    ValueError
        If the ids are equal or not non-negative integers.
    """
    a, b = int(image_id_a), int(image_id_b)
    if a == b or a < 0 or b < 0:
        raise ValueError(f"an image pair needs two distinct non-negative image ids, got {a} and {b}")
    return f"{min(a, b)}-{max(a, b)}"


def split_pair_key(key: str) -> tuple[int, int]:
    """``(smaller id, larger id)`` of a :func:`pair_key`."""
    try:
        a, b = (int(part) for part in key.split("-"))
    except ValueError:
        raise ValueError(f"not an image pair key: {key!r}") from None
    if pair_key(a, b) != key:
        raise ValueError(f"not a canonical image pair key: {key!r}")
    return a, b


@dataclass(slots=True, frozen=True)
class PairTask:
    """What one pair-matching job needs; the dispatcher builds it from the database.

    Side ``a`` is always the image with the smaller id (see :func:`pair_key`).
    """

    key: str
    """:func:`pair_key` of the two image ids."""
    image_a: str
    """Absolute image paths."""
    image_b: str
    keypoints_a: str
    """The images' HDF5 keypoint files (``tiepoint.features.store``)."""
    keypoints_b: str
    camera_a: str | None
    """JSON camera states (``tiepoint.camera.from_state``); None: the pair is matched in image space."""
    camera_b: str | None
    overlap: BaseGeometry | None
    """The lon/lat intersection of the footprints (MultiPolygon, degrees); None: the whole images."""
    output: str
    """The match file the job writes (``tiepoint.matching.store``)."""


@dataclass(slots=True)
class PairRecord:
    """What one pair-matching job learned; the dispatcher writes it to the ``pairs`` table."""

    key: str
    image_a: str
    image_b: str
    path: str
    """Absolute path of the match file (row indices into both keypoint files)."""
    method: str
    """How candidates were found: ``gated``, ``gated-widened``, ``ungated`` or ``image``."""
    n_keypoints_a: int
    """Keypoints of each image inside the (buffered) overlap."""
    n_keypoints_b: int
    n_raw: int
    """Matches before geometric verification."""
    n_matches: int
    """Verified matches kept (after thinning)."""
    inlier_ratio: float
    """Verified / raw (NaN when there were no raw matches)."""
    offset_m: tuple[float, float, float] | None = None
    """Robust (median) body-fixed ground offset b - a of the verified matches, metres; None in image space."""
    offset_mad_m: float | None = None
    """Median absolute deviation of the ground offsets around it, metres."""
    stats: dict[str, float] = field(default_factory=dict)
    """Residual statistics of the verification (e.g. ``residual_px_median``, ``residual_px_p90``)."""
    started: datetime | None = None
    finished: datetime | None = None
    host: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    """Anything else worth keeping (``timings``: seconds per step)."""


@dataclass(slots=True)
class RegistrationTask:
    """What one registration job needs: the pending measures of one image and their references.

    Built by the dispatcher from the ``measures`` table; the job reads chips with windowed reads and
    never opens the database. Arrays have one value per measure (OpenCV pixel positions).
    """

    key: str
    """The job's key: the measure image's path."""
    image: str
    """The image whose measures are registered."""
    camera: str
    """Its JSON camera state (``tiepoint.camera.from_state``)."""
    measure_ids: np.ndarray
    """(N,) int64 ``measures.id``."""
    x: np.ndarray
    """(N,) a-priori (keypoint) positions: registration starts from these."""
    y: np.ndarray
    reference: np.ndarray
    """(N,) int32 index into :attr:`references` of each measure's reference image."""
    ref_x: np.ndarray
    """(N,) the reference measures' positions in their images."""
    ref_y: np.ndarray
    height: np.ndarray
    """(N,) height (m) of each point's a-priori ground point above the ellipsoid (0 if unknown)."""
    references: tuple[tuple[str, str], ...]
    """``(path, camera state)`` of each reference image."""

    def __len__(self) -> int:
        return len(self.measure_ids)


@dataclass(slots=True)
class RegistrationRecord:
    """What one registration job found; the dispatcher writes it into the ``measures`` rows."""

    key: str
    image: str
    measure_ids: np.ndarray
    """(N,) int64, as in the task."""
    status: np.ndarray
    """(N,) str: ``ok`` or why not (``tiepoint.network.STATUSES``)."""
    x: np.ndarray
    """(N,) registered positions where ``ok``, else the a-priori ones."""
    y: np.ndarray
    dx: np.ndarray
    """(N,) shift from the a-priori position (px; NaN where no peak was found)."""
    dy: np.ndarray
    ncc: np.ndarray
    ncc_second: np.ndarray
    disagreement_px: np.ndarray
    texture: np.ndarray
    started: datetime | None = None
    finished: datetime | None = None
    host: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    """``timings`` (seconds), ``references`` (reference images used)."""

    def __len__(self) -> int:
        return len(self.measure_ids)
