"""Query arguments no stored value can match get the same clear error on SQLite and PostGIS."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbtest_records import make_record

from tiepoint.db import Database, DatabaseError


@pytest.fixture
def db(db_url: str):
    with Database(db_url) as database:
        database.write_images([make_record("/data/a.cub", name="a"), make_record("/data/ab.cub", name="ab")])
        yield database


@pytest.mark.parametrize("pattern", ["a\0*", "\0", "*\0"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_name_pattern_with_a_nul_byte(db, pattern, ignore_case):
    assert sorted(i.name for i in db.images_by_name("a*", ignore_case=ignore_case)) == ["a", "ab"]
    with pytest.raises(DatabaseError) as err:  # SQLite used to match every image, PostGIS to fail
        db.images_by_name(pattern, ignore_case=ignore_case)
    assert type(err.value).__name__ == "InvalidQueryError" and isinstance(err.value, ValueError)
    assert (
        str(err.value)
        == f"image name pattern {pattern!r} contains a NUL byte (\\x00), which no image name or path has"
    )


def test_paths_with_a_nul_byte(db):
    bad = "/data/a.cub\0.cub"
    calls = {
        "has_image": lambda: db.has_image(bad),
        "get_image": lambda: db.get_image(bad),
        "delete_image": lambda: db.delete_image(bad),
        "overlapping_pairs": lambda: db.overlapping_pairs(["/data/ab.cub", bad]),
    }
    for name, call in calls.items():
        with pytest.raises(DatabaseError, match=r"image path .* contains a NUL byte"):
            call()
        assert db.has_image("/data/a.cub"), name  # nothing deleted
    assert db.has_image(Path("/data/a.cub")) and db.get_image(Path("/data/ab.cub")).name == "ab"


def test_pattern_of_another_type(db):
    with pytest.raises(DatabaseError, match="image name pattern must be a str, not bytes"):
        db.images_by_name(b"a*")  # type: ignore[arg-type]
