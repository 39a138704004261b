"""Sub-pixel registration as the dispatcher sees the ``measures`` table: what to register, the tasks,
the results.

A job registers the ``pending`` measures of one image (its key: the image's path) to their points'
reference measures. A measure is *registrable* when it is ``pending`` and its point has a reference
measure (status ``reference``) in another image.

- :func:`images_to_register`: paths of the images with registrable measures (the "not done" keys).
- :func:`registration_tasks`: one :class:`~tiepoint.records.RegistrationTask` per path.
- :func:`reset_registration`: measures back to ``pending`` (registering again with ``force``).
- :func:`write_registrations`: the results into the measure rows (positions, status, correlation,
  shift; a failure keeps the a-priori position and is ignored with its status as the reason), then
  the points' ``ignore`` (:func:`tiepoint.db.network.refresh_points`). Idempotent: only measures
  still ``pending`` are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, bindparam, text

from tiepoint.db.batches import chunks
from tiepoint.db.bulk import bulk_update, floats, ints
from tiepoint.db.models import MEASURES_TABLE, REGISTRATION_STATES
from tiepoint.db.network import refresh_points
from tiepoint.errors import DatabaseError
from tiepoint.records import RegistrationRecord, RegistrationTask

_RESULT_STATES = frozenset(REGISTRATION_STATES) - {"pending", "reference"}
_REGISTRABLE = (
    "FROM measures m JOIN points p ON p.id = m.point_id JOIN measures r ON r.id = p.reference_measure_id "
    "WHERE m.status = 'pending' AND r.status = 'reference' AND r.image_id <> m.image_id"
)


def _rows(conn: Connection, sql: str, ids: list, **params) -> list[tuple]:
    stmt = text(sql).bindparams(bindparam("ids", expanding=True))
    return [tuple(r) for r in conn.execute(stmt, {"ids": ids, **params}).all()]


def images_to_register(conn: Connection, paths: Sequence[str] | None = None) -> list[str]:
    """Paths of the images that have registrable measures (among *paths* if given), sorted."""
    exists = f"EXISTS (SELECT 1 {_REGISTRABLE} AND m.image_id = i.id)"
    if paths is None:
        stmt = text(f"SELECT i.path FROM images i WHERE {exists} ORDER BY i.path")
        return [r[0] for r in conn.execute(stmt).all()]
    out: list[str] = []
    for chunk in chunks(sorted(set(paths))):
        sql = f"SELECT i.path FROM images i WHERE i.path IN :ids AND {exists}"
        out += [r[0] for r in _rows(conn, sql, list(chunk))]
    return sorted(out)


def registration_tasks(conn: Connection, paths: Sequence[str]) -> list[RegistrationTask | DatabaseError]:
    """The :class:`~tiepoint.records.RegistrationTask` of each image path, in order.

    An image that is not in the database, or has no camera, gets a :class:`DatabaseError` naming it
    in its place. An image without registrable measures gets a task with none.
    """
    images: dict[str, tuple[int, str | None]] = {}
    for chunk in chunks(sorted(set(paths))):
        images.update(
            (r[0], (int(r[1]), r[2]))
            for r in _rows(
                conn,
                "SELECT i.path, i.id, c.state FROM images i LEFT JOIN cameras c ON c.image_id = i.id "
                "WHERE i.path IN :ids",
                list(chunk),
            )
        )
    ids = sorted({v[0] for v in images.values()})
    rows: list[tuple] = []
    for chunk in chunks(ids):
        rows += _rows(
            conn,
            "SELECT m.image_id, m.id, m.apriori_x, m.apriori_y, r.image_id, r.x, r.y, p.height_m "
            f"{_REGISTRABLE} AND m.image_id IN :ids ORDER BY m.image_id, m.id",
            list(chunk),
        )
    cols = [np.array(c, dtype=object) for c in zip(*rows, strict=True)] if rows else [np.empty(0, object)] * 8
    image, mid, ax, ay, rimage, rx, ry, height = (
        ints(cols[0]),
        ints(cols[1]),
        floats(cols[2]),
        floats(cols[3]),
        ints(cols[4]),
        floats(cols[5]),
        floats(cols[6]),
        np.nan_to_num(floats(cols[7])),
    )
    ref_ids = sorted(set(rimage.tolist()))
    refs: dict[int, tuple[str, str | None]] = {}
    for chunk in chunks(ref_ids):
        refs.update(
            (int(r[0]), (r[1], r[2]))
            for r in _rows(
                conn,
                "SELECT i.id, i.path, c.state FROM images i LEFT JOIN cameras c ON c.image_id = i.id "
                "WHERE i.id IN :ids",
                list(chunk),
            )
        )
    bounds = np.searchsorted(image, np.asarray(ids, dtype=np.int64)) if ids else np.empty(0, np.int64)
    ends = np.searchsorted(image, np.asarray(ids, dtype=np.int64), side="right") if ids else bounds
    span = {i: (int(a), int(b)) for i, a, b in zip(ids, bounds, ends, strict=True)}
    out: list[RegistrationTask | DatabaseError] = []
    for path in paths:
        if path not in images:
            out.append(DatabaseError("not in the database (deleted since it was queued?)", path))
            continue
        image_id, state = images[path]
        a, b = span[image_id]
        used = rimage[a:b]
        uniq, index = np.unique(used, return_inverse=True)
        missing = [path] if state is None else [refs[int(u)][0] for u in uniq if refs[int(u)][1] is None]
        if missing:
            out.append(DatabaseError("the image has no camera: registration needs one", missing[0]))
            continue
        out.append(
            RegistrationTask(
                key=path,
                image=path,
                camera=state,
                measure_ids=mid[a:b],
                x=ax[a:b],
                y=ay[a:b],
                reference=index.astype(np.int32),
                ref_x=rx[a:b],
                ref_y=ry[a:b],
                height=height[a:b],
                references=tuple((refs[int(u)][0], refs[int(u)][1]) for u in uniq),  # type: ignore[misc]
            )
        )
    return out


def reset_registration(conn: Connection, paths: Sequence[str] | None = None) -> int:
    """Put the registered (and failed) measures of *paths* (all images if None) back to ``pending``.

    Their positions go back to the a-priori ones; those ignored for a failed registration are no
    longer ignored until registered again. Returns the number of measures reset.
    """
    failures = ", ".join(f"'{s}'" for s in sorted(_RESULT_STATES - {"ok"}))
    sql = (
        "UPDATE measures SET status = 'pending', x = apriori_x, y = apriori_y, type = 'Candidate', "
        f"ignore = CASE WHEN ignore_reason IN ({failures}) THEN false ELSE ignore END, "
        f"ignore_reason = CASE WHEN ignore_reason IN ({failures}) THEN NULL ELSE ignore_reason END "
        "WHERE status NOT IN ('pending', 'reference')"
    )
    if paths is None:
        return conn.execute(text(sql)).rowcount or 0
    total = 0
    for chunk in chunks(sorted(set(paths))):
        stmt = text(sql + " AND image_id IN (SELECT id FROM images WHERE path IN :ids)").bindparams(
            bindparam("ids", expanding=True)
        )
        total += conn.execute(stmt, {"ids": list(chunk)}).rowcount or 0
    return total


def _columns(records: Sequence[RegistrationRecord]) -> dict[str, np.ndarray]:
    names = ("measure_ids", "status", "x", "y", "dx", "dy", "ncc", "ncc_second", "disagreement_px", "texture")
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for rec in records:
        n = len(np.asarray(rec.measure_ids))
        for k in names:
            value = np.asarray(getattr(rec, k)).reshape(-1)
            if len(value) != n:
                raise DatabaseError(
                    f"cannot store the registration of {rec.key}: {k} has {len(value)} values, "
                    f"expected {n} (one per measure)"
                )
            out[k].append(value)
        bad = set(np.asarray(rec.status).astype(str).tolist()) - _RESULT_STATES
        if bad:
            raise DatabaseError(f"cannot store the registration of {rec.key}: unknown status {sorted(bad)}")
    return {k: (np.concatenate(v) if v else np.empty(0)) for k, v in out.items()}


def write_registrations(conn: Connection, records: Sequence[RegistrationRecord], now: datetime) -> int:
    """Store registration results in their measure rows (inside the caller's transaction).

    Only measures still ``pending`` are written (a result written twice changes nothing the second
    time; a measure deleted meanwhile is skipped). ``ok``: the registered position, type
    ``RegisteredSubPixel``; otherwise the a-priori position stays, the measure is ignored with its
    status as the reason. The points of the written measures are refreshed. Returns the number of
    measures written.

    Raises
    ------
    DatabaseError
        Naming the key of a record with arrays of different lengths or an unknown status.
    """
    cols = _columns(records)
    ids = cols["measure_ids"].astype(np.int64)
    if not len(ids):
        return 0
    latest = np.zeros(len(ids), bool)  # the last result of a measure given twice wins
    _, last = np.unique(ids[::-1], return_index=True)
    latest[len(ids) - 1 - last] = True
    pending, points = [], []
    for chunk in chunks(np.unique(ids).tolist()):
        sql = "SELECT id, point_id FROM measures WHERE status = 'pending' AND id IN :ids"
        rows = _rows(conn, sql, list(chunk))
        pending += [r[0] for r in rows]
        points += [r[1] for r in rows]
    keep = latest & np.isin(ids, np.asarray(pending, dtype=np.int64))
    if not keep.any():
        return 0
    status = cols["status"].astype(str)[keep]
    ok = status == "ok"
    reason = status.astype(object)
    reason[ok] = None
    bulk_update(
        conn,
        MEASURES_TABLE,
        "id",
        {
            "id": ids[keep],
            "x": cols["x"].astype(float)[keep],
            "y": cols["y"].astype(float)[keep],
            "status": status.astype(object),
            "type": np.where(ok, "RegisteredSubPixel", "Candidate").astype(object),
            "ignore": ~ok,
            "ignore_reason": reason,
            "ncc": cols["ncc"].astype(float)[keep],
            "ncc_second": cols["ncc_second"].astype(float)[keep],
            "shift_x": cols["dx"].astype(float)[keep],
            "shift_y": cols["dy"].astype(float)[keep],
            "disagreement_px": cols["disagreement_px"].astype(float)[keep],
            "texture": cols["texture"].astype(float)[keep],
            "registered": now,
        },
    )
    refresh_points(conn, np.unique(np.asarray(points, dtype=np.int64)), now)
    return int(keep.sum())


__all__ = ["images_to_register", "registration_tasks", "reset_registration", "write_registrations"]
