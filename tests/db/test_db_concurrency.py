"""Concurrent writers and openers: one row per path, whatever the interleaving."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from dbtest_records import make_record
from shapely.geometry import box

from tiepoint.db import Database

WRITERS = 10


def _race(url: str, force: bool, barrier: threading.Barrier, n: int) -> tuple[int, list[int]]:
    with Database(url) as db:  # ten concurrent opens: the first migrates, the others wait for it
        barrier.wait(timeout=60)
        image_id = db.write_image(
            make_record("/data/same.cub", box(10 + n, 0, 11 + n, 1), count=n), force=force
        )
        barrier.wait(timeout=60)
        return image_id, [r[0] for r in db.execute_sql("SELECT id FROM images WHERE path = '/data/same.cub'")]


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_concurrent_writers_one_row(db_url: str, force: bool) -> None:
    barrier = threading.Barrier(WRITERS)
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda n: _race(db_url, force, barrier, n), range(WRITERS)))
    ids = {image_id for image_id, _ in results}
    assert len(ids) == 1
    assert all(rows == [next(iter(ids))] for _, rows in results)
    with Database(db_url) as db:
        counts = db.execute_sql(
            "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM cameras), "
            "(SELECT count(*) FROM keypoints)"
        )[0]
        assert tuple(counts) == (1, 1, 1)
        image = db.get_image("/data/same.cub")
        # the stored rows are one writer's record, consistently (footprint, keypoints from the same n)
        n = image.keypoints.count
        assert image.footprint.equals(box(10 + n, 0, 11 + n, 1))
        hits = [i.path for i in db.images_intersecting(box(10.2 + n, 0.2, 10.8 + n, 0.8))]
        assert hits == ["/data/same.cub"]
