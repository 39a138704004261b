"""The control network's rows (``points``, ``measures``) as the network stage writes and reads them.

All functions run on a :class:`~sqlalchemy.engine.Connection` inside the caller's transaction (the
:class:`~tiepoint.db.Database` methods open it) and move column arrays, never one object per row:

- :func:`pairs_to_add`: the matched pairs whose matches are not in the network yet (or changed).
- :func:`network_images`: path, keypoint file, camera state, serial number of images by id.
- :func:`existing_measures`: ``(point, image, keypoint)`` of the measures in some images.
- :func:`insert_network`: new points and measures (ids assigned here, in one block), measures added
  to existing points, and the pairs marked as added (``pairs.network_done``).
- :func:`drop_stale_measures`: measures older than their image's ingest (re-ingested with force:
  the keypoint rows they name are other keypoints now), then the housekeeping below.
- :func:`refresh_points`: depth, reference measures (a point whose reference is gone gets the finest
  measure, and its other measures are registered again), emptied points deleted, and ``ignore`` for
  points left with fewer than two good measures (:data:`FEW_MEASURES`), undone when they have two again.

Ids are assigned in one block above the tables' largest (under a transaction-scoped advisory lock on
PostgreSQL; SQLite writers hold the write lock), so measures can name their point and points their
reference measure in the same bulk insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, bindparam, func, or_, select, text

from tiepoint.db.batches import chunks
from tiepoint.db.bulk import Points, bools, bulk_insert, bulk_update, db_time, fetch_columns, floats, ints
from tiepoint.db.models import MEASURES_TABLE, POINTS_TABLE, REGISTRATION_STATES, PairRow
from tiepoint.db.types import UTCDateTime

POINT_ID_PREFIX = "tp"
"""Point ids are this prefix and the row id, zero-padded to 8 digits (``tp00000042``)."""
FEW_MEASURES = "fewer than 2 good measures"
"""``points.ignore_reason`` of a point left with fewer than two measures that are not ignored."""
_NETWORK_LOCK_KEY = 0x7469_6570_6E65  # pg advisory lock id of network writes ("tiepne")


@dataclass(slots=True)
class PairInputs:
    """Matched pairs whose matches the network does not hold yet (``pairs_to_add``)."""

    id: np.ndarray
    """(K,) int64 pair row ids."""
    key: list[str]
    image_a: np.ndarray
    """(K,) int64 image ids, a < b."""
    image_b: np.ndarray
    path: list[str]
    """The match files."""
    result_time: list[datetime]
    """The match result's ``finished`` (or ``updated``): stored in ``network_done`` once added."""

    def __len__(self) -> int:
        return len(self.key)

    def take(self, index: Sequence[int] | np.ndarray) -> PairInputs:
        """The pairs at *index*."""
        idx = np.asarray(index, dtype=np.int64)
        return PairInputs(
            self.id[idx],
            [self.key[i] for i in idx.tolist()],
            self.image_a[idx],
            self.image_b[idx],
            [self.path[i] for i in idx.tolist()],
            [self.result_time[i] for i in idx.tolist()],
        )


@dataclass(frozen=True, slots=True)
class NetworkImage:
    """What the network stage needs of an image row."""

    id: int
    path: str
    name: str
    keypoints: str | None
    """The HDF5 keypoint file."""
    camera: str | None
    """JSON camera state (``tiepoint.camera.from_state``)."""
    serial_number: str | None
    lines: int
    samples: int


@dataclass(slots=True)
class NewNetwork:
    """Rows to insert: ``P`` new points, ``M`` measures (of new points or added to existing ones).

    Point columns have length ``P``; measure columns length ``M``. A measure belongs to new point
    ``new_point[i]`` (>= 0) or, when that is -1, to the existing point row ``point_row[i]``.
    """

    apriori: np.ndarray
    """(P, 3) body-fixed metres, NaN rows where there is none."""
    apriori_method: np.ndarray
    """(P,) str: ``rays``, ``average_of_measures`` or ``none``."""
    height_m: np.ndarray
    convergence_deg: np.ndarray
    ray_rms_m: np.ndarray
    spread_m: np.ndarray
    lon: np.ndarray
    """(P,) degrees (the footprints' longitude domain), NaN where there is no a-priori point."""
    lat: np.ndarray
    reference: np.ndarray
    """(P,) index into the measure columns of each new point's reference measure."""
    new_point: np.ndarray
    """(M,) int64 index of the new point, or -1."""
    point_row: np.ndarray
    """(M,) int64 ``points.id`` of the existing point, or -1."""
    image: np.ndarray
    keypoint: np.ndarray
    x: np.ndarray
    """(M,) OpenCV positions of the keypoints (a-priori positions)."""
    y: np.ndarray
    emission_deg: np.ndarray
    resolution_m: np.ndarray

    @property
    def n_points(self) -> int:
        return len(self.reference)

    @property
    def n_measures(self) -> int:
        return len(self.image)


_SURF_SOURCE = {"rays": "User", "average_of_measures": "AverageOfMeasures"}
"""tiepoint's a-priori method -> ISIS source name (a ray intersection is tiepoint's own estimate:
``User``; ISIS has no name for it)."""


@dataclass(slots=True)
class InsertResult:
    """Ids given to the inserted rows."""

    point_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    """(P,) ``points.id`` of the new points."""
    measure_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    """(M,) ``measures.id`` of the measures, in the order given."""


# ------------------------------------------------------------------------------------------ reads


def pairs_to_add(conn: Connection) -> PairInputs:
    """Matched pairs whose current match result is not in the network, ordered by (image a, image b)."""
    c = PairRow.__table__.c
    result_time = func.coalesce(c.finished, c.updated, type_=UTCDateTime())
    stmt = (
        select(c.id, c.key, c.image_a, c.image_b, c.path, result_time)
        .where(c.status == "matched", c.path.is_not(None))
        .where(or_(c.network_done.is_(None), c.network_done != result_time))
        .order_by(c.image_a, c.image_b)
    )
    rows = conn.execute(stmt).all()
    return PairInputs(
        np.array([r[0] for r in rows], dtype=np.int64),
        [r[1] for r in rows],
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.int64),
        [r[4] for r in rows],
        [r[5] for r in rows],
    )


def network_images(conn: Connection, image_ids: Sequence[int]) -> dict[int, NetworkImage]:
    """:class:`NetworkImage` of each image id found (one query per chunk of ids)."""
    out: dict[int, NetworkImage] = {}
    for chunk in chunks(sorted({int(i) for i in image_ids})):
        rows = conn.execute(
            text(
                "SELECT i.id, i.path, i.name, k.path, c.state, i.serial_number, i.lines, i.samples "
                "FROM images i LEFT JOIN keypoints k ON k.image_id = i.id "
                "LEFT JOIN cameras c ON c.image_id = i.id WHERE i.id IN :ids"
            ).bindparams(_expanding("ids")),
            {"ids": list(chunk)},
        ).all()
        out.update({int(r[0]): NetworkImage(int(r[0]), *r[1:6], int(r[6]), int(r[7])) for r in rows})
    return out


def _expanding(name: str):
    return bindparam(name, expanding=True)


def existing_measures(
    conn: Connection, image_ids: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(point row id, image id, keypoint row)`` of every measure in *image_ids*, as int64 arrays."""
    sql = "SELECT point_id, image_id, keypoint FROM measures WHERE image_id IN :ids"
    parts = [
        [ints(c) for c in _fetch_in(conn, sql, list(chunk))]
        for chunk in chunks(sorted({int(i) for i in image_ids}))
    ]
    if not parts:
        e = np.empty(0, np.int64)
        return e, e.copy(), e.copy()
    point, image, keypoint = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return point, image, keypoint


def network_points(conn: Connection, point_ids: Sequence[int]) -> dict[str, np.ndarray]:
    """``id`` (sorted), ``apriori_x/y/z`` and ``height_m`` of the points with these row ids."""
    sql = "SELECT id, apriori_x, apriori_y, apriori_z, height_m FROM points WHERE id IN :ids ORDER BY id"
    parts = [_fetch_in(conn, sql, list(c)) for c in chunks(sorted({int(i) for i in point_ids}))]
    names = ("id", "apriori_x", "apriori_y", "apriori_z", "height_m")
    out = {}
    for k, name in enumerate(names):
        cols = [p[k] for p in parts]
        col = np.concatenate(cols) if cols else np.empty(0, dtype=object)
        out[name] = ints(col) if name == "id" else floats(col)
    return out


def _fetch_in(conn: Connection, sql: str, ids: list[int], **params) -> list[np.ndarray]:
    """:func:`fetch_columns` of *sql*, whose ``:ids`` is an expanding ``IN`` list."""
    result = conn.execute(text(sql).bindparams(_expanding("ids")), {"ids": ids, **params})
    n = len(result.keys())
    rows = result.all()
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(n)]
    return [np.array(col, dtype=object) for col in zip(*rows, strict=True)]


# ------------------------------------------------------------------------------------------ writes


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _NETWORK_LOCK_KEY})


def _next_ids(conn: Connection, table: str, n: int) -> np.ndarray:
    base = int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one())
    return np.arange(base + 1, base + 1 + n, dtype=np.int64)


def _sync_sequence(conn: Connection, table: str) -> None:
    """PostgreSQL: move the id sequence past the ids given explicitly."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )


def point_ids_of(rows: np.ndarray) -> np.ndarray:
    """The ``points.point_id`` text of row ids: :data:`POINT_ID_PREFIX` and 8 digits."""
    return np.char.add(POINT_ID_PREFIX, np.char.zfill(np.asarray(rows, dtype=np.int64).astype(str), 8))


def _check(new: NewNetwork) -> None:
    p, m = new.n_points, new.n_measures
    for name in ("apriori_method", "height_m", "convergence_deg", "ray_rms_m", "spread_m", "lon", "lat"):
        if len(getattr(new, name)) != p:
            raise ValueError(f"NewNetwork.{name} has {len(getattr(new, name))} values, expected {p}")
    if np.shape(new.apriori) != (p, 3):
        raise ValueError(f"NewNetwork.apriori must have shape ({p}, 3), got {np.shape(new.apriori)}")
    for name in ("point_row", "image", "keypoint", "x", "y", "emission_deg", "resolution_m"):
        if len(getattr(new, name)) != m:
            raise ValueError(f"NewNetwork.{name} has {len(getattr(new, name))} values, expected {m}")
    owner = np.asarray(new.new_point)
    if ((owner < 0) == (np.asarray(new.point_row) < 0)).any():
        raise ValueError("each measure needs exactly one of new_point and point_row")
    ref = np.asarray(new.reference)
    if p and (ref.min() < 0 or ref.max() >= m or (owner[ref] != np.arange(p)).any()):
        raise ValueError("a new point's reference must be one of its own measures")


def insert_network(
    conn: Connection, new: NewNetwork, pairs: PairInputs, srid: int, now: datetime
) -> InsertResult:
    """Insert *new* (see :class:`NewNetwork`) and mark *pairs* as added, in the caller's transaction.

    New measures are ``Candidate`` s with status ``pending`` (registration to come), a new point's
    reference measure has status ``reference``. Depths of the existing points that gain measures are
    updated. Returns the ids given.

    Raises
    ------
    ValueError
        Inconsistent columns (lengths, a reference outside its point).
    sqlalchemy.exc.IntegrityError
        A keypoint already used by a measure, or two measures of one point in one image (the unique
        constraints), or an image or point that does not exist.
    """
    _check(new)
    _lock(conn)
    result = InsertResult()
    if new.n_measures:
        point_rows = _next_ids(conn, POINTS_TABLE, new.n_points)
        measure_rows = _next_ids(conn, MEASURES_TABLE, new.n_measures)
        owner = np.asarray(new.new_point, dtype=np.int64)
        point_of = np.where(
            owner >= 0, point_rows[np.maximum(owner, 0)] if new.n_points else -1, new.point_row
        )
        depth = np.bincount(owner[owner >= 0], minlength=new.n_points)
        method = np.asarray(new.apriori_method, dtype=object)
        has_apriori = np.isfinite(np.asarray(new.apriori, float)).all(axis=1)
        surf = np.full(new.n_points, None, dtype=object)
        for name, source in _SURF_SOURCE.items():
            surf[(method == name) & has_apriori] = source
        if new.n_points:
            bulk_insert(
                conn,
                POINTS_TABLE,
                {
                    "id": point_rows,
                    "point_id": point_ids_of(point_rows),
                    "type": "Free",
                    "ignore": False,
                    "apriori_x": np.asarray(new.apriori, float)[:, 0],
                    "apriori_y": np.asarray(new.apriori, float)[:, 1],
                    "apriori_z": np.asarray(new.apriori, float)[:, 2],
                    "apriori_surf_source": surf,
                    "apriori_radius_source": surf,
                    "apriori_method": method,
                    "height_m": np.asarray(new.height_m, float),
                    "convergence_deg": np.asarray(new.convergence_deg, float),
                    "ray_rms_m": np.asarray(new.ray_rms_m, float),
                    "spread_m": np.asarray(new.spread_m, float),
                    "reference_measure_id": measure_rows[np.asarray(new.reference, dtype=np.int64)],
                    "depth": depth,
                    "geom": Points(np.asarray(new.lon, float), np.asarray(new.lat, float), srid),
                    "created": now,
                    "updated": now,
                },
            )
        is_reference = np.zeros(new.n_measures, bool)
        is_reference[np.asarray(new.reference, dtype=np.int64)] = True
        bulk_insert(
            conn,
            MEASURES_TABLE,
            {
                "id": measure_rows,
                "point_id": point_of,
                "image_id": np.asarray(new.image, dtype=np.int64),
                "keypoint": np.asarray(new.keypoint, dtype=np.int64),
                "x": np.asarray(new.x, float),
                "y": np.asarray(new.y, float),
                "apriori_x": np.asarray(new.x, float),
                "apriori_y": np.asarray(new.y, float),
                "type": "Candidate",
                "ignore": False,
                "status": np.where(is_reference, "reference", "pending").astype(object),
                "emission_deg": np.asarray(new.emission_deg, float),
                "resolution_m": np.asarray(new.resolution_m, float),
                "jigsaw_rejected": False,
                "created": now,
            },
        )
        _sync_sequence(conn, POINTS_TABLE)
        _sync_sequence(conn, MEASURES_TABLE)
        grown = np.unique(np.asarray(new.point_row)[owner < 0])
        if len(grown):
            refresh_points(conn, grown, now)
        result = InsertResult(point_rows, measure_rows)
        if conn.dialect.name == "sqlite" and new.n_points:
            from tiepoint.db.gpkg import update_contents_extent

            update_contents_extent(conn, POINTS_TABLE, "geom")
    if len(pairs):
        bulk_update(
            conn, "pairs", "id", {"id": pairs.id, "network_done": np.array(pairs.result_time, object)}
        )
    return result


_FAILURES = tuple(s for s in REGISTRATION_STATES if s not in ("pending", "reference", "ok"))
"""Registration statuses that ignore a measure (its ``ignore_reason``)."""


def refresh_points(conn: Connection, point_ids: np.ndarray | None, now: datetime) -> None:
    """Depth, reference measure, deletion when empty, and ``ignore`` of points (all when None).

    A point whose reference measure is gone takes the measure with the finest ground
    resolution (then the smallest emission angle, then the lowest image id) that is not ignored: it
    becomes the ``reference`` at its a-priori position, and the point's other measures become
    ``pending`` again (their registration was relative to the old reference; those ignored for a
    failed registration are no longer ignored until registered again). Points with no measure left
    are deleted. A point with fewer than two measures that are not ignored is ignored (reason
    :data:`FEW_MEASURES`); one ignored for that reason is restored when it has two again.
    """
    if point_ids is None:
        id_chunks: list[list[int] | None] = [None]
    else:
        id_chunks = [list(c) for c in chunks(sorted({int(i) for i in np.asarray(point_ids).tolist()}))]
    failures = ", ".join(f"'{s}'" for s in _FAILURES)
    orphan = (
        "(reference_measure_id IS NULL OR NOT EXISTS (SELECT 1 FROM measures r "
        "WHERE r.id = points.reference_measure_id AND r.point_id = points.id))"
    )
    good = "(SELECT count(*) FROM measures m WHERE m.point_id = points.id AND NOT m.ignore)"
    statements = [
        "UPDATE points SET depth = (SELECT count(*) FROM measures m WHERE m.point_id = points.id) "
        "WHERE {ids}",
        "UPDATE measures SET status = 'pending', x = apriori_x, y = apriori_y, type = 'Candidate', "
        f"ignore = CASE WHEN ignore_reason IN ({failures}) THEN false ELSE ignore END, "
        f"ignore_reason = CASE WHEN ignore_reason IN ({failures}) THEN NULL ELSE ignore_reason END "
        f"WHERE status <> 'pending' AND point_id IN (SELECT id FROM points WHERE {orphan} AND {{ids}})",
        "UPDATE points SET reference_measure_id = (SELECT m.id FROM measures m WHERE m.point_id = points.id "
        "AND NOT m.ignore ORDER BY (m.resolution_m IS NULL), m.resolution_m, (m.emission_deg IS NULL), "
        f"m.emission_deg, m.image_id LIMIT 1), updated = :now WHERE {orphan} AND {{ids}}",
        "UPDATE measures SET status = 'reference', x = apriori_x, y = apriori_y, type = 'Candidate' "
        "WHERE status <> 'reference' AND id IN (SELECT reference_measure_id FROM points WHERE {ids})",
        "DELETE FROM points WHERE depth = 0 AND {ids}",
        f"UPDATE points SET ignore = true, ignore_reason = :reason, updated = :now "
        f"WHERE NOT ignore AND {good} < 2 AND {{ids}}",
        f"UPDATE points SET ignore = false, ignore_reason = NULL, updated = :now "
        f"WHERE ignore AND ignore_reason = :reason AND {good} >= 2 AND {{ids}}",
    ]
    params = {"now": db_time(now, conn.dialect.name), "reason": FEW_MEASURES}
    for ids in id_chunks:
        for sql in statements:
            if ids is None:
                conn.execute(text(sql.format(ids="true")), params)
            else:
                stmt = text(sql.format(ids="id IN :ids")).bindparams(_expanding("ids"))
                conn.execute(stmt, {**params, "ids": ids})


def drop_stale_measures(conn: Connection, now: datetime) -> int:
    """Delete measures created before their image was (re-)ingested; refresh their points.

    Returns the number of measures deleted.
    """
    cols = fetch_columns(
        conn,
        "SELECT m.id, m.point_id FROM measures m JOIN images i ON i.id = m.image_id "
        "WHERE m.created < i.ingested",
    )
    ids, points = ints(cols[0]), ints(cols[1])
    if not len(ids):
        return 0
    for chunk in chunks(ids.tolist()):
        conn.execute(
            text("DELETE FROM measures WHERE id IN :ids").bindparams(_expanding("ids")), {"ids": list(chunk)}
        )
    refresh_points(conn, np.unique(points), now)
    return len(ids)


def apply_import(
    conn: Connection,
    points: dict[str, np.ndarray],
    adjusted: dict[str, np.ndarray],
    measures: dict[str, np.ndarray],
    ignored_measures: np.ndarray,
    reason: str,
    srid: int,
    now: datetime,
) -> None:
    """Store what an imported network says (see :func:`tiepoint.network.exchange.import_network`).

    *points*: ``id``, ``ignore``, ``ignore_reason`` of points whose flag the network sets (or this
    import had set). *adjusted*: ``id``, ``adjusted_x/y/z``, ``lon``, ``lat`` (the new map position).
    *measures*: ``id``, ``jigsaw_rejected``, ``sample_residual``, ``line_residual`` of the measures
    matched; of those, *ignored_measures* are ignored with *reason*, the others lose an ignore of
    that reason. Then the touched points are refreshed (:func:`refresh_points`).
    """
    if len(points["id"]):
        bulk_update(conn, POINTS_TABLE, "id", {**points, "updated": now})
    if len(adjusted["id"]):
        bulk_update(
            conn,
            POINTS_TABLE,
            "id",
            {
                "id": adjusted["id"],
                "adjusted_x": adjusted["adjusted_x"],
                "adjusted_y": adjusted["adjusted_y"],
                "adjusted_z": adjusted["adjusted_z"],
                "geom": Points(adjusted["lon"], adjusted["lat"], srid),
                "updated": now,
            },
        )
    ids = np.asarray(measures["id"], dtype=np.int64)
    if len(ids):
        bulk_update(conn, MEASURES_TABLE, "id", measures)
        for chunk in chunks(ids.tolist()):
            stmt = text(
                "UPDATE measures SET ignore = false, ignore_reason = NULL WHERE ignore_reason = :reason "
                "AND id IN :ids"
            ).bindparams(_expanding("ids"))
            conn.execute(stmt, {"reason": reason, "ids": list(chunk)})
        for chunk in chunks(np.asarray(ignored_measures, dtype=np.int64).tolist()):
            stmt = text(
                "UPDATE measures SET ignore = true, ignore_reason = :reason WHERE id IN :ids"
            ).bindparams(_expanding("ids"))
            conn.execute(stmt, {"reason": reason, "ids": list(chunk)})
    touched = [np.asarray(points["id"], dtype=np.int64), np.asarray(adjusted["id"], dtype=np.int64)]
    sql = "SELECT DISTINCT point_id FROM measures WHERE id IN :ids"
    touched += [ints(_fetch_in(conn, sql, list(chunk))[0]) for chunk in chunks(ids.tolist())]
    if conn.dialect.name == "sqlite" and len(adjusted["id"]):
        from tiepoint.db.gpkg import update_contents_extent

        update_contents_extent(conn, POINTS_TABLE, "geom")
    refresh_points(conn, np.unique(np.concatenate(touched)), now)


# ------------------------------------------------------------------------------------------ tables

POINT_COLUMNS = (
    "id", "point_id", "type", "ignore", "ignore_reason", "apriori_x", "apriori_y", "apriori_z",
    "apriori_surf_source", "apriori_radius_source", "apriori_method", "height_m", "convergence_deg",
    "ray_rms_m", "spread_m", "reference_measure_id", "depth", "adjusted_x", "adjusted_y", "adjusted_z",
)  # fmt: skip
"""Columns :func:`network_table` can read from ``points`` (plus ``lon``, ``lat`` from ``geom``)."""
MEASURE_COLUMNS = (
    "id", "point_id", "image_id", "keypoint", "x", "y", "apriori_x", "apriori_y", "type", "ignore",
    "ignore_reason", "status", "ncc", "ncc_second", "shift_x", "shift_y", "disagreement_px", "texture",
    "emission_deg", "resolution_m", "sample_residual", "line_residual", "jigsaw_rejected", "registered",
)  # fmt: skip
"""Columns :func:`network_table` can read from ``measures``."""
_INT_COLUMNS = {"id", "point_id", "image_id", "keypoint", "reference_measure_id", "depth"}
_BOOL_COLUMNS = {"ignore", "jigsaw_rejected"}
_TEXT_COLUMNS = {
    "type", "ignore_reason", "apriori_surf_source", "apriori_radius_source", "apriori_method", "status",
    "registered",
}  # fmt: skip


@dataclass(slots=True)
class NetworkTable:
    """Columns of ``points`` (P rows, ordered by id) and ``measures`` (M rows, ordered by point, then
    image), as numpy arrays: ints (NULL -1), floats (NULL NaN), bools, object arrays of str/None."""

    points: dict[str, np.ndarray]
    measures: dict[str, np.ndarray]

    @property
    def n_points(self) -> int:
        return len(self.points["id"])

    @property
    def n_measures(self) -> int:
        return len(self.measures["id"])

    def point_index(self) -> np.ndarray:
        """(M,) row of each measure's point in the point columns."""
        return np.searchsorted(self.points["id"], self.measures["point_id"])


def _typed(name: str, column: np.ndarray, text_ids: bool = False) -> np.ndarray:
    if text_ids and name == "point_id":  # the points' own id is text; a measure's point_id a row id
        return np.asarray(column, dtype=object)
    if name in _INT_COLUMNS:
        return ints(column)
    if name in _BOOL_COLUMNS:
        return bools(column)
    if name in _TEXT_COLUMNS:
        return np.asarray(column, dtype=object)
    return floats(column)


def network_table(
    conn: Connection,
    point_columns: Sequence[str] = POINT_COLUMNS,
    measure_columns: Sequence[str] = MEASURE_COLUMNS,
    *,
    lonlat: bool = True,
) -> NetworkTable:
    """Read the network as column arrays (``id``, ``point_id``/``image_id`` are always read).

    With *lonlat*, ``points`` also gets ``lon`` and ``lat`` (degrees, NaN without a geometry) from
    the ``geom`` column.
    """
    pcols = ["id", *[c for c in point_columns if c != "id"]]
    mcols = [
        "id",
        "point_id",
        "image_id",
        *[c for c in measure_columns if c not in ("id", "point_id", "image_id")],
    ]
    unknown = (set(pcols) - set(POINT_COLUMNS)) | (set(mcols) - set(MEASURE_COLUMNS))
    if unknown:
        raise ValueError(f"unknown network columns {sorted(unknown)}")
    select_p = list(pcols)
    if lonlat:
        if conn.dialect.name == "postgresql":
            select_p += ["ST_X(geom)", "ST_Y(geom)"]
        else:
            select_p += ["ST_MinX(geom)", "ST_MinY(geom)"]
    praw = fetch_columns(conn, f"SELECT {', '.join(select_p)} FROM points ORDER BY id")
    points = {name: _typed(name, col, text_ids=True) for name, col in zip(pcols, praw, strict=False)}
    if lonlat:
        points["lon"], points["lat"] = floats(praw[-2]), floats(praw[-1])
    mraw = fetch_columns(conn, f"SELECT {', '.join(mcols)} FROM measures ORDER BY point_id, image_id")
    measures = {name: _typed(name, col) for name, col in zip(mcols, mraw, strict=True)}
    return NetworkTable(points, measures)


__all__ = [
    "FEW_MEASURES",
    "MEASURE_COLUMNS",
    "POINT_COLUMNS",
    "POINT_ID_PREFIX",
    "InsertResult",
    "NetworkImage",
    "NetworkTable",
    "NewNetwork",
    "PairInputs",
    "apply_import",
    "drop_stale_measures",
    "existing_measures",
    "insert_network",
    "network_images",
    "network_points",
    "network_table",
    "pairs_to_add",
    "point_ids_of",
    "refresh_points",
]
