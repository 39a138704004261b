"""The overlap graph (``pairs`` table) on both backends, against a brute-force truth.

The truth is an all-pairs shapely loop with pyproj's geodesic area of each intersection, and an
independent per-image ranking for ``max_neighbours``; the database must agree whether its pairs were
computed at once, incrementally, in batches, or after images moved or disappeared.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from dbtest_records import make_record, random_quads
from shapely import affinity
from shapely.geometry import MultiPolygon, box
from shapely.geometry.base import BaseGeometry

from tiepoint.config import BodyConfig, PairsConfig, load_config
from tiepoint.db import Database, DatabaseError, ImageRow, OverlapUpdate, PairNotFoundError, PairRow
from tiepoint.db.overlaps import keep_largest
from tiepoint.errors import ConfigError
from tiepoint.footprint import ellipsoid_area
from tiepoint.records import PairRecord, pair_key

BODY = BodyConfig()
MIN_KM2 = 1.0
DEG_KM = math.radians(1.0) * BODY.semimajor / 1e3  # ~59.3 km per degree on the equator


def _wrap_360(geom: BaseGeometry) -> BaseGeometry:
    """Split a polygon reaching past 360 E into parts on either side of the meridian (0..360)."""
    inside = geom.intersection(box(0, -90, 360, 90))
    beyond = shapely.transform(geom.intersection(box(360, -90, 720, 90)), lambda c: c - [360.0, 0.0])
    if beyond.is_empty:
        return geom
    parts = [p for g in (inside, beyond) for p in shapely.get_parts(g) if p.area > 0]
    return MultiPolygon(parts)


def footprints(n: int = 36, seed: int = 7) -> list[BaseGeometry]:
    """Random quads near the 0/360 meridian (some split there), plus slivers and touching boxes."""
    quads = [_wrap_360(q) for q in random_quads(n, seed=seed, lon0=352.0, span=10.0)]
    fps = [shapely.segmentize(q, 0.05) for q in quads]
    eps_small, eps_large = 0.3 / (0.6 * DEG_KM**2), 3.0 / (0.6 * DEG_KM**2)  # ~0.3 and ~3 km^2
    fps += [
        box(20.0, 0.0, 21.0, 1.0),
        box(21.0 - eps_small, 0.2, 22.0, 0.8),  # sliver below the threshold
        box(20.5, -1.0, 21.5, 0.0),  # touches the first box along an edge: not a pair
        box(30.0, 0.0, 31.0, 1.0),
        box(31.0 - eps_large, 0.2, 32.0, 0.8),  # sliver above the threshold
    ]
    return fps


def truth(geoms: list[BaseGeometry], ids: list[int], min_km2: float = MIN_KM2) -> dict[str, tuple]:
    """{pair key: (area km^2, intersection)} by brute force over all pairs."""
    out = {}
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if not shapely.relate_pattern(geoms[i], geoms[j], "T********"):
                continue
            inter = geoms[i].intersection(geoms[j])
            area = ellipsoid_area(inter, BODY.semimajor, BODY.semiminor) / 1e6
            assert not math.isclose(area, min_km2, rel_tol=0.01), "too close to the threshold to test"
            if area >= min_km2:
                out[pair_key(ids[i], ids[j])] = (area, inter)
    return out


def expected_status(areas: dict[str, float], k: int | None) -> dict[str, str]:
    """Pending if among the k largest overlaps (ties: smaller other id) of either image."""
    if k is None:
        return dict.fromkeys(areas, "pending")
    by_image: dict[int, list[tuple[float, int, str]]] = {}
    for key, area in areas.items():
        a, b = (int(x) for x in key.split("-"))
        by_image.setdefault(a, []).append((-area, b, key))
        by_image.setdefault(b, []).append((-area, a, key))
    kept = set()
    for entries in by_image.values():
        kept.update(key for _, _, key in sorted(entries)[:k])
    return {key: "pending" if key in kept else "skipped" for key in areas}


def snapshot(db: Database) -> dict[str, tuple]:
    rows = db.execute_sql("SELECT key, id, status, area_km2, computed, updated FROM pairs")
    return {r[0]: tuple(r[1:]) for r in rows}


def statuses(db: Database) -> dict[str, str]:
    return {k: v[1] for k, v in snapshot(db).items()}


def areas(db: Database) -> dict[str, float]:
    return {k: v[2] for k, v in snapshot(db).items()}


def records_for(geoms: list[BaseGeometry], prefix: str = "/data/p") -> list:
    return [make_record(f"{prefix}{i:03d}.cub", g, with_xyz=False) for i, g in enumerate(geoms)]


@pytest.fixture
def second_url(db_url: str, request, tmp_path) -> str:
    """Another fresh database on the same backend as *db_url*."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.gpkg'}"
    return request.getfixturevalue("postgres_server").new_database()


def _match_result(db: Database, key: str, n_matches: int = 150, **changes) -> PairRecord:
    pair = db.get_pair(key)
    rec = PairRecord(
        key=key,
        image_a=pair.image_row_a.path,
        image_b=pair.image_row_b.path,
        path=f"/matches/{key}.h5",
        method="gated",
        n_keypoints_a=np.int64(2000),  # workers return numpy integers
        n_keypoints_b=1800,
        n_raw=400,
        n_matches=n_matches,
        inlier_ratio=0.375,
        offset_m=(120.5, -80.25, 3.0),
        offset_mad_m=14.5,
        stats={"residual_px_median": 0.41, "residual_px_p90": np.float64(1.2)},
        started=datetime.now(UTC),
        finished=datetime.now(UTC) + timedelta(seconds=2),
        host="node07",
        extra={"timings": {"match": 0.8}},
    )
    return replace(rec, **changes)


# -- the pairs found ---------------------------------------------------------------------------------


def test_pairs_equal_brute_force(db_url: str) -> None:
    geoms = footprints()
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
        result = db.update_overlaps(config=PairsConfig(min_overlap_km2=MIN_KM2))
        expected = truth(geoms, ids)
        rows = {p.key: p for p in (db.get_pair(k) for k in snapshot(db))}
    assert set(rows) == set(expected)
    assert result == OverlapUpdate(images=len(geoms), added=len(expected), removed=0)
    assert len(expected) > 30
    split = {ids[i] for i, g in enumerate(geoms) if isinstance(g, MultiPolygon) and len(g.geoms) > 1}
    assert any({int(x) for x in k.split("-")} & split for k in expected)  # footprints split at 360
    n = len(geoms)
    small, large = pair_key(ids[n - 5], ids[n - 4]), pair_key(ids[n - 2], ids[n - 1])
    assert small not in rows and large in rows  # the slivers: ~0.3 and ~3 km^2
    assert pair_key(ids[n - 5], ids[n - 3]) not in rows  # touching along an edge
    for key, (area, inter) in expected.items():
        row = rows[key]
        assert row.image_a < row.image_b and key == pair_key(row.image_a, row.image_b)
        assert row.area_km2 == pytest.approx(area, rel=1e-4)
        assert isinstance(row.overlap, MultiPolygon)
        assert shapely.symmetric_difference(row.overlap, inter).area <= 1e-9 * inter.area
        assert shapely.get_srid(row.overlap) == BODY.srid
        assert row.status == "pending" and row.to_record() is None
        assert row.n_matches is None and row.path is None


def test_max_neighbours_keeps_the_largest_overlaps(db_url: str) -> None:
    geoms = footprints(seed=3)
    with Database(db_url) as db:
        db.write_images(records_for(geoms))
        db.update_overlaps(config=PairsConfig(max_neighbours=2))
        got, stored = statuses(db), areas(db)
        assert got == expected_status(stored, 2)
        assert "skipped" in got.values() and "pending" in got.values()
        # every image keeps its 2 largest overlaps (or all, if it has fewer)
        for image in {x for key in got for x in key.split("-")}:
            mine = sorted((a, k) for k, a in stored.items() if image in k.split("-"))
            assert all(got[k] == "pending" for _, k in mine[-2:]), image
        assert set(db.pairs_to_match()) == {k for k, s in got.items() if s == "pending"}

        # a looser setting re-ranks (force keeps the rows), None keeps everything
        before = snapshot(db)
        assert db.update_overlaps(config=PairsConfig(max_neighbours=4), force=True).added == 0
        assert statuses(db) == expected_status(areas(db), 4)
        assert {k: v[0] for k, v in snapshot(db).items()} == {k: v[0] for k, v in before.items()}
        db.update_overlaps(config=PairsConfig(), force=True)
        assert set(statuses(db).values()) == {"pending"}


def test_force_in_batches_keeps_rows_and_results(db_url: str) -> None:
    geoms = footprints(seed=12)
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
        db.update_overlaps()
        keys = db.pairs_to_match()
        db.write_pair_records([_match_result(db, k) for k in keys[::3]])
        before = snapshot(db)
        assert db.update_overlaps(force=True, batch=4) == OverlapUpdate(images=len(geoms))
        assert snapshot(db) == before

        # a footprint rewritten without a re-ingest: force recomputes the overlaps, keeps the results
        with db.session() as s:
            image = s.get(ImageRow, ids[3])
            image.footprint = shapely.segmentize(affinity.translate(geoms[3], 0.05, 0.05), 0.05)
            geoms[3] = image.footprint
        assert db.update_overlaps() == OverlapUpdate()  # still current: not recomputed without force
        result = db.update_overlaps(force=True, batch=5)
        after = snapshot(db)
        expected = truth(geoms, ids)
        assert set(after) == set(expected)
        mine = {k for k in before if ids[3] in (int(x) for x in k.split("-"))}
        assert result.changed == len(mine & set(after)) > 0
        for key in set(after) & set(before):
            assert after[key][0] == before[key][0]  # same row
            assert after[key][1] == before[key][1] or before[key][1] in ("pending", "skipped")
            assert after[key][2] == pytest.approx(expected[key][0], rel=1e-4)
        assert {k for k, v in after.items() if v[1] == "matched"} == {k for k in keys[::3] if k in after}


def test_keep_largest_equals_per_image_sort() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n_img = rng.integers(2, 30)
        pairs = {tuple(sorted(rng.choice(n_img, 2, replace=False))) for _ in range(rng.integers(1, 120))}
        a, b = np.array(sorted(pairs)).T
        area = rng.integers(1, 6, len(a)).astype(float)  # many ties
        k = int(rng.integers(1, 5))
        got = keep_largest(a, b, area, k)
        keys = [pair_key(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
        want = expected_status(dict(zip(keys, area.tolist(), strict=True)), k)
        assert [want[key] == "pending" for key in keys] == got.tolist()
        perm = rng.permutation(len(a))
        assert (keep_largest(a[perm], b[perm], area[perm], k) == got[perm]).all()


# -- incremental -------------------------------------------------------------------------------------


def test_incremental_equals_full_recompute(db_url: str, second_url: str) -> None:
    geoms = footprints(seed=11)
    recs = records_for(geoms)
    cfg = PairsConfig(max_neighbours=3)
    with Database(second_url) as full:
        ids = full.write_images(recs)
        full.update_overlaps(config=cfg, batch=7)  # several transactions on SQLite
        expected = snapshot(full)
    with Database(db_url) as db:
        done = added = removed = 0
        for k, chunk in enumerate(np.array_split(np.arange(len(recs)), 5)):
            got_ids = db.write_images([recs[i] for i in chunk])
            assert got_ids == [ids[i] for i in chunk]
            if k == 2:  # only some of the new images: their pairs with the others come later
                some = [recs[i].path for i in chunk[::2]]
                partial = db.update_overlaps(some, config=cfg)
                done, added, removed = done + partial.images, added + partial.added, removed + partial.removed
            result = db.update_overlaps(config=cfg)
            done, added, removed = done + result.images, added + result.added, removed + result.removed
        got = snapshot(db)
        assert (done, added, removed) == (len(recs), len(got), 0)  # each image and pair computed once
    assert set(got) == set(expected) == set(truth(geoms, ids))
    for key, (_, status, area, *_) in expected.items():
        assert got[key][1] == status, key
        assert got[key][2] == pytest.approx(area, rel=1e-12)
    assert {k: v[1] for k, v in got.items()} == expected_status({k: v[2] for k, v in got.items()}, 3)


def test_idempotent(db_url: str) -> None:
    geoms = footprints(seed=5)
    with Database(db_url) as db:
        db.write_images(records_for(geoms))
        first = db.update_overlaps(config=PairsConfig(max_neighbours=2))
        before = snapshot(db)
        assert first.added == len(before) > 0
        assert db.update_overlaps(config=PairsConfig(max_neighbours=2)) == OverlapUpdate()
        assert db.update_overlaps([f"/data/p{i:03d}.cub" for i in range(5)]) == OverlapUpdate()
        db.write_images(records_for(geoms))  # not forced: unchanged images stay current
        assert db.update_overlaps() == OverlapUpdate()
        assert snapshot(db) == before


def test_forced_reingest_recomputes_only_that_image(db_url: str) -> None:
    geoms = footprints(seed=2)
    recs = records_for(geoms)
    with Database(db_url) as db:
        ids = db.write_images(recs)
        db.update_overlaps()
        moved = 4
        mine = [k for k in snapshot(db) if ids[moved] in (int(x) for x in k.split("-"))]
        others = [k for k in snapshot(db) if k not in mine]
        assert mine and others
        db.write_pair_records([_match_result(db, mine[0]), _match_result(db, others[0])])
        before = snapshot(db)

        new_geom = shapely.segmentize(_wrap_360(affinity.translate(geoms[moved], 0.4, 0.3)), 0.05)
        geoms[moved] = new_geom
        db.write_image(replace(recs[moved], footprint=new_geom), force=True)
        result = db.update_overlaps()
        after = snapshot(db)
        expected = truth(geoms, ids)
        assert set(after) == set(expected)
        assert result.images == 1 and result.removed == len(mine)
        for key in others:  # untouched: same row, same time stamps, the match result kept
            assert after[key] == before[key]
        assert after[others[0]][1] == "matched"
        assert db.get_pair(others[0]).to_record() is not None
        for key, (_, status, area, computed, _) in after.items():
            if ids[moved] in (int(x) for x in key.split("-")):
                assert status == "pending" and computed > before[others[0]][3]
                assert area == pytest.approx(expected[key][0], rel=1e-4)
                assert db.get_pair(key).n_matches is None


def test_delete_cascades(db_url: str) -> None:
    geoms = footprints(seed=9)
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
        db.update_overlaps()
        before = snapshot(db)
        gone = [k for k in before if ids[6] in (int(x) for x in k.split("-"))]
        assert gone
        assert db.delete_image("/data/p006.cub")
        after = snapshot(db)
        assert set(after) == set(before) - set(gone)
        assert db.update_overlaps() == OverlapUpdate()
        remaining = [g for i, g in enumerate(geoms) if i != 6]
        assert set(after) == set(truth(remaining, [i for k, i in enumerate(ids) if k != 6]))


def test_matched_pairs_keep_their_status_when_outranked(db_url: str) -> None:
    base = box(100.0, 0.0, 101.0, 2.0)
    small = [box(100.9, y, 102.0, y + 0.3) for y in (0.0, 0.5, 1.0)]  # 0.1 x 0.3 degree overlaps
    with Database(db_url) as db:
        ids = db.write_images(records_for([base, *small]))
        cfg = PairsConfig(max_neighbours=3)
        db.update_overlaps(config=cfg)
        assert set(statuses(db).values()) == {"pending"}
        first = pair_key(ids[0], ids[1])
        db.write_pair_records([_match_result(db, first)])
        big = [box(100.2 + 0.1 * i, 0.0, 101.5, 2.0) for i in range(3)]  # much larger overlaps with base
        db.write_images(records_for(big, prefix="/data/big"))
        db.update_overlaps(config=cfg)
        got = statuses(db)
        assert got[first] == "matched"
        want = expected_status(areas(db), 3)
        assert all(got[k] == want[k] for k in got if k != first)
        assert got[pair_key(ids[0], ids[2])] == "skipped"


def test_explicit_paths_and_unknown_paths(db_url: str) -> None:
    geoms = footprints(seed=4)
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
        with pytest.raises(DatabaseError, match=r"/data/nope\.cub"):
            db.update_overlaps(["/data/p001.cub", "/data/nope.cub"])
        assert snapshot(db) == {}
        assert db.update_overlaps(["/data/p001.cub"]).images == 1
        assert snapshot(db) == {}  # its pairs are with images still to do: added when those are
        db.update_overlaps()
        assert set(snapshot(db)) == set(truth(geoms, ids))


def test_concurrent_updates_make_one_graph(db_url: str) -> None:
    geoms = footprints(seed=8)
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Database(db_url) as own:
                own.update_overlaps(batch=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Database(db_url) as db:
        got = snapshot(db)
        assert len(db.execute_sql("SELECT key FROM pairs")) == len(got)
    assert set(got) == set(truth(geoms, ids))


# -- what the matching stage uses ---------------------------------------------------------------------


def test_pair_tasks_and_lookups(db_url: str) -> None:
    geoms = footprints(seed=6)
    recs = records_for(geoms)
    for i, rec in enumerate(recs):
        rec.camera_state = f'{{"camera": {i}}}'
    with Database(db_url) as db:
        ids = db.write_images(recs)
        db.update_overlaps()
        keys = list(reversed(db.pairs_to_match()))[:6]
        tasks = db.pair_tasks(keys, output_for=lambda t: f"/matches/{t.key}.h5")
        assert [t.key for t in tasks] == keys
        by_id = dict(zip(ids, recs, strict=True))
        for task in tasks:
            a, b = (int(x) for x in task.key.split("-"))
            assert (task.image_a, task.image_b) == (by_id[a].path, by_id[b].path)
            assert (task.keypoints_a, task.keypoints_b) == (by_id[a].path + ".h5", by_id[b].path + ".h5")
            assert (task.camera_a, task.camera_b) == (by_id[a].camera_state, by_id[b].camera_state)
            assert task.overlap.equals(db.get_pair(task.key).overlap)
            assert task.output == f"/matches/{task.key}.h5"
        assert db.pair_tasks(keys[:1])[0].output == ""
        with pytest.raises(PairNotFoundError, match="no pair 1-999"):
            db.pair_tasks([keys[0], "1-999"])

        key = keys[0]
        a, b = (int(x) for x in key.split("-"))
        pair = db.get_pair(key)
        assert isinstance(pair, PairRow) and pair.image_row_a.id == a and pair.image_row_b.id == b
        assert db.find_pair(by_id[b].path, by_id[a].path).key == key
        assert db.find_pair(by_id[a].path, by_id[a].path) is None
        assert db.find_pair(by_id[a].path, "/nope.cub") is None
        assert db.get_pair("1-999") is None
        mine = db.pairs_of(by_id[a].path)
        assert key in [p.key for p in mine]
        assert [p.area_km2 for p in mine] == sorted((p.area_km2 for p in mine), reverse=True)
        assert {p.key for p in mine} == {k for k in snapshot(db) if a in (int(x) for x in k.split("-"))}
        assert db.pairs_of("/nope.cub") == []


def test_record_writer_round_trip(db_url: str) -> None:
    geoms = footprints(seed=6)
    with Database(db_url) as db:
        db.write_images(records_for(geoms))
        db.update_overlaps()
        keys = db.pairs_to_match()[:3]
        recs = [
            _match_result(db, keys[0]),
            _match_result(db, keys[1], n_matches=0, n_raw=0, inlier_ratio=float("nan"), offset_m=None),
            _match_result(db, keys[2], offset_mad_m=None, stats={}, extra={}),
        ]
        ids = db.write_pair_records(recs)
        assert ids == [db.get_pair(k).id for k in keys]
        for rec in recs:
            back = db.get_pair(rec.key).to_record()
            for name in PairRecord.__slots__:
                want, got = getattr(rec, name), getattr(back, name)
                if name == "inlier_ratio" and math.isnan(want):
                    assert math.isnan(got)
                else:
                    assert got == want, name
        assert [db.get_pair(k).status for k in keys] == ["matched", "no_matches", "matched"]
        total = len(snapshot(db))
        assert db.pair_counts() == {"pending": total - 3, "skipped": 0, "matched": 2, "no_matches": 1}
        assert db.matched_pair_keys() == set(keys)
        assert not set(keys) & set(db.pairs_to_match())
        assert set(keys) <= set(db.pairs_to_match(force=True))

        before = snapshot(db)
        assert db.write_pair_records(recs) == ids  # idempotent
        after = snapshot(db)
        assert {k: v[:4] for k, v in after.items()} == {k: v[:4] for k, v in before.items()}
        assert db.write_pair_records([]) == []


def test_record_writer_rejects_bad_records_atomically(db_url: str) -> None:
    geoms = footprints(seed=6)
    with Database(db_url) as db:
        db.write_images(records_for(geoms))
        db.update_overlaps()
        k0, k1 = db.pairs_to_match()[:2]
        good = _match_result(db, k0)
        with pytest.raises(PairNotFoundError, match="1-999"):
            db.write_pair_records([good, replace(good, key="1-999")])
        with pytest.raises(DatabaseError, match=f"pair {k1}.* is for"):
            db.write_pair_records([good, _match_result(db, k1, image_a=good.image_a, image_b=good.image_b)])
        with pytest.raises(DatabaseError, match=f"{k1}.*n_matches"):
            db.write_pair_records([good, _match_result(db, k1, n_matches=-1)])
        with pytest.raises(DatabaseError, match=f"{k1}.*offset_m"):
            db.write_pair_records([good, _match_result(db, k1, offset_m=(1.0, float("inf"), 0.0))])
        with pytest.raises(DatabaseError, match="not an image pair key"):
            db.write_pair_records([replace(good, key="a-b")])
        assert db.matched_pair_keys() == set()  # all or none

        # a result computed before the pair's overlap (an image was re-ingested meanwhile) is left out
        stale = _match_result(db, k0, started=datetime(2000, 1, 1, tzinfo=UTC))
        assert db.write_pair_records([stale, _match_result(db, k1)]) == [None, db.get_pair(k1).id]
        assert db.get_pair(k0).status == "pending"


def test_pairs_config_is_validated() -> None:
    cfg = load_config({"matching": {"pairs": {"min_overlap_km2": 5, "max_neighbours": 30}}})
    assert cfg.matching.pairs == PairsConfig(min_overlap_km2=5.0, max_neighbours=30)
    assert load_config({}).matching.pairs == PairsConfig(min_overlap_km2=1.0, max_neighbours=None)
    with pytest.raises(ConfigError, match=r"matching\.pairs\.max_neighbours"):
        load_config({"matching": {"pairs": {"max_neighbours": 0}}})
    with pytest.raises(ConfigError, match=r"matching\.pairs\.min_overlap_km2"):
        load_config({"matching": {"pairs": {"min_overlap_km2": -1}}})


def test_downgrade_to_0002_keeps_images_and_upgrade_recomputes(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import inspect
    from sqlalchemy.exc import SAWarning

    from tiepoint.db.database import MIGRATIONS_DIR

    geoms = footprints(seed=13)
    with Database(db_url) as db:
        ids = db.write_images(records_for(geoms))
        db.update_overlaps()
        expected = set(snapshot(db))
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        insp = inspect(db.engine)
        assert "pairs" not in insp.get_table_names()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # reflection does not know the geometry type
            assert "overlaps_done" not in {c["name"] for c in insp.get_columns("images")}
        counts = db.execute_sql("SELECT (SELECT count(*) FROM cameras), (SELECT count(*) FROM keypoints)")
        assert tuple(counts[0]) == (len(geoms), len(geoms))
        if db.dialect == "sqlite":
            left = db.execute_sql(
                "SELECT count(*) FROM gpkg_contents WHERE table_name = 'pairs' UNION ALL "
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'rtree_pairs%'"
            )
            assert [r[0] for r in left] == [0, 0]
    with Database(db_url) as db:  # a re-open migrates back to head: every image's pairs to compute
        assert snapshot(db) == {}
        assert db.update_overlaps().images == len(ids)
        assert set(snapshot(db)) == expected
