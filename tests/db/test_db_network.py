"""The control network's tables on both backends: bulk inserts with the database enforcing no
duplicates, the points layer, refreshing points, stale measures, registration tasks and results."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from dbtest_network import empty_pairs, network_rows
from dbtest_records import make_record
from shapely.geometry import box

from tiepoint.db import Database, DatabaseError
from tiepoint.db.network import FEW_MEASURES
from tiepoint.records import PairRecord, RegistrationRecord


def _images(db: Database, n: int = 3) -> list[int]:
    return db.write_images([make_record(f"/data/img{i}.cub") for i in range(n)])


def test_insert_gives_ids_and_the_points_layer(db_url):
    with Database(db_url) as db:
        a, b, c = _images(db)
        rows = network_rows([[(a, 0), (b, 0)], [(a, 1), (b, 1), (c, 1)], [(b, 2), (c, 2)]])
        result = db.write_network(rows, empty_pairs())
        table = db.network_table()
        p, m = table.points, table.measures
        assert p["point_id"].tolist() == ["tp00000001", "tp00000002", "tp00000003"]
        np.testing.assert_array_equal(p["id"], result.point_ids)
        np.testing.assert_array_equal(p["depth"], [2, 3, 2])
        np.testing.assert_allclose(p["lon"], np.linspace(10.1, 10.9, 3))
        np.testing.assert_allclose(p["lat"], np.linspace(-0.5, 0.5, 3))
        assert set(p["apriori_surf_source"]) == {"User"} and set(p["apriori_method"]) == {"rays"}
        ref = m["id"] == p["reference_measure_id"][table.point_index()]
        assert (m["status"][ref] == "reference").all() and (m["status"][~ref] == "pending").all()
        assert ref.sum() == 3 and set(m["type"]) == {"Candidate"}
        np.testing.assert_array_equal(m["apriori_x"], m["x"])
        if db.dialect == "sqlite":  # a GeoPackage layer with its R-tree
            assert db.execute_sql("SELECT count(*) FROM rtree_points_geom")[0][0] == 3
            declared = {r[1]: r[2] for r in db.execute_sql("PRAGMA table_info(points)")}
            assert declared["geom"] == "POINT"
            extension = (
                "SELECT scope FROM gpkg_extensions WHERE table_name = 'points' AND column_name = 'geom'"
            )
            assert db.execute_sql(extension)[0][0] == "write-only"
            blob = db.execute_sql("SELECT geom FROM points ORDER BY id")[0][0]
            assert shapely.from_wkb(bytes(blob)[40:]).equals(shapely.Point(10.1, -0.5))  # GP header + WKB
            contents = db.execute_sql(
                "SELECT data_type, srs_id, min_x FROM gpkg_contents WHERE table_name='points'"
            )
            assert contents[0][:2] == ("features", db.body.srid) and contents[0][2] == pytest.approx(10.1)
        else:
            assert db.execute_sql("SELECT DISTINCT ST_SRID(geom) FROM points")[0][0] == db.body.srid
        # the next insert continues the ids (PostgreSQL: the sequences too)
        more = db.write_network(network_rows([[(a, 5), (c, 5)]]), empty_pairs())
        assert more.point_ids.tolist() == [4] and more.measure_ids.tolist() == [8, 9]
        stamp = "'2026-01-01T00:00:00.000000Z'"
        db.execute_sql("INSERT INTO points (point_id, type, ignore, depth, created, updated) VALUES "
                       f"('manual', 'Free', false, 0, {stamp}, {stamp})")  # fmt: skip
        assert db.execute_sql("SELECT id FROM points WHERE point_id = 'manual'")[0][0] == 5


def test_the_database_refuses_duplicates(db_url):
    with Database(db_url) as db:
        a, b, _ = _images(db)
        db.write_network(network_rows([[(a, 0), (b, 0)]]), empty_pairs())
        with pytest.raises(DatabaseError, match=r"(?i)unique"):  # keypoint 0 of image a is used
            db.write_network(network_rows([[(a, 0), (b, 7)]]), empty_pairs())
        with pytest.raises(DatabaseError, match=r"(?i)unique"):  # two measures of one point in image b
            db.write_network(network_rows([[(a, 3), (b, 3), (b, 4)]]), empty_pairs())
        assert db.execute_sql("SELECT count(*) FROM points")[0][0] == 1  # nothing half-written
        assert db.execute_sql("SELECT count(*) FROM measures")[0][0] == 2
        with pytest.raises(ValueError, match="reference"):
            bad = network_rows([[(a, 5), (b, 5)], [(a, 6), (b, 6)]])
            bad.reference[1] = 0  # point 1's reference in point 0
            db.write_network(bad, empty_pairs())


def test_refresh_ignores_points_without_two_good_measures_and_restores_them(db_url):
    with Database(db_url) as db:
        a, b, c = _images(db)
        db.write_network(network_rows([[(a, 0), (b, 0)], [(a, 1), (b, 1), (c, 1)]]), empty_pairs())
        sql = "UPDATE measures SET ignore = true, ignore_reason = 'low_ncc' "
        sql += "WHERE keypoint = :k AND image_id = :m"
        db.execute_sql(sql, {"k": 0, "m": b})
        db.execute_sql(sql, {"k": 1, "m": c})
        db.refresh_points()
        rows = db.execute_sql("SELECT point_id, ignore, ignore_reason FROM points ORDER BY id")
        assert [tuple(r) for r in rows] == [("tp00000001", True, FEW_MEASURES), ("tp00000002", False, None)]
        db.execute_sql("UPDATE measures SET ignore = false, ignore_reason = NULL")
        db.refresh_points()
        assert db.execute_sql("SELECT count(*) FROM points WHERE ignore")[0][0] == 0


def test_a_lost_reference_is_replaced_by_the_finest_measure_and_the_others_register_again(db_url):
    with Database(db_url) as db:
        a, b, c = _images(db)
        new = network_rows([[(a, 0), (b, 0), (c, 0)]], resolution=np.array([6.0, 12.0, 5.0]))
        db.write_network(new, empty_pairs())
        db.execute_sql("UPDATE measures SET status = 'ok', type = 'RegisteredSubPixel', x = x + 0.3 "
                       "WHERE status = 'pending'")  # fmt: skip
        db.execute_sql("DELETE FROM measures WHERE image_id = :a", {"a": a})  # the reference goes
        db.refresh_points()
        rows = db.execute_sql(
            "SELECT m.image_id, m.status, m.x = m.apriori_x FROM measures m ORDER BY m.image_id"
        )
        assert [tuple(r) for r in rows] == [(b, "pending", True), (c, "reference", True)]
        ref = db.execute_sql(
            "SELECT r.image_id FROM points p JOIN measures r ON r.id = p.reference_measure_id"
        )
        assert ref[0][0] == c  # the finest resolution (5 m) of those left
        assert db.execute_sql("SELECT depth FROM points")[0][0] == 2


def test_measures_of_a_reingested_image_are_stale(db_url):
    with Database(db_url) as db:
        a, b, c = _images(db)
        db.write_network(network_rows([[(a, 0), (b, 0)], [(a, 1), (b, 1), (c, 1)]]), empty_pairs())
        db.write_images([make_record("/data/img1.cub")], force=True)  # image b re-ingested
        assert db.drop_stale_measures() == 2
        rows = db.execute_sql("SELECT point_id, depth, ignore FROM points ORDER BY id")
        assert [tuple(r) for r in rows] == [("tp00000001", 1, True), ("tp00000002", 2, False)]
        assert db.drop_stale_measures() == 0


def _pair_record(key: str) -> PairRecord:
    now = datetime.now(UTC)
    return PairRecord(key, "/data/a.cub", "/data/b.cub", "/m/a__b.h5", "gated", 10, 10, 5, 5, 1.0,
                      started=now, finished=now)  # fmt: skip


def test_pairs_are_added_once(db_url):
    with Database(db_url) as db:
        a, b = db.write_images(
            [
                make_record("/data/a.cub", box(10.0, -1.0, 11.0, 1.0)),
                make_record("/data/b.cub", box(10.5, -1, 11.5, 1)),
            ]
        )
        db.update_overlaps()
        (key,) = db.pairs_to_match()
        db.write_pair_records([_pair_record(key)])
        todo = db.network_pairs_to_add()
        assert (
            todo.key == [key] and todo.path == ["/m/a__b.h5"] and (todo.image_a[0], todo.image_b[0]) == (a, b)
        )
        db.write_network(network_rows([[(a, 0), (b, 0)]]), todo)
        assert len(db.network_pairs_to_add()) == 0
        # matched again (force): its new matches are added again
        db.write_pair_records([_pair_record(key)])
        assert db.network_pairs_to_add().key == [key]


def _record(task, status, **kw) -> RegistrationRecord:
    n = len(task.measure_ids)
    status = np.asarray(status, dtype="<U16")
    return RegistrationRecord(
        key=task.key, image=task.image, measure_ids=task.measure_ids, status=status,
        x=task.x + np.where(status == "ok", 0.25, 0.0), y=task.y - np.where(status == "ok", 0.5, 0.0),
        dx=np.full(n, 0.25), dy=np.full(n, -0.5), ncc=np.full(n, 0.9), ncc_second=np.full(n, 0.8),
        disagreement_px=np.full(n, 0.1), texture=np.full(n, 0.5), **kw,
    )  # fmt: skip


def test_registration_tasks_and_results(db_url):
    with Database(db_url) as db:
        a, b, c = _images(db)
        db.write_network(
            network_rows([[(a, 0), (b, 0)], [(a, 1), (b, 1), (c, 1)], [(c, 2), (b, 2)]]), empty_pairs()
        )
        assert db.images_to_register() == ["/data/img1.cub", "/data/img2.cub"]
        task_b, missing = db.registration_tasks(["/data/img1.cub", "/data/none.cub"])
        assert isinstance(missing, DatabaseError) and "/data/none.cub" in str(missing)
        assert len(task_b) == 3 and [r[0] for r in task_b.references] == ["/data/img0.cub", "/data/img2.cub"]
        np.testing.assert_array_equal(task_b.x, [0.0, 1.5, 3.0])  # a-priori: keypoint * 1.5
        np.testing.assert_array_equal(task_b.reference, [0, 0, 1])
        np.testing.assert_array_equal(task_b.ref_x, [0.0, 1.5, 3.0])
        assert db.write_registrations([_record(task_b, ["ok", "low_ncc", "ok"])]) == 3
        assert (
            db.write_registrations([_record(task_b, ["low_ncc", "low_ncc", "low_ncc"])]) == 0
        )  # not pending
        rows = db.execute_sql(
            "SELECT keypoint, status, type, ignore, ignore_reason, x - apriori_x, shift_y FROM measures "
            "WHERE image_id = :b ORDER BY keypoint", {"b": b},
        )  # fmt: skip
        assert [tuple(r) for r in rows] == [
            (0, "ok", "RegisteredSubPixel", False, None, 0.25, -0.5),
            (1, "low_ncc", "Candidate", True, "low_ncc", 0.0, -0.5),
            (2, "ok", "RegisteredSubPixel", False, None, 0.25, -0.5),
        ]
        assert db.images_to_register() == ["/data/img2.cub"]
        bad = _record(db.registration_tasks(["/data/img2.cub"])[0], ["ok"])
        bad.dx = np.zeros(3)
        with pytest.raises(DatabaseError, match="dx has 3 values"):
            db.write_registrations([bad])
        assert db.reset_registration(["/data/img1.cub"]) == 3
        assert db.execute_sql("SELECT count(*) FROM measures WHERE ignore")[0][0] == 0
        assert db.images_to_register() == ["/data/img1.cub", "/data/img2.cub"]
