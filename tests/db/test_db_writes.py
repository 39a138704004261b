"""Writes on both backends: round trip, idempotence, force, atomic transactions, bad input."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
import shapely
from dbtest_records import make_record
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from sqlalchemy import func, select

from tiepoint.config import BodyConfig
from tiepoint.db import Camera, Database, DatabaseError, DatabaseUnavailableError, ImageRow, Job, KeypointSet

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy's note on the NaN while building it
    NAN_POLYGON = Polygon([(10, 0), (11, float("nan")), (11, 1), (10, 0)])


def _counts(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (ImageRow, Camera, KeypointSet))


def test_write_and_read_back(db_url: str) -> None:
    rec = make_record("/data/G02_019154.cub")
    with Database(db_url) as db:
        before = datetime.now(UTC)
        image_id = db.write_image(rec)
        after = datetime.now(UTC)
        image = db.get_image(rec.path)
        assert db.has_image(rec.path) and not db.has_image("/data/other.cub")
        assert db.ingested_paths() == {rec.path}
    assert image is not None and image.id == image_id
    for key in (
        "path",
        "name",
        "product_id",
        "lines",
        "samples",
        "bands",
        "content_hash",
        "host",
        "started",
        "finished",
    ):
        assert getattr(image, key) == getattr(rec, key), key
    assert before <= image.ingested <= after and image.ingested.tzinfo is not None
    assert isinstance(image.footprint, MultiPolygon)
    assert image.footprint.equals(rec.footprint)
    assert shapely.equals_exact(image.footprint.geoms[0], rec.footprint, tolerance=0)
    assert shapely.has_z(image.footprint_xyz)
    assert shapely.equals_exact(image.footprint_xyz.geoms[0], rec.footprint_xyz, tolerance=1e-6)
    assert image.camera.model_name == rec.camera_model and image.camera.state == rec.camera_state
    kp = image.keypoints
    assert (kp.path, kp.count, kp.extractor, kp.bbox) == (
        rec.keypoints.path,
        rec.keypoints.count,
        rec.keypoints.extractor,
        rec.keypoints.bbox,
    )


def test_existing_unchanged_without_force_replaced_with_force(db_url: str) -> None:
    first = make_record("/data/a.cub", box(10, 0, 11, 1), count=5, state='{"v": 1}')
    second = make_record("/data/a.cub", box(50, 5, 52, 6), count=9, state='{"v": 2}', lines=77)
    with Database(db_url) as db:
        id1 = db.write_image(first)
        assert db.write_image(second) == id1
        kept = db.get_image(first.path)
        assert kept.lines == first.lines and kept.footprint.equals(first.footprint)
        assert kept.camera.state == '{"v": 1}' and kept.keypoints.count == 5
        assert db.images_intersecting(box(51, 5.2, 51.5, 5.8)) == []

        assert db.write_image(second, force=True) == id1
        new = db.get_image(first.path)
        assert new.lines == 77 and new.footprint.equals(second.footprint)
        assert new.camera.state == '{"v": 2}' and new.keypoints.count == 9
        assert [i.path for i in db.images_intersecting(box(51, 5.2, 51.5, 5.8))] == [first.path]
        assert db.images_intersecting(box(10.2, 0.2, 10.8, 0.8)) == []  # the index moved too
        assert _counts(db) == (1, 1, 1)


def test_batch_returns_ids_in_order_and_dedupes(db_url: str) -> None:
    recs = [make_record(f"/data/img{i:03d}.cub", box(i, 0, i + 0.5, 1)) for i in range(7)]
    with Database(db_url) as db:
        ids_first = db.write_images(recs[:4])
        ids = db.write_images([recs[6], *recs, recs[2]])
        assert ids[1:5] == ids_first
        assert ids[0] == ids[7] and ids[3] == ids[8]
        assert len(set(ids)) == 7
        assert _counts(db) == (7, 7, 7)
        for rec, image_id in zip(recs, ids[1:8], strict=True):
            assert db.get_image(rec.path).id == image_id


def test_failed_transaction_leaves_nothing(db_url: str) -> None:
    good = [make_record(f"/data/ok{i}.cub") for i in range(2)]
    bad = make_record("/data/bad.cub", count=-1)  # violates the keypoints CHECK (count >= 0)
    with Database(db_url) as db:
        with pytest.raises(DatabaseError) as info:
            db.write_images([*good, bad])
        assert not isinstance(info.value, DatabaseUnavailableError)
        assert _counts(db) == (0, 0, 0)
        with pytest.raises(DatabaseError):
            db.write_image(bad)
        assert _counts(db) == (0, 0, 0)
        # a failed forced rewrite keeps the old rows intact
        db.write_image(good[0])
        with pytest.raises(DatabaseError):
            db.write_image(make_record(good[0].path, box(40, 0, 41, 1), count=-5), force=True)
        kept = db.get_image(good[0].path)
        assert kept.footprint.equals(good[0].footprint) and kept.keypoints.count == good[0].keypoints.count
        assert _counts(db) == (1, 1, 1)


@pytest.mark.parametrize(
    ("footprint", "problem"),
    [
        (LineString([(0, 0), (1, 1)]), "polygonal"),
        (box(10, 80, 11, 95), "latitudes"),
        (box(359.5, 0, 361, 1), "longitudes"),
        (NAN_POLYGON, "non-finite"),
    ],
)
def test_bad_footprint_names_the_file(tmp_path, footprint, problem: str) -> None:
    with Database(f"sqlite:///{tmp_path / 'x.gpkg'}") as db:
        with pytest.raises(DatabaseError, match=problem) as info:
            db.write_image(make_record("/data/broken.cub", footprint, with_xyz=False))
        assert info.value.path == "/data/broken.cub"
        assert db.ingested_paths() == set()


def test_naive_record_time_names_the_file(tmp_path) -> None:
    rec = make_record("/data/naive.cub")
    rec.started = datetime(2026, 1, 1, 12, 0)
    with Database(f"sqlite:///{tmp_path / 'x.gpkg'}") as db:
        with pytest.raises(DatabaseError, match="timezone-aware") as info:
            db.write_image(rec)
        assert info.value.path == "/data/naive.cub"


def test_naive_datetime_refused(db_url: str) -> None:
    with Database(db_url) as db, pytest.raises(DatabaseError, match="naive datetime"), db.session() as s:
        s.add(Job(kind="ingest", key="/x", submitted=datetime(2026, 1, 1), updated=datetime.now(UTC)))


def test_reopen_keeps_rows_and_body(db_url: str) -> None:
    moon = BodyConfig(name="Moon", semimajor=1737400.0, semiminor=1737400.0, srid=30100)
    with Database(db_url, body=moon) as db:
        db.write_image(make_record("/data/m.cub"))
    with Database(db_url) as db:
        assert db.body == moon
        assert db.ingested_paths() == {"/data/m.cub"}
        if db.dialect == "postgresql":
            assert db.execute_sql("SELECT DISTINCT ST_SRID(footprint) FROM images")[0][0] == 30100
        else:
            assert db.execute_sql("SELECT srs_id FROM gpkg_geometry_columns")[0][0] == 30100
    with pytest.raises(DatabaseError, match="created for Moon"):
        Database(db_url, body=BodyConfig())


def test_timestamps_are_utc_aware(db_url: str) -> None:
    local = datetime(2026, 3, 1, 1, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=-7)))
    with Database(db_url) as db:
        with db.session() as s:
            s.add(Job(kind="ingest", key="/x", submitted=local, updated=local))
        with db.session() as s:
            job = s.scalars(select(Job)).one()
    assert job.submitted == local and job.submitted.utcoffset() == timedelta(0)
    assert job.submitted.hour == 1


def test_numpy_scalars_from_workers(db_url: str) -> None:
    rec = make_record("/data/np.cub")
    rec.lines, rec.samples, rec.bands = np.int64(300), np.int32(200), np.uint8(3)
    rec.keypoints.count = np.int64(42)
    rec.keypoints.bbox = tuple(np.float32([1.5, 2.5, 3.5, 4.5]))
    with Database(db_url) as db:
        db.write_image(rec)
        image = db.get_image(rec.path)
    assert (image.lines, image.samples, image.bands) == (300, 200, 3)
    assert image.keypoints.count == 42 and image.keypoints.bbox == (1.5, 2.5, 3.5, 4.5)
    assert type(image.lines) is int


def test_orm_added_image_gets_body_srid(db_url: str) -> None:
    moon = BodyConfig(name="Moon", semimajor=1737400.0, semiminor=1737400.0, srid=30100)
    now = datetime.now(UTC)
    with Database(db_url, body=moon) as db:
        with db.session() as s:
            s.add(
                ImageRow(
                    path="/data/orm.cub",
                    name="orm",
                    lines=1,
                    samples=1,
                    bands=1,
                    content_hash="x",
                    footprint=box(5, 5, 6, 6),
                    ingested=now,
                )
            )
        with db.session() as s:
            s.scalars(select(ImageRow)).one().footprint = box(7, 7, 8, 8)
        if db.dialect == "postgresql":
            srids = db.execute_sql("SELECT ST_SRID(footprint) FROM images")
        else:
            srids = db.execute_sql("SELECT substr(footprint, 5, 4) FROM images")
            srids = [(int.from_bytes(srids[0][0], "little"),)]
        assert [tuple(r) for r in srids] == [(30100,)]
        assert [i.path for i in db.images_intersecting(box(7.5, 7.5, 7.6, 7.6))] == ["/data/orm.cub"]
