"""GeoTIFF, PNG and PDS3 through rasterio/GDAL behind the same interface as cubes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
from affine import Affine

from tiepoint.io import RasterioImage, open_image


def test_geotiff_nodata_scale_offset_windows(tmp_path, rng):
    data = rng.integers(-1000, 1000, (2, 40, 60)).astype(np.int16)
    data[0, 5, 7] = -9999
    path = tmp_path / "g.tif"
    profile = {
        "driver": "GTiff",
        "height": 40,
        "width": 60,
        "count": 2,
        "dtype": "int16",
        "nodata": -9999,
        "crs": "EPSG:4326",
        "transform": Affine(0.5, 0, 10, 0, -0.5, 20),
        "tiled": True,
        "blockxsize": 16,
        "blockysize": 16,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        ds.scales, ds.offsets = (0.5, 1.0), (100.0, 0.0)
        ds.update_tags(MISSION="TEST")
    with open_image(path) as img:
        assert isinstance(img, RasterioImage)
        assert img.shape == (40, 60) and img.bands == 2 and img.dtype == np.int16
        assert img.label["driver"] == "GTiff" and img.label["tags"]["MISSION"] == "TEST"
        assert "4326" in img.label["profile"]["crs"]
        out = img.read(((2, 30), (4, 50)))
        expected = data[0, 2:30, 4:50] * 0.5 + 100.0
        assert out.dtype == np.float64 and out.mask.sum() == 1 and out.mask[3, 3]
        np.testing.assert_array_equal(out.data[~out.mask], expected[~out.mask])
        assert np.isnan(out.data[3, 3])
        band2 = img.read(band=2)
        assert band2.dtype == np.int16  # unscaled band keeps its dtype
        np.testing.assert_array_equal(band2, data[1])
        assert img.blobs == [] and img.footprint_blob() is None and img.csm_state() is None


def test_png(tmp_path, rng):
    data = rng.integers(0, 256, (30, 20)).astype(np.uint8)
    path = tmp_path / "p.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="PNG", height=30, width=20, count=1, dtype="uint8") as ds:
            ds.write(data, 1)
        with open_image(path) as img:
            assert img.label["driver"] == "PNG"
            out = img.read(((10, 30), (0, 20)))
    assert out.dtype == np.uint8 and not out.mask.any()
    np.testing.assert_array_equal(out.data, data[10:30])


def test_jpeg(tmp_path):
    # a smooth ramp survives JPEG's loss within a few DN
    data = (np.add.outer(np.arange(48), np.arange(64)) * 2).astype(np.uint8)
    path = tmp_path / "j.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="JPEG", height=48, width=64, count=1, dtype="uint8") as ds:
            ds.write(data, 1)
        with open_image(path) as img:
            assert img.label["driver"] == "JPEG" and img.shape == (48, 64) and img.dtype == np.uint8
            out = img.read(((8, 40), (16, 64)))
    assert out.shape == (32, 48) and not out.mask.any()
    assert np.abs(out.data.astype(int) - data[8:40, 16:64]).max() <= 4


def test_pds3_img(tmp_path, rng):
    # a hand-written PDS3 attached label (record-based) with MSB 16-bit pixels and a scaling factor
    lines, samples = 24, 32
    data = rng.integers(0, 4000, (lines, samples)).astype(">i2")
    label = (
        "PDS_VERSION_ID = PDS3\r\nRECORD_TYPE = FIXED_LENGTH\r\nRECORD_BYTES = 64\r\n"
        "FILE_RECORDS = 40\r\nLABEL_RECORDS = 16\r\n^IMAGE = 17\r\nOBJECT = IMAGE\r\n"
        f"  LINES = {lines}\r\n  LINE_SAMPLES = {samples}\r\n  SAMPLE_TYPE = MSB_INTEGER\r\n"
        "  SAMPLE_BITS = 16\r\n  SCALING_FACTOR = 0.25\r\n  OFFSET = 10.0\r\nEND_OBJECT = IMAGE\r\nEND\r\n"
    )
    path = tmp_path / "x.IMG"
    path.write_bytes(label.encode().ljust(16 * 64, b" ") + data.tobytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_image(path) as img:
            assert img.label["driver"] == "PDS"
            assert img.shape == (lines, samples)
            out = img.read(((4, 20), (3, 30)))
    np.testing.assert_allclose(out.data, data[4:20, 3:30].astype(np.float64) * 0.25 + 10.0)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize("band", [0, 3])
def test_bad_band(tmp_path, band):
    path = tmp_path / "g.tif"
    with rasterio.open(path, "w", driver="GTiff", height=4, width=4, count=2, dtype="uint8") as ds:
        ds.write(np.zeros((2, 4, 4), np.uint8))
    with open_image(path) as img, pytest.raises(ValueError, match="band"):
        img.read(band=band)
