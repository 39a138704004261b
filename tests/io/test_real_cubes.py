"""The reader on the real ISIS3 cubes in shared/data/cubes, checked against GDAL's ISIS3 driver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
import shapely

from tiepoint.io import IsisCube, RasterioImage, open_image

CUBES = ["AS15-M-0297_crop.cub", "HiRISE_no_change_before.cub"]


@pytest.mark.parametrize("name", CUBES)
def test_pixels_match_gdal(cube_dir, name):
    path = cube_dir / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            gdal = ds.read(1, masked=True)
            gdal_win = ds.read(1, window=((123, 457), (61, 333)), masked=True)
    with open_image(path) as img:
        assert isinstance(img, IsisCube)
        assert img.shape == gdal.shape and img.dtype == np.float32
        ours = img.read()
        np.testing.assert_array_equal(ours.mask, np.ma.getmaskarray(gdal))
        np.testing.assert_array_equal(ours.filled(0), gdal.filled(0))
        win = img.read(((123, 457), (61, 333)))
        np.testing.assert_array_equal(win.mask, np.ma.getmaskarray(gdal_win))
        np.testing.assert_array_equal(win.filled(0), gdal_win.filled(0))


def test_hirise_null_pixels(cube_dir):
    with open_image(cube_dir / "HiRISE_no_change_before.cub") as img:
        special = img.read_special()
        out = img.read()
    assert (special == 1).sum() > 0  # the crop has NULL pixels
    np.testing.assert_array_equal(out.mask, special != 0)


def test_apollo_blobs_and_tables(cube_dir):
    with open_image(cube_dir / "AS15-M-0297_crop.cub") as img:
        label = img.label
        assert ("Polygon", "Footprint") in img.blobs
        tables = [n for t, n in img.blobs if t == "Table"]
        assert len(tables) == 5
        for name in tables:
            obj = next(o for k, o in label.items() if k == "Table" and o["Name"] == name)
            tab = img.table(name)
            assert len(tab) == obj["Records"]
            assert list(tab.dtype.names) == [f["Name"] for f in obj.getall("Field")]
        # quaternions are unit length: an independent check of the record layout and byte order
        for name in ("InstrumentPointing", "BodyRotation"):
            q = img.table(name)
            norm = np.sqrt(sum(q[f"J2000Q{i}"] ** 2 for i in range(4)))
            np.testing.assert_allclose(norm, 1.0, atol=1e-9)
        stats = {row["Name"].decode(): row for row in img.table("CameraStatistics")}
        footprint = img.footprint_blob()
        assert img.csm_state() is None
    assert footprint.is_valid and footprint.area > 0
    lon0, lat0, lon1, lat1 = footprint.bounds
    # the crop's footprint lies inside the lat/lon range ISIS's camstats measured over the image
    assert stats["Latitude"]["Minimum"] <= lat0 < lat1 <= stats["Latitude"]["Maximum"]
    assert stats["Longitude"]["Minimum"] <= lon0 < lon1 <= stats["Longitude"]["Maximum"]
    assert isinstance(footprint, shapely.MultiPolygon)


def test_hirise_table_with_array_field(cube_dir):
    with open_image(cube_dir / "HiRISE_no_change_before.cub") as img:
        assert img.footprint_blob() is None
        cal = img.table("HiRISE Calibration Image")
        history = img.blob_bytes("History", "IsisCube")
    assert cal.shape == (168,) and cal["Calibration"].shape == (168, 1024)
    assert cal["Calibration"].dtype == np.int32
    assert b"End" in history  # the History blob is PVL text


def test_rasterio_backend_reads_the_same_cube(cube_dir):
    # the rasterio-backed Image (GDAL's ISIS3 driver) and the native reader agree through one interface
    path = cube_dir / "HiRISE_no_change_before.cub"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with RasterioImage(path) as gdal, IsisCube(path) as ours:
            assert gdal.shape == ours.shape and gdal.dtype == ours.dtype
            w = ((10, 300), (250, 590))
            a, b = gdal.read(w), ours.read(w)
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.filled(-1), b.filled(-1))
