"""The footprint Polygon blob of a real ISIS cube, as an alternative footprint source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from tiepoint.config import FootprintConfig
from tiepoint.errors import FootprintError
from tiepoint.footprint import cube_footprint, latlon_footprint
from tiepoint.io import open_image


def blob_wkt(path: Path) -> str:
    """The Footprint blob's WKT read straight from the file (label offsets, 1-based StartByte)."""
    raw = path.read_bytes()
    label = raw[: raw.index(b"\nEnd\n") + 5].decode("latin-1")
    match = re.search(
        r"Object = Polygon\s+Name\s*=\s*Footprint\s+StartByte\s*=\s*(\d+)\s+Bytes\s*=\s*(\d+)", label
    )
    assert match, "test cube lost its Footprint blob"
    start, size = int(match.group(1)) - 1, int(match.group(2))
    return raw[start : start + size].decode("latin-1")


def test_cube_blob_footprint_is_the_stored_polygon(cube_dir: Path) -> None:
    path = cube_dir / "AS15-M-0297_crop.cub"
    expected = shapely.from_wkt(blob_wkt(path))
    with open_image(path) as image:
        fp = cube_footprint(image)
    assert fp.is_valid and fp.geom_type == "Polygon"
    assert fp.symmetric_difference(expected).area < 1e-9 * expected.area
    assert fp.bounds[0] >= 0 and fp.bounds[2] <= 360
    # by path, in -180..180 (this one lies at ~145E: unchanged), and chosen through the config
    assert cube_footprint(path, 180).equals(fp)
    assert latlon_footprint(None, image=path, config=FootprintConfig(source="cube")).equals(fp)


def test_cube_without_a_footprint_blob_is_an_error(cube_dir: Path) -> None:
    path = cube_dir / "HiRISE_no_change_before.cub"
    with pytest.raises(FootprintError, match="no footprint Polygon blob") as info:
        latlon_footprint(None, source="cube", image=path)
    assert info.value.path == str(path)
    with pytest.raises(FootprintError, match="needs the cube"):
        latlon_footprint(None, source="cube")
