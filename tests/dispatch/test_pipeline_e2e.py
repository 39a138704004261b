"""End to end: synthetic CTX cubes through the real pipeline on a LocalCluster into GeoPackage and PostGIS."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from tiepoint.db import Database
from tiepoint.dispatch import ImageAdder
from tiepoint.features import read_keypoints
from tiepoint.synthetic import synthesize

ISDS = ["G02_019154_1800_XN_00N133W.crop", "N06_064753_1800_XN_00S133W.crop"]


@pytest.fixture(scope="module")
def cube_batch(tmp_path_factory, ctx_isd_dir) -> tuple[list[Path], Path]:
    """Two small synthetic CTX cubes with sidecar ISDs, and a truncated copy of the first."""
    folder = tmp_path_factory.mktemp("cubes")
    cubes = [synthesize(ctx_isd_dir / f"{name}.json", folder, lines=240, samples=240).cube for name in ISDS]
    corrupt = folder / "corrupt.cub"
    data = cubes[0].read_bytes()
    corrupt.write_bytes(data[: len(data) // 2])
    shutil.copy(cubes[0].with_suffix(".json"), folder / "corrupt.json")
    return cubes, corrupt


def test_ingest_batch_end_to_end(tmp_path, db_url, cube_batch, dask_client):
    cubes, corrupt = cube_batch
    folder = cubes[0].parent
    kp_dir = tmp_path / "kp"
    kp_dir.mkdir()
    cfg = {"database": {"url": db_url}, "output": {"keypoint_dir": str(kp_dir)}}
    cfg["cluster"] = {"maxfailures": 1}
    with ImageAdder(cfg, client=dask_client) as ia:
        queued = ia.add_images(folder, "cub")
        assert len(queued) == 3
        assert ia.wait(timeout=120)
        status = ia.job_status
        failure = ia.inspect(corrupt)
    assert status == {str(cubes[0]): True, str(cubes[1]): True, str(corrupt): 1}
    assert failure[0]["error_type"] == "ImageError" and "corrupt.cub" in failure[0]["error_message"]
    db = Database(db_url)
    for cube in cubes:
        image = db.get_image(str(cube))
        assert (image.lines, image.samples, image.bands) == (240, 240, 1)
        assert image.camera.model_name == "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL"
        assert Path(image.keypoints.path) == kp_dir / f"{cube.stem}.h5"
        keypoints, ground, _ = read_keypoints(image.keypoints.path)
        assert image.keypoints.count == len(keypoints) > 50
        # keypoint ground points (projected separately) fall inside the stored footprint
        pts = shapely.points(ground["lon"], ground["lat"])
        inside = shapely.covers(image.footprint.buffer(1e-6), pts)
        assert np.mean(inside) > 0.99
        assert image.footprint_xyz is not None


def test_force_extracts_again_and_workers_never_touch_the_database(tmp_path, cube_batch, dask_client):
    cube = cube_batch[0][0]
    cfg = {"database": {"url": f"sqlite:///{tmp_path / 'f.gpkg'}"}, "output": {"keypoint_dir": str(tmp_path)}}
    h5 = tmp_path / f"{cube.stem}.h5"
    with ImageAdder(cfg, client=dask_client) as ia:
        ia.add_image(cube)
        assert ia.wait(timeout=60)
        first = h5.stat().st_mtime_ns
        Database(cfg["database"]["url"]).delete_image(str(cube))  # not ingested any more ...
        ia.add_image(cube)
        assert ia.wait(timeout=60)
        assert h5.stat().st_mtime_ns == first  # ... but its up-to-date keypoint file is reused
        ia.add_image(cube, force=True)
        assert ia.wait(timeout=60)
        assert h5.stat().st_mtime_ns > first  # force: extracted again
        assert ia.job_status == {str(cube): True}
    imported = dask_client.run(
        lambda: sorted(m for m in sys.modules if m.startswith(("tiepoint.db", "sqlalchemy")))
    )
    assert all(mods == [] for mods in imported.values()), imported
