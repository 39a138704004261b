"""Idempotent writes of :class:`~tiepoint.records.ImageRecord` s: image + camera + keypoints rows.

One call is one transaction. Rows are upserted on the unique ``images.path`` (and the unique
``image_id`` of cameras/keypoints), so concurrent writers of the same path produce one row.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from tiepoint.config import BodyConfig
from tiepoint.db.batches import chunks
from tiepoint.db.geometry import to_multipolygon, validate_lonlat
from tiepoint.db.gpkg import grow_contents_extent
from tiepoint.db.models import IMAGES_TABLE, Camera, ImageRow, KeypointSet
from tiepoint.errors import DatabaseError
from tiepoint.records import ImageRecord


def _insert(conn: Connection, model):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def image_row(record: ImageRecord, body: BodyConfig, now: datetime) -> dict[str, Any]:
    """The ``images`` column values of *record*, validated.

    Raises
    ------
    DatabaseError
        Naming the image path, if the footprint is not a valid lat/lon (Multi)Polygon or a field
        has the wrong type.
    """
    try:
        footprint = to_multipolygon(record.footprint)
        validate_lonlat(footprint)
        footprint_xyz = None
        if record.footprint_xyz is not None:
            footprint_xyz = to_multipolygon(record.footprint_xyz)
            if not shapely.has_z(footprint_xyz):
                raise ValueError("footprint_xyz has no Z coordinates")
        extra = json.dumps(record.extra, default=str) if record.extra else None
        dims = {}
        for key in ("lines", "samples", "bands"):
            value = getattr(record, key)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
            dims[key] = int(value)  # numpy integers from workers become plain ints
        for key in ("started", "finished"):
            value = getattr(record, key)
            if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
                raise ValueError(f"{key} must be a timezone-aware datetime, got {value!r}")
    except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise DatabaseError(f"cannot store image record: {exc}", record.path) from None
    return {
        "path": record.path,
        "name": record.name,
        "product_id": record.product_id,
        "serial_number": record.serial_number,
        **dims,
        "content_hash": record.content_hash,
        "footprint": shapely.set_srid(footprint, body.srid),
        "footprint_xyz": footprint_xyz,
        "ingested": now,
        "started": record.started,
        "finished": record.finished,
        "host": record.host,
        "extra": extra,
    }


def _camera_row(record: ImageRecord, image_id: int) -> dict[str, Any]:
    return {"image_id": image_id, "model_name": record.camera_model, "state": record.camera_state}


def _keypoint_row(record: ImageRecord, image_id: int) -> dict[str, Any]:
    kp = record.keypoints
    try:
        bbox = (None,) * 4 if kp.bbox is None else tuple(float(v) for v in kp.bbox)
        if len(bbox) != 4:
            raise ValueError(f"keypoint bbox must have 4 values, got {len(bbox)}")
        count = int(kp.count)
    except (TypeError, ValueError) as exc:
        raise DatabaseError(f"cannot store keypoint summary: {exc}", record.path) from None
    return {
        "image_id": image_id,
        "path": str(kp.path),
        "count": count,
        "extractor": kp.extractor,
        "bbox_xmin": bbox[0],
        "bbox_ymin": bbox[1],
        "bbox_xmax": bbox[2],
        "bbox_ymax": bbox[3],
    }


def _dedupe(records: Sequence[ImageRecord], force: bool) -> dict[str, ImageRecord]:
    """One record per path: the first (not force: later ones change nothing) or the last (force)."""
    chosen: dict[str, ImageRecord] = {}
    for rec in records:
        if force or rec.path not in chosen:
            chosen[rec.path] = rec
    return chosen


def _ids_of(conn: Connection, paths: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in chunks(paths):
        ids.update(conn.execute(select(ImageRow.path, ImageRow.id).where(ImageRow.path.in_(chunk))).all())
    return ids


def write_records(
    conn: Connection, records: Sequence[ImageRecord], body: BodyConfig, force: bool = False
) -> list[int]:
    """Upsert *records* on *conn* (inside the caller's transaction); return their image ids in order.

    Without *force* an existing path is left unchanged (image, camera and keypoints rows alike);
    with *force* all three are replaced by the record's values.
    """
    if not records:
        return []
    now = datetime.now(UTC)
    chosen = _dedupe(records, force)
    rows = [image_row(rec, body, now) for rec in chosen.values()]
    # Insert new paths, then (force) UPDATE the others: no UPSERT into the images table, whose
    # GeoPackage R-tree triggers misbehave under an UPSERT's conflict policy.
    written: dict[str, int] = {}
    for chunk in chunks(rows):
        stmt = _insert(conn, ImageRow).on_conflict_do_nothing(index_elements=["path"])
        written.update(conn.execute(stmt.returning(ImageRow.path, ImageRow.id), chunk).all())
    if force:
        existing = [row for row in rows if row["path"] not in written]
        if existing:
            table = ImageRow.__table__
            stmt = (
                table.update()
                .where(table.c.path == bindparam("v_path"))
                .values({k: bindparam("v_" + k) for k in existing[0] if k != "path"})
                .returning(table.c.path, table.c.id)
            )
            for row in existing:  # RETURNING with executemany UPDATE is not portable
                row_params = {"v_" + k: v for k, v in row.items()}
                written.update(conn.execute(stmt, row_params).all())
    ids = dict(written)
    missing = [p for p in chosen if p not in ids]
    if missing:
        ids.update(_ids_of(conn, missing))
    if written:
        cameras = [_camera_row(chosen[p], i) for p, i in written.items()]
        keypoints = [_keypoint_row(chosen[p], i) for p, i in written.items()]
        for model, values in ((Camera, cameras), (KeypointSet, keypoints)):
            for chunk in chunks(values):
                stmt = _insert(conn, model)
                if force:
                    set_ = {k: stmt.excluded[k] for k in chunk[0] if k != "image_id"}
                    stmt = stmt.on_conflict_do_update(index_elements=["image_id"], set_=set_)
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=["image_id"])
                conn.execute(stmt, chunk)
        if conn.dialect.name == "sqlite":
            grow_contents_extent(
                conn, IMAGES_TABLE, [row["footprint"] for row in rows if row["path"] in written]
            )
    return [ids[rec.path] for rec in records]
