"""The ``pairs`` rows as the matching stage sees them: what to match, the tasks, the results.

- :func:`pair_keys_with_status`: keys of the pairs to match (``pending``; with force every pair
  not ``skipped``), and of those with a result (the dispatcher's "done" set).
- :func:`pair_tasks`: one :class:`~tiepoint.records.PairTask` per key (image paths, keypoint files,
  camera states, overlap), in one query per chunk of keys.
- :func:`write_pair_records`: idempotent batch writer of :class:`~tiepoint.records.PairRecord` s
  into their pairs rows, keyed on ``key``, inside the caller's transaction (as
  :func:`tiepoint.db.writer.write_records` for images).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import aliased

from tiepoint.db.batches import chunks
from tiepoint.db.errors import PairNotFoundError
from tiepoint.db.models import Camera, ImageRow, KeypointSet, PairRow
from tiepoint.errors import DatabaseError
from tiepoint.records import PairRecord, PairTask, split_pair_key

_PAIRS = PairRow.__table__
RESULT_STATES = ("matched", "no_matches")
"""Statuses of pairs with a match result."""


def pair_keys_with_status(conn: Connection, statuses: Sequence[str]) -> list[str]:
    """Keys of the pairs whose status is one of *statuses*, ordered by (image a, image b)."""
    c = _PAIRS.c
    stmt = select(c.key).where(c.status.in_(list(statuses))).order_by(c.image_a, c.image_b)
    return list(conn.execute(stmt).scalars())


def _missing(keys: Sequence[str], found: set[str]) -> PairNotFoundError | None:
    missing = [k for k in keys if k not in found]
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return PairNotFoundError(f"no pair {shown} in the pairs table (image deleted, or pairs recomputed?)")


def pair_tasks(
    conn: Connection, keys: Sequence[str], output_for: Callable[[PairTask], str] | None = None
) -> list[PairTask]:
    """The :class:`~tiepoint.records.PairTask` of each pair key, in the order of *keys*.

    Parameters
    ----------
    keys : sequence of str
        Pair keys (:func:`tiepoint.records.pair_key`).
    output_for : callable, optional
        Gives a task's match file (``PairTask.output``) from the task; without it ``output`` is "".

    Raises
    ------
    PairNotFoundError
        Naming the keys that are not in the pairs table.
    DatabaseError
        Naming an image without a keypoints row.
    """
    ia, ib = aliased(ImageRow), aliased(ImageRow)
    ka, kb = aliased(KeypointSet), aliased(KeypointSet)
    p = _PAIRS.c
    rows: dict[str, tuple] = {}
    for chunk in chunks(list(dict.fromkeys(keys))):
        stmt = (
            select(p.key, p.image_a, p.image_b, ia.path, ib.path, ka.path, kb.path, PairRow.overlap)
            .join(ia, ia.id == p.image_a)
            .join(ib, ib.id == p.image_b)
            .outerjoin(ka, ka.image_id == p.image_a)
            .outerjoin(kb, kb.image_id == p.image_b)
            .where(p.key.in_(chunk))
        )
        rows.update((row[0], tuple(row)) for row in conn.execute(stmt))
    error = _missing(keys, set(rows))
    if error is not None:
        raise error
    image_ids = sorted({i for row in rows.values() for i in row[1:3]})
    cameras: dict[int, str] = {}  # one string per image, shared by all of its tasks
    for chunk in chunks(image_ids):
        cameras.update(
            conn.execute(select(Camera.image_id, Camera.state).where(Camera.image_id.in_(chunk))).all()
        )
    tasks = []
    for key in keys:
        _, a, b, path_a, path_b, kp_a, kp_b, overlap = rows[key]
        for path, kp in ((path_a, kp_a), (path_b, kp_b)):
            if kp is None:
                raise DatabaseError(f"pair {key}: the image has no keypoints row", path)
        task = PairTask(
            key=key,
            image_a=path_a,
            image_b=path_b,
            keypoints_a=kp_a,
            keypoints_b=kp_b,
            camera_a=cameras.get(a),
            camera_b=cameras.get(b),
            overlap=overlap,
            output="",
        )
        tasks.append(replace(task, output=str(output_for(task))) if output_for is not None else task)
    return tasks


def _int(record: PairRecord, name: str) -> int:
    value = getattr(record, name)
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _float(value: Any, name: str, *, nan_ok: bool = False) -> float | None:
    if value is None:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value) and nan_ok:
        return None  # stored as NULL on both backends (SQLite cannot store NaN)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _json(value: dict[str, Any]) -> str | None:
    def plain(obj: Any) -> Any:
        if hasattr(obj, "item"):  # numpy scalars
            return obj.item()
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return str(obj)

    return json.dumps(value, default=plain) if value else None


def result_row(record: PairRecord, now: datetime) -> dict[str, Any]:
    """The ``pairs`` result columns of *record*, validated.

    Raises
    ------
    DatabaseError
        Naming the pair key and the bad field.
    """
    try:
        split_pair_key(record.key)
        counts = {n: _int(record, n) for n in ("n_keypoints_a", "n_keypoints_b", "n_raw", "n_matches")}
        offset = record.offset_m
        if offset is not None:
            offset = tuple(offset)
            if len(offset) != 3:
                raise ValueError(f"offset_m must have 3 values, got {len(offset)}")
            offset = tuple(_float(v, "offset_m") for v in offset)
        for name in ("path", "method", "image_a", "image_b"):
            if not isinstance(getattr(record, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(record, name)!r}")
        for name in ("started", "finished"):
            value = getattr(record, name)
            if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
                raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
        row = {
            "status": "matched" if counts["n_matches"] > 0 else "no_matches",
            "path": record.path,
            "method": record.method,
            **counts,
            "inlier_ratio": _float(record.inlier_ratio, "inlier_ratio", nan_ok=True),
            "offset_x_m": None if offset is None else offset[0],
            "offset_y_m": None if offset is None else offset[1],
            "offset_z_m": None if offset is None else offset[2],
            "offset_mad_m": _float(record.offset_mad_m, "offset_mad_m"),
            "stats": _json(dict(record.stats)),
            "extra": _json(dict(record.extra)),
            "started": record.started,
            "finished": record.finished,
            "host": record.host,
            "updated": now,
        }
    except (ValueError, TypeError) as exc:
        raise DatabaseError(f"cannot store the match result of pair {record.key!r}: {exc}") from None
    return row


def write_pair_records(conn: Connection, records: Sequence[PairRecord]) -> list[int | None]:
    """Write match results into their pairs rows on *conn* (inside the caller's transaction).

    Idempotent: the row keyed by ``record.key`` gets the record's values (a later record for the
    same key wins). A record older than its pair's overlap (``record.started`` before
    ``pairs.computed``: an image was re-ingested while the pair was being matched) is not written;
    the pair stays ``pending`` so it is matched again.

    Returns
    -------
    list of int or None
        The pair ids in the order of *records*; None for the records left out as outdated.

    Raises
    ------
    PairNotFoundError
        Naming the keys of records whose pair is not in the table; nothing is written then.
    DatabaseError
        Naming the key of a record whose image paths are not the pair's, or that has a bad
        field; nothing is written then.
    """
    if not records:
        return []
    now = datetime.now(UTC)
    latest = {rec.key: rec for rec in records}
    rows = {key: result_row(rec, now) for key, rec in latest.items()}
    ia, ib = aliased(ImageRow), aliased(ImageRow)
    p = _PAIRS.c
    stored: dict[str, tuple] = {}
    for chunk in chunks(list(latest)):
        stmt = (
            select(p.key, p.id, ia.path, ib.path, p.computed)
            .join(ia, ia.id == p.image_a)
            .join(ib, ib.id == p.image_b)
            .where(p.key.in_(chunk))
        )
        stored.update((row[0], tuple(row[1:])) for row in conn.execute(stmt))
    error = _missing(list(latest), set(stored))
    if error is not None:
        raise error
    params = []
    ids: dict[str, int | None] = {}
    for key, rec in latest.items():
        pair_id, path_a, path_b, computed = stored[key]
        if (rec.image_a, rec.image_b) != (path_a, path_b):
            raise DatabaseError(
                f"the match result of pair {key} is for {rec.image_a} and {rec.image_b}, "
                f"but the pair is {path_a} and {path_b}"
            )
        if rec.started is not None and rec.started < computed:
            ids[key] = None
            continue
        ids[key] = pair_id
        params.append({"r_key": key, **{"r_" + k: v for k, v in rows[key].items()}})
    if params:
        stmt = (
            update(_PAIRS)
            .where(p.key == bindparam("r_key"))
            .values({k: bindparam("r_" + k) for k in rows[next(iter(rows))]})
        )
        for chunk in chunks(params):
            conn.execute(stmt, list(chunk))
    return [ids[rec.key] for rec in records]
