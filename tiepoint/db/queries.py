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
from sqlalchemy import Column, Float, Integer, LargeBinary, MetaData, Table, bindparam, func, select, text
from sqlalchemy.orm import Session

from tiepoint.db.geometry import polygonal
from tiepoint.db.gpkg import rtree_name
from tiepoint.db.models import FOOTPRINT_COLUMN, IMAGES_TABLE, ImageRow

_CHUNK = 500
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
    if among is not None and len(among) == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        pairs = _pairs_postgis(session, among)
    else:
        pairs = _pairs_gpkg(session, among)
    ordered = [(a, b, g) if a < b else (b, a, g) for a, b, g in pairs]
    ordered.sort(key=lambda t: (t[0], t[1]))
    return ordered


def _pairs_postgis(session: Session, among: Sequence[int] | None) -> list[Pair]:
    if among is None:
        where, params = "a.id < b.id", {}
    else:  # a in the set; each pair once: b outside the set, or both inside with a < b
        where = "a.id = ANY(:ids) AND a.id <> b.id AND (a.id < b.id OR NOT b.id = ANY(:ids))"
        params = {"ids": [int(i) for i in among]}
    rows = session.execute(
        text(
            "SELECT a.path, b.path, "
            "ST_AsEWKB(ST_CollectionExtract(ST_Intersection(a.footprint, b.footprint), 3)) "
            f"FROM images a JOIN images b ON {where} AND a.footprint && b.footprint "
            "AND ST_Relate(a.footprint, b.footprint, :pattern)"
        ),
        {"pattern": OVERLAP_PATTERN, **params},
    ).all()
    return [(a, b, polygonal(shapely.from_wkb(bytes(g)))) for a, b, g in rows]


def _pairs_gpkg(session: Session, among: Sequence[int] | None) -> list[Pair]:
    rt = rtree_name(IMAGES_TABLE, FOOTPRINT_COLUMN)
    overlap_sql = (
        f"SELECT a.id, b.id FROM {rt} a JOIN {rt} b ON {{cond}} "
        "AND b.minx <= a.maxx AND b.maxx >= a.minx AND b.miny <= a.maxy AND b.maxy >= a.miny"
    )
    if among is None:
        found = session.execute(text(overlap_sql.format(cond="a.id < b.id"))).all()
    else:
        found = []
        subset = sorted({int(i) for i in among})
        for k in range(0, len(subset), _CHUNK):
            chunk = ",".join(str(i) for i in subset[k : k + _CHUNK])  # ints: safe to inline
            found += session.execute(
                text(overlap_sql.format(cond=f"a.id IN ({chunk}) AND a.id <> b.id"))
            ).all()
    candidates = np.array(found, dtype=np.int64).reshape(-1, 2)
    if among is not None:
        candidates = np.unique(np.sort(candidates, axis=1), axis=0)
    if len(candidates) == 0:
        return []
    ids = np.unique(candidates)
    by_id: dict[int, tuple[str, BaseGeometry]] = {}
    for k in range(0, len(ids), _CHUNK * 10):
        rows = session.execute(
            select(ImageRow.id, ImageRow.path, ImageRow.footprint).where(
                ImageRow.id.in_(ids[k : k + _CHUNK * 10].tolist())
            )
        )
        by_id.update((i, (p, g)) for i, p, g in rows)
    paths = np.array([by_id[i][0] for i in ids], dtype=object)
    geoms = np.array([by_id[i][1] for i in ids], dtype=object)
    ia = np.searchsorted(ids, candidates[:, 0])
    ib = np.searchsorted(ids, candidates[:, 1])
    overlap = shapely.relate_pattern(geoms[ia], geoms[ib], OVERLAP_PATTERN)
    ia, ib = ia[overlap], ib[overlap]
    inters = shapely.intersection(geoms[ia], geoms[ib])
    return [(paths[a], paths[b], polygonal(g)) for a, b, g in zip(ia, ib, inters, strict=True)]


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
