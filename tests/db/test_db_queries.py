"""Spatial and name queries: analytic truth on grid-aligned boxes, and SQLite == PostGIS on random quads."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from dbtest_records import make_record, random_quads
from shapely.geometry import MultiPolygon, Point, Polygon, box

from tiepoint.db import Database


def _grid_boxes(n: int, seed: int) -> list[tuple[float, float, float, float]]:
    """Boxes with corners on a 0.25-degree grid, so many share edges or corners exactly."""
    rng = np.random.default_rng(seed)
    x0 = rng.integers(0, 40, n) * 0.25 + 200.0
    y0 = rng.integers(-20, 20, n) * 0.25
    w = rng.integers(1, 8, n) * 0.25
    h = rng.integers(1, 8, n) * 0.25
    return [(a, b, a + c, b + d) for a, b, c, d in zip(x0, y0, w, h, strict=True)]


@pytest.fixture
def grid_db(db_url: str):
    boxes = _grid_boxes(40, seed=3)
    with Database(db_url) as db:
        db.write_images(
            [make_record(f"/data/b{i:02d}.cub", box(*b), with_xyz=False) for i, b in enumerate(boxes)]
        )
        yield db, {f"/data/b{i:02d}.cub": b for i, b in enumerate(boxes)}


def test_overlapping_pairs_match_analytic_boxes(grid_db) -> None:
    db, boxes = grid_db
    expected = {}
    paths = sorted(boxes)
    for i, pa in enumerate(paths):
        for pb in paths[i + 1 :]:
            a, b = boxes[pa], boxes[pb]
            x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
            if x0 < x1 and y0 < y1:  # interiors overlap; shared edges/corners do not count
                expected[(pa, pb)] = (x0, y0, x1, y1)
    got = db.overlapping_pairs()
    assert [(a, b) for a, b, _ in got] == sorted(expected)
    assert len(expected) > 10
    touching = sum(
        1
        for i, pa in enumerate(paths)
        for pb in paths[i + 1 :]
        if shapely.touches(box(*boxes[pa]), box(*boxes[pb]))
    )
    assert touching > 0, "the data set should contain pairs that only touch"
    for a, b, inter in got:
        assert isinstance(inter, MultiPolygon)
        assert inter.bounds == expected[(a, b)]
        x0, y0, x1, y1 = expected[(a, b)]
        assert inter.area == pytest.approx((x1 - x0) * (y1 - y0), rel=1e-12)


@pytest.mark.parametrize(
    "query",
    [box(202.1, -1.3, 203.4, 0.6), box(205.0, 0.0, 205.25, 0.25), Point(203.0, 1.0), box(0, 0, 1, 1)],
    ids=["box", "grid-box", "point-on-grid", "far-away"],
)
def test_images_intersecting_match_analytic_boxes(grid_db, query) -> None:
    db, boxes = grid_db
    qx0, qy0, qx1, qy1 = query.bounds
    expected = sorted(
        p for p, (x0, y0, x1, y1) in boxes.items() if x0 <= qx1 and qx0 <= x1 and y0 <= qy1 and qy0 <= y1
    )
    assert [img.path for img in db.images_intersecting(query)] == expected


def test_exact_predicate_not_just_bbox(db_url: str) -> None:
    triangle = Polygon([(10, 0), (12, 0), (10, 2)])
    with Database(db_url) as db:
        db.write_image(make_record("/data/tri.cub", triangle))
        db.write_image(
            make_record("/data/far.cub", box(11.6, 1.6, 11.9, 1.9))
        )  # in the bbox, not the triangle
        assert [i.path for i in db.images_intersecting(box(11.5, 1.5, 11.8, 1.8))] == ["/data/far.cub"]
        assert [i.path for i in db.images_intersecting(Point(10.5, 0.5))] == ["/data/tri.cub"]
        assert db.overlapping_pairs() == []


def test_images_by_name(db_url: str) -> None:
    names = ["G02_019154", "G02x019154", "g02_019155", "N06_064753", "a%b", "ab", "a[1]", "a1"]
    with Database(db_url) as db:
        db.write_images([make_record(f"/data/{i}.cub", name=n) for i, n in enumerate(names)])

        def found(pattern: str, ignore_case: bool = False) -> list[str]:
            return sorted(i.name for i in db.images_by_name(pattern, ignore_case=ignore_case))

        assert found("G02_*") == ["G02_019154"]  # "_" is literal, matching is case-sensitive
        assert found("G02_*", ignore_case=True) == ["G02_019154", "g02_019155"]
        assert found("G02?019154") == ["G02_019154", "G02x019154"]
        assert found("a%b") == ["a%b"]
        assert found("a[1]") == ["a[1]"]
        assert found("a?") == ["a1", "ab"]
        assert found("*") == sorted(names)
        assert found("nothing*") == []


@pytest.mark.postgres
def test_backends_agree(tmp_path, postgres_url: str) -> None:
    quads = random_quads(120, seed=11, lon0=300.0, span=15.0)
    quads[5] = MultiPolygon([quads[5], box(359.0, 2.0, 360.0, 3.0)])  # a footprint split at 360
    quads[6] = box(0.0, 2.5, 0.5, 3.5)
    records = [make_record(f"/data/q{i:03d}.cub", q, with_xyz=False) for i, q in enumerate(quads)]
    queries = [box(305, -3, 307, 1), Polygon([(301, -7), (314, 0), (302, 6)]), box(359.5, 2.5, 360, 2.6)]
    results = {}
    for url in (f"sqlite:///{tmp_path / 'q.gpkg'}", postgres_url):
        with Database(url) as db:
            db.write_images(records)
            pairs = db.overlapping_pairs()
            hits = [[i.path for i in db.images_intersecting(q)] for q in queries]
            results[db.dialect] = (pairs, hits)
    (pairs_s, hits_s), (pairs_p, hits_p) = results["sqlite"], results["postgresql"]
    assert hits_s == hits_p and all(hits_s)
    assert [(a, b) for a, b, _ in pairs_s] == [(a, b) for a, b, _ in pairs_p]
    assert len(pairs_s) > 20
    for (_, _, gs), (_, _, gp) in zip(pairs_s, pairs_p, strict=True):
        assert gs.area > 0
        assert shapely.symmetric_difference(gs, gp).area <= 1e-9 * gs.area


def test_pairs_among_a_subset(grid_db) -> None:
    db, boxes = grid_db
    every = db.overlapping_pairs()
    subset = ["/data/b03.cub", "/data/b07.cub", "/data/b11.cub", "/data/b12.cub", "/data/unknown.cub"]
    got = db.overlapping_pairs(paths=subset)
    expected = [(a, b) for a, b, _ in every if a in subset or b in subset]
    assert [(a, b) for a, b, _ in got] == expected and expected
    by_pair = {(a, b): g for a, b, g in every}
    assert all(g.equals(by_pair[(a, b)]) for a, b, g in got)
    assert db.overlapping_pairs(paths=[]) == []
    assert db.overlapping_pairs(paths=list(boxes)) == every
