"""Synthetic :class:`~tiepoint.records.ImageRecord` s for the database tests (no files needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from tiepoint.records import ImageRecord, KeypointSummary

MARS_A = 3396190.0


def lonlat_to_xyz(geom: BaseGeometry, radius: float = MARS_A) -> BaseGeometry:
    """Body-fixed (spherical) 3-D version of a lon/lat polygon, for footprint_xyz."""

    def xyz(coords: np.ndarray) -> np.ndarray:
        lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
        return radius * np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])

    return shapely.set_coordinates(shapely.force_3d(geom), xyz(shapely.get_coordinates(geom)))


def make_record(
    path: str,
    footprint: BaseGeometry | None = None,
    *,
    name: str | None = None,
    count: int = 100,
    state: str = '{"model": 1}',
    lines: int = 1024,
    with_xyz: bool = True,
) -> ImageRecord:
    """An ImageRecord for *path* with a box footprint near 10E, 0N unless one is given."""
    footprint = footprint if footprint is not None else box(10.0, -1.0, 11.0, 1.0)
    return ImageRecord(
        path=path,
        name=name if name is not None else path.rsplit("/", 1)[-1].split(".")[0],
        lines=lines,
        samples=512,
        bands=1,
        content_hash="0" * 63 + "1",
        footprint=footprint,
        footprint_xyz=lonlat_to_xyz(footprint) if with_xyz else None,
        camera_model="USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL",
        camera_state=state,
        keypoints=KeypointSummary(
            path=path + ".h5", count=count, extractor="sift", bbox=(1.5, 2.5, 500.0, 1000.0)
        ),
        product_id="P" + path[-3:],
        started=datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC),
        finished=datetime(2026, 1, 1, 12, 0, 7, 250000, tzinfo=UTC),
        host="node01",
        extra={"exposure": 1.5},
    )


def random_quads(n: int, seed: int, lon0: float = 100.0, span: float = 20.0) -> list[Polygon]:
    """*n* random convex quadrilaterals (rotated rectangles) of 0.5-3 degrees in a small region."""
    rng = np.random.default_rng(seed)
    out = []
    for cx, cy, w, h, ang in zip(
        rng.uniform(lon0, lon0 + span, n),
        rng.uniform(-span / 2, span / 2, n),
        rng.uniform(0.5, 3.0, n),
        rng.uniform(0.5, 3.0, n),
        rng.uniform(0, np.pi, n),
        strict=True,
    ):
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        out.append(Polygon(corners @ rot.T + [cx, cy]))
    return out
