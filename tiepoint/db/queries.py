"""The spatial and name queries later stages need, with identical results on both backends.

SQLite narrows candidates with the GeoPackage R-tree and decides with shapely (GEOS); PostGIS uses
its GiST index and the same GEOS predicates in SQL. Results are sorted by path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from tiepoint.db.batches import IDS_PER_QUERY, chunks
from tiepoint.db.geometry import polygonal_many
from tiepoint.db.gpkg import rtree_name
from tiepoint.db.models import FOOTPRINT_COLUMN, IMAGES_TABLE, ImageRow

OVERLAP_PATTERN = "T********"
"""DE-9IM pattern of "interiors intersect": areal overlap, not just touching edges or corners."""


_RTREE = Table(
    rtree_name(IMAGES_TABLE, FOOTPRINT_COLUMN),
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("minx", Float),
    Column("maxx", Float),
    Column("miny", Float),
    Column("maxy", Float),
)
"""The GeoPackage R-tree of the footprints (SQLite only)."""


def _ewkb(geom: BaseGeometry, srid: int) -> bytes:
    return shapely.to_wkb(shapely.set_srid(geom, srid), include_srid=True, flavor="extended")


def images_intersecting(session: Session, geom: BaseGeometry, srid: int) -> list[ImageRow]:
    """Images whose footprint intersects *geom* (same lon/lat domain as the footprints)."""
    if session.get_bind().dialect.name == "postgresql":
        query = bindparam("query_geom", _ewkb(geom, srid), type_=LargeBinary)
        stmt = (
            select(ImageRow)
            .where(func.ST_Intersects(ImageRow.__table__.c.footprint, func.ST_GeomFromEWKB(query)))
            .order_by(ImageRow.path)
        )
        return list(session.scalars(stmt))
    minx, miny, maxx, maxy = geom.bounds
    rt = _RTREE
    stmt = (
        select(ImageRow)
        .join(rt, rt.c.id == ImageRow.id)
        .where(rt.c.minx <= maxx, rt.c.maxx >= minx, rt.c.miny <= maxy, rt.c.maxy >= miny)
        .order_by(ImageRow.path)
    )
    candidates = list(session.scalars(stmt))
    if not candidates:
        return []
    shapely.prepare(geom)
    hits = shapely.intersects(geom, np.array([c.footprint for c in candidates], dtype=object))
    return [c for c, hit in zip(candidates, hits, strict=True) if hit]


Pair = tuple[str, str, MultiPolygon]
"""(path_a, path_b, intersection) of two overlapping images."""


def overlapping_pairs(session: Session, among: Sequence[int] | None = None) -> list[Pair]:
    """Pairs of images whose footprints overlap in area, with their intersection.

    Parameters
    ----------
    among : sequence of image ids, optional
        Only pairs with at least one of these images (e.g. the newly ingested ones); all if None.

    Returns
    -------
    list of (path_a, path_b, intersection)
        ``path_a < path_b``; the intersection's polygonal part as a MultiPolygon; sorted.
    """
    conn = session.connection()
    ia, ib, geoms = overlapping_ids(conn, among)
    if len(ia) == 0:
        return []
    paths = _paths_of(conn, np.union1d(ia, ib))
    pairs = [(paths[a], paths[b], g) for a, b, g in zip(ia.tolist(), ib.tolist(), geoms, strict=True)]
    ordered = [(a, b, g) if a < b else (b, a, g) for a, b, g in pairs]
    ordered.sort(key=lambda t: (t[0], t[1]))
    return ordered


def _paths_of(conn: Connection, ids: np.ndarray) -> dict[int, str]:
    paths: dict[int, str] = {}
    for chunk in chunks(ids.tolist(), IDS_PER_QUERY):
        paths.update(conn.execute(select(ImageRow.id, ImageRow.path).where(ImageRow.id.in_(chunk))).all())
    return paths


def overlapping_ids(
    conn: Connection, among: Sequence[int] | None = None, exclude: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image-id pairs whose footprints overlap in area, with their intersection.

    Parameters
    ----------
    among : sequence of image ids, optional
        Only pairs with at least one of these images; all pairs if None.
    exclude : sequence of image ids, optional
        Leave out pairs with one of these images (on SQLite before any geometry is computed).

    Returns
    -------
    id_a, id_b : ndarray of int64
        ``id_a < id_b``, sorted by (id_a, id_b).
    intersection : ndarray of MultiPolygon
        The polygonal part of each intersection (lon/lat degrees, SRID not set). For a pair the
        footprints are always intersected smaller id first, so the result does not depend on *among*.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, dtype=object))
    if among is not None and len(among) == 0:
        return empty
    excluded = np.unique(np.asarray(exclude if exclude is not None else [], dtype=np.int64))
    if conn.dialect.name == "postgresql":
        ia, ib, geoms = _pairs_postgis(conn, among, excluded)
    else:
        ia, ib, geoms = _pairs_gpkg(conn, among, excluded)
    if len(ia) == 0:
        return empty
    order = np.lexsort((ib, ia))
    return ia[order], ib[order], geoms[order]


def _pairs_postgis(
    conn: Connection, among: Sequence[int] | None, excluded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if among is None:
        where, params = "a.id < b.id", {}
    else:  # a in the set; each pair once: b outside the set, or both inside with a < b
        where = "a.id = ANY(:ids) AND a.id <> b.id AND (a.id < b.id OR NOT b.id = ANY(:ids))"
        params = {"ids": [int(i) for i in among]}
    if len(excluded):
        where += " AND NOT a.id = ANY(:excluded) AND NOT b.id = ANY(:excluded)"
        params["excluded"] = excluded.tolist()
    rows = conn.execute(
        text(
            "SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id), ST_AsEWKB(ST_CollectionExtract(CASE "
            "WHEN a.id < b.id THEN ST_Intersection(a.footprint, b.footprint) "
            "ELSE ST_Intersection(b.footprint, a.footprint) END, 3)) "
            f"FROM images a JOIN images b ON {where} AND a.footprint && b.footprint "
            # ST_Intersects (cached, prepared geometry) first: cheap for the many candidates of
            # footprints split at 0/360, whose bounding boxes span all longitudes
            "AND ST_Intersects(a.footprint, b.footprint) AND ST_Relate(a.footprint, b.footprint, :pattern)"
        ),
        {"pattern": OVERLAP_PATTERN, **params},
    ).all()
    ids = np.array([(a, b) for a, b, _ in rows], dtype=np.int64).reshape(-1, 2)
    wkb = np.empty(len(rows), dtype=object)
    wkb[:] = [bytes(g) for _, _, g in rows]
    return ids[:, 0], ids[:, 1], polygonal_many(shapely.from_wkb(wkb))


def _pairs_gpkg(
    conn: Connection, among: Sequence[int] | None, excluded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rt = rtree_name(IMAGES_TABLE, FOOTPRINT_COLUMN)
    overlap_sql = (
        f"SELECT a.id, b.id FROM {rt} a JOIN {rt} b ON {{cond}} "
        "AND b.minx <= a.maxx AND b.maxx >= a.minx AND b.miny <= a.maxy AND b.maxy >= a.miny"
    )
    if among is None:
        found = conn.execute(text(overlap_sql.format(cond="a.id < b.id"))).all()
    else:
        found = []
        subset = sorted({int(i) for i in among})
        for part in chunks(subset):
            inline = ",".join(str(i) for i in part)  # ints: safe to inline
            found += conn.execute(text(overlap_sql.format(cond=f"a.id IN ({inline}) AND a.id <> b.id"))).all()
    candidates = np.sort(np.array([tuple(r) for r in found], dtype=np.int64).reshape(-1, 2), axis=1)
    if among is not None:
        candidates = np.unique(candidates, axis=0)
    if len(excluded):
        candidates = candidates[~np.isin(candidates, excluded).any(axis=1)]
    if len(candidates) == 0:
        return candidates[:, 0], candidates[:, 1], np.empty(0, dtype=object)
    ids = np.unique(candidates)
    by_id: dict[int, BaseGeometry] = {}
    for chunk in chunks(ids.tolist(), IDS_PER_QUERY):
        rows = conn.execute(select(ImageRow.id, ImageRow.footprint).where(ImageRow.id.in_(chunk)))
        by_id.update(rows.all())
    geoms = np.empty(len(ids), dtype=object)
    geoms[:] = [by_id[i] for i in ids.tolist()]
    ia = np.searchsorted(ids, candidates[:, 0])
    ib = np.searchsorted(ids, candidates[:, 1])
    near = parts_bbox_overlap(geoms, ia, ib)
    ia, ib = ia[near], ib[near]
    overlap = shapely.relate_pattern(geoms[ia], geoms[ib], OVERLAP_PATTERN)
    ia, ib = ia[overlap], ib[overlap]
    return ids[ia], ids[ib], polygonal_many(shapely.intersection(geoms[ia], geoms[ib]))


def parts_bbox_overlap(geoms: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Whether some part of ``geoms[ia]`` and some part of ``geoms[ib]`` have overlapping bounding boxes.

    A footprint split at the 0/360 meridian has a bounding box as wide as the body, so the R-tree
    pairs it with every image at its latitudes; comparing the parts' boxes (vectorized) drops those
    candidates before any exact predicate. Boxes that only touch count as overlapping.
    """
    if len(ia) == 0:
        return np.zeros(0, dtype=bool)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    box = shapely.bounds(parts)
    count = np.bincount(owner, minlength=len(geoms))
    first = np.cumsum(count) - count
    na, nb = count[ia], count[ib]
    combos = na * nb  # part pairs to compare per candidate (1 for two single polygons)
    cand = np.repeat(np.arange(len(ia)), combos)
    k = np.arange(int(combos.sum())) - np.repeat(np.cumsum(combos) - combos, combos)
    pa = first[ia][cand] + k // nb[cand]
    pb = first[ib][cand] + k % nb[cand]
    hit = (
        (box[pa, 0] <= box[pb, 2])
        & (box[pb, 0] <= box[pa, 2])
        & (box[pa, 1] <= box[pb, 3])
        & (box[pb, 1] <= box[pa, 3])
    )
    return np.bincount(cand[hit], minlength=len(ia)) > 0


def glob_to_like(pattern: str) -> str:
    r"""Translate a shell pattern (``*``, ``?``) to a LIKE pattern with ``\`` as the escape character."""
    out = []
    for ch in pattern:
        if ch in "\\%_":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def images_by_name(session: Session, pattern: str, ignore_case: bool = False) -> list[ImageRow]:
    """Images whose name matches the shell pattern (``*`` any run, ``?`` one character).

    Case-sensitive unless *ignore_case* (ASCII case folding on SQLite), on both backends.
    """
    name = ImageRow.name
    if session.get_bind().dialect.name == "postgresql":
        like = glob_to_like(pattern)
        cond = name.ilike(like, escape="\\") if ignore_case else name.like(like, escape="\\")
    else:
        # SQLite's LIKE ignores ASCII case and GLOB respects it; GLOB has no escape, so [x] quotes x.
        if ignore_case:
            cond = name.like(glob_to_like(pattern), escape="\\")
        else:
            quoted = "".join(f"[{c}]" if c in "[]" else c for c in pattern)
            cond = name.op("GLOB")(quoted)
    return list(session.scalars(select(ImageRow).where(cond).order_by(ImageRow.path)))
