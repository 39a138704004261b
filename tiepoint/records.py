"""The result record one ingest job returns to the dispatcher, which writes it to the database.

Workers build an :class:`ImageRecord`; only the dispatcher turns it into database rows. It holds
plain, picklable values (shapely geometries pickle) and no open handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    started: datetime | None = None
    finished: datetime | None = None
    host: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
