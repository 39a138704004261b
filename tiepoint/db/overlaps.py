"""The overlap graph, kept up to date incrementally in the ``pairs`` table.

An image's pairs are *current* when ``images.overlaps_done`` equals its ``ingested`` time. New
images (NULL) and force-re-ingested ones (a newer ``ingested``) are *stale*. Updating a set of
target images, in batches of one transaction each:

1. their overlapping images come from the spatial index (:func:`tiepoint.db.queries.overlapping_ids`,
   GeoPackage R-tree or PostGIS GiST), the intersections from GEOS, the areas on the body's ellipsoid
   (:func:`tiepoint.footprint.ellipsoid_areas`); pairs below ``min_overlap_km2`` are not stored;
2. a stale target's old pairs are deleted (their match results index keypoints that were
   re-extracted) and its new ones inserted as ``pending``; a current target (``force``) keeps the rows
   of pairs that still qualify, with their match results (and a recomputed overlap if the
   footprints changed), and loses the others;
3. pairs with an image that is stale but not in this batch, or in a later batch, are left to that
   image's own update, so each pair is computed once;
4. ``max_neighbours``: the pairs of every image whose set of pairs changed are re-ranked
   (:func:`keep_largest`); a pair that is among the ``max_neighbours`` largest overlaps of either of
   its images is ``pending``, the others ``skipped``. Matched pairs keep their status.

Nothing is recomputed for images whose pairs did not change, so adding one image costs one index
query and a few dozen intersections whatever the size of the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from tiepoint.config import BodyConfig, PairsConfig
from tiepoint.db.batches import chunks
from tiepoint.db.gpkg import grow_contents_extent
from tiepoint.db.models import PAIRS_TABLE, ImageRow, PairRow
from tiepoint.db.queries import overlapping_ids
from tiepoint.db.types import encode_multipolygons
from tiepoint.footprint.area import ellipsoid_areas

_PAIRS = PairRow.__table__
_IMAGES = ImageRow.__table__
_RERANKED = ("pending", "skipped")
"""Statuses that ``max_neighbours`` may change; matched pairs keep theirs."""


@dataclass(frozen=True, slots=True)
class OverlapUpdate:
    """What :meth:`tiepoint.db.Database.update_overlaps` did."""

    images: int = 0
    """Images whose pairs were computed."""
    added: int = 0
    """New ``pairs`` rows."""
    removed: int = 0
    """Deleted ``pairs`` rows (of re-ingested images, or no longer passing the filters)."""
    changed: int = 0
    """Kept rows (``force``) whose overlap was recomputed because the footprints had changed."""

    def __add__(self, other: OverlapUpdate) -> OverlapUpdate:
        return OverlapUpdate(
            self.images + other.images,
            self.added + other.added,
            self.removed + other.removed,
            self.changed + other.changed,
        )


def keep_largest(image_a: np.ndarray, image_b: np.ndarray, area: np.ndarray, k: int) -> np.ndarray:
    """Which pairs are among the *k* largest overlaps of image a or of image b.

    Ranks are taken per image over the pairs given, by area (largest first), ties by the other
    image's id (smallest first), so the result depends only on the pairs, never on their order.

    Parameters
    ----------
    image_a, image_b : ndarray of int
        The pairs' image ids.
    area : ndarray of float
        The pairs' overlap areas.
    k : int
        How many pairs each image keeps.

    Returns
    -------
    ndarray of bool
        True for the pairs kept by at least one of their images.
    """
    n = len(area)
    if n == 0:
        return np.zeros(0, dtype=bool)
    image = np.concatenate([image_a, image_b])
    other = np.concatenate([image_b, image_a])
    order = np.lexsort((other, -np.concatenate([area, area]), image))
    sorted_image = image[order]
    starts = np.flatnonzero(np.r_[True, sorted_image[1:] != sorted_image[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, 2 * n]))
    rank = np.empty(2 * n, dtype=np.int64)
    rank[order] = np.arange(2 * n) - first
    return (rank[:n] < k) | (rank[n:] < k)


def pair_keys(id_a: np.ndarray, id_b: np.ndarray) -> list[str]:
    """:func:`tiepoint.records.pair_key` of many pairs whose ``id_a < id_b`` already."""
    return [f"{a}-{b}" for a, b in zip(id_a.tolist(), id_b.tolist(), strict=True)]


def _id_chunks(ids: np.ndarray | Sequence[int]):
    """:func:`~tiepoint.db.batches.chunks` of image or pair ids as plain ints (what drivers bind)."""
    return chunks(np.asarray(ids, dtype=np.int64).tolist())


def stale_ids(conn: Connection) -> np.ndarray:
    """Sorted ids of the images whose pairs are not current (new, or re-ingested since)."""
    c = _IMAGES.c
    stmt = select(c.id).where((c.overlaps_done.is_(None)) | (c.overlaps_done != c.ingested))
    return np.sort(np.array(conn.execute(stmt).scalars().all(), dtype=np.int64))


def all_ids(conn: Connection) -> np.ndarray:
    """Sorted ids of all images."""
    return np.sort(np.array(conn.execute(select(_IMAGES.c.id)).scalars().all(), dtype=np.int64))


def image_count(conn: Connection) -> int:
    """Number of stored images."""
    return int(conn.execute(select(func.count()).select_from(_IMAGES)).scalar_one())


def _incident(conn: Connection, ids: np.ndarray, columns: list, everything: bool) -> list[tuple]:
    """Rows (*columns*) of the pairs with an image in *ids*; all pairs when *everything*."""
    if everything:
        return list(conn.execute(select(*columns)).all())
    rows: dict[int, tuple] = {}
    c = _PAIRS.c
    for chunk in _id_chunks(ids):
        for row in conn.execute(select(*columns).where(c.image_a.in_(chunk) | c.image_b.in_(chunk))):
            rows[row[0]] = tuple(row)
    return list(rows.values())


def update_batch(
    conn: Connection,
    batch: np.ndarray,
    body: BodyConfig,
    config: PairsConfig,
    *,
    force: bool,
    later: np.ndarray,
) -> OverlapUpdate:
    """Compute the pairs of the images *batch* (ids) on *conn*, inside the caller's transaction.

    Parameters
    ----------
    batch : ndarray of int
        Target image ids. Without *force* only those still stale are processed (another process
        may have done the others meanwhile); unknown ids are ignored.
    force : bool
        Also process targets whose pairs are current (keeping the rows of pairs that still qualify).
    later : ndarray of int
        Targets of later batches: their pairs with this batch are left to them.
    """
    now = datetime.now(UTC)
    stale = stale_ids(conn)
    n_images = image_count(conn)
    existing = np.array(
        [
            i
            for chunk in _id_chunks(batch)
            for i in conn.execute(select(_IMAGES.c.id).where(_IMAGES.c.id.in_(chunk))).scalars()
        ],
        dtype=np.int64,
    )
    targets = np.sort(existing) if force else np.intersect1d(existing, stale)
    if len(targets) == 0:
        return OverlapUpdate()
    rebuild = np.intersect1d(targets, stale)
    deferred = np.setdiff1d(np.union1d(stale, later), targets)
    everything = len(targets) == n_images

    id_a, id_b, geoms = overlapping_ids(conn, None if everything else targets, deferred)
    area_km2 = ellipsoid_areas(geoms, body.semimajor, body.semiminor) / 1e6
    passing = area_km2 >= config.min_overlap_km2
    id_a, id_b, geoms, area_km2 = id_a[passing], id_b[passing], geoms[passing], area_km2[passing]
    keys = pair_keys(id_a, id_b)

    c = _PAIRS.c
    old = _incident(conn, targets, [c.id, c.key, c.image_a, c.image_b, c.area_km2], everything)
    old_id = np.array([r[0] for r in old], dtype=np.int64)
    old_ab = np.array([(r[2], r[3]) for r in old], dtype=np.int64).reshape(-1, 2)
    new_index = {k: i for i, k in enumerate(keys)}
    # Stale images' old pairs go (their matches index re-extracted keypoints). Current ones' stay
    # when they still qualify, and are left to the other image when that one is deferred.
    invalid = np.isin(old_ab, rebuild).any(axis=1)
    still = np.array([r[1] in new_index for r in old], dtype=bool)
    elsewhere = np.isin(old_ab, deferred).any(axis=1)
    drop = invalid | (~still & ~elsewhere)
    kept = np.flatnonzero(~drop & still)
    fresh = np.ones(len(keys), dtype=bool)
    fresh[[new_index[old[i][1]] for i in kept]] = False
    # a kept row whose overlap changed (footprints rewritten without a re-ingest) gets the new one
    moved = [
        i
        for i in kept
        if not math.isclose(old[i][4], area_km2[new_index[old[i][1]]], rel_tol=1e-9, abs_tol=0)
    ]

    for chunk in _id_chunks(old_id[drop]):
        conn.execute(delete(_PAIRS).where(c.id.in_(chunk)))
    if moved:
        j = np.array([new_index[old[i][1]] for i in moved])
        blobs = encode_multipolygons(geoms[j], body.srid, conn.dialect.name)
        stmt = (
            update(_PAIRS)
            .where(c.id == bindparam("m_id"))
            .values(overlap=bindparam("m_overlap"), area_km2=bindparam("m_area"), computed=now, updated=now)
        )
        params = [
            {"m_id": old[i][0], "m_overlap": blob, "m_area": area}
            for i, blob, area in zip(moved, blobs, area_km2[j].tolist(), strict=True)
        ]
        for chunk in chunks(params):
            conn.execute(stmt, list(chunk))
    if fresh.any():
        fresh_geoms = geoms[fresh]
        blobs = encode_multipolygons(fresh_geoms, body.srid, conn.dialect.name)
        rows = [
            {
                "key": key,
                "image_a": a,
                "image_b": b,
                "overlap": g,
                "area_km2": area,
                "status": "pending",
                "computed": now,
                "updated": now,
            }
            for key, a, b, g, area in zip(
                [k for k, f in zip(keys, fresh.tolist(), strict=True) if f],
                id_a[fresh].tolist(),
                id_b[fresh].tolist(),
                blobs,
                area_km2[fresh].tolist(),
                strict=True,
            )
        ]
        for chunk in chunks(rows):
            conn.execute(insert(_PAIRS), list(chunk))
        if conn.dialect.name == "sqlite":
            grow_contents_extent(conn, PAIRS_TABLE, fresh_geoms)
    done = _IMAGES.c
    for chunk in _id_chunks(targets):
        conn.execute(update(_IMAGES).where(done.id.in_(chunk)).values(overlaps_done=done.ingested))

    changed = np.unique(np.concatenate([targets, old_ab.ravel(), id_a, id_b]))
    rerank(conn, changed, config.max_neighbours, now, everything=everything)
    return OverlapUpdate(
        images=len(targets), added=int(fresh.sum()), removed=int(drop.sum()), changed=len(moved)
    )


def rerank(
    conn: Connection, changed: np.ndarray, max_neighbours: int | None, now: datetime, everything: bool = False
) -> None:
    """Set ``pending``/``skipped`` on the pairs of the images *changed* (ids) per *max_neighbours*.

    The ranks of a pair's two images need all pairs of both, so the pairs of *changed* and of their
    neighbours are read. Matched pairs keep their status.
    """
    c = _PAIRS.c
    if len(changed) == 0:
        return
    if max_neighbours is None:
        for chunk in _id_chunks(changed):
            conn.execute(
                update(_PAIRS)
                .where(c.status == "skipped", c.image_a.in_(chunk) | c.image_b.in_(chunk))
                .values(status="pending", updated=now)
            )
        return
    columns = [c.id, c.image_a, c.image_b, c.area_km2, c.status]
    rows = _incident(conn, changed, columns, everything)
    ab = np.array([(r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 2)
    neighbours = np.setdiff1d(ab, changed)
    if len(neighbours) and not everything:
        more = _incident(conn, neighbours, columns, False)
        rows = list({r[0]: r for r in rows + more}.values())
        ab = np.array([(r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 2)
    if not rows:
        return
    area = np.array([r[3] for r in rows], dtype=np.float64)
    status = np.array([r[4] for r in rows], dtype=object)
    keep = keep_largest(ab[:, 0], ab[:, 1], area, max_neighbours)
    wanted = np.where(keep, "pending", "skipped").astype(object)
    concerned = np.isin(ab, changed).any(axis=1) & np.isin(status, _RERANKED) & (wanted != status)
    params = [
        {"p_id": r_id, "p_status": s}
        for r_id, s in zip(
            np.array([r[0] for r in rows], dtype=np.int64)[concerned].tolist(), wanted[concerned], strict=True
        )
    ]
    if params:
        stmt = (
            update(_PAIRS).where(c.id == bindparam("p_id")).values(status=bindparam("p_status"), updated=now)
        )
        for chunk in chunks(params):
            conn.execute(stmt, list(chunk))
