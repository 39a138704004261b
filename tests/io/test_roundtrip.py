"""Write -> read round trips of ISIS3 cubes, cross-checked with GDAL's independent ISIS3 driver."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pvl
import pytest
import rasterio
from io_samples import random_valid

from tiepoint.errors import ImageError
from tiepoint.io import CubeWriter, open_image, write_cube
from tiepoint.io.special_pixels import HIS, HRS, LIS, LRS, NULL, PIXEL_TYPES, VALID

SHAPE = (45, 61)  # not a multiple of the tile size: padded edge tiles
WINDOWS = [((0, 45), (0, 61)), ((3, 4), (5, 6)), ((7, 40), (9, 60)), ((16, 32), (8, 24)), ((44, 45), (0, 61))]


def _gdal_read(path: Path) -> np.ma.MaskedArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            return ds.read(1, masked=True)


def _specials(shape, rng) -> np.ndarray:
    special = np.zeros(shape, dtype=np.uint8)
    idx = rng.choice(special.size, 60, replace=False)
    special.flat[idx] = np.arange(60) % 5 + 1  # every code
    return special


def _expected_codes(special: np.ndarray, pixel_type: str) -> np.ndarray:
    # ISIS: UnsignedByte stores NULL/LRS/LIS as 0 (read back NULL) and HIS/HRS as 255 (read back HRS)
    if pixel_type != "UnsignedByte":
        return special
    out = special.copy()
    out[np.isin(special, (NULL, LRS, LIS))] = NULL
    out[np.isin(special, (HIS, HRS))] = HRS
    return out


@pytest.mark.parametrize("fmt", ["tile", "bsq"])
@pytest.mark.parametrize("byte_order", ["Lsb", "Msb"])
def test_round_trip_every_type_format_byte_order(tmp_path, rng, pixel_type, fmt, byte_order):
    ptype = PIXEL_TYPES[pixel_type]
    truth = random_valid(ptype, SHAPE, rng)
    special = _specials(SHAPE, rng)
    path = write_cube(
        tmp_path / "c.cub",
        truth,
        format=fmt,
        pixel_type=pixel_type,
        byte_order=byte_order,
        tile_size=(16, 8),
        special=special,
    )
    valid = special == VALID
    with open_image(path) as img:
        assert img.shape == SHAPE and img.bands == 1 and img.dtype == ptype.dtype
        assert img.label["IsisCube"]["Core"]["Pixels"]["ByteOrder"] == byte_order
        full = img.read()
        assert full.dtype == ptype.dtype  # unscaled: stored dtype
        np.testing.assert_array_equal(full.mask, ~valid)
        np.testing.assert_array_equal(full.data[valid], truth[valid])
        np.testing.assert_array_equal(img.read_special(), _expected_codes(special, pixel_type))
        for (l0, l1), (s0, s1) in WINDOWS:
            win = img.read(((l0, l1), (s0, s1)))
            assert win.shape == (l1 - l0, s1 - s0)
            np.testing.assert_array_equal(win.mask, ~valid[l0:l1, s0:s1])
            np.testing.assert_array_equal(win.filled(0), np.where(valid, truth, 0)[l0:l1, s0:s1])
    if pixel_type != "UnsignedInteger":  # GDAL's ISIS3 driver cannot open UnsignedInteger
        gdal = _gdal_read(path)
        np.testing.assert_array_equal(gdal.mask, ~valid)
        np.testing.assert_array_equal(gdal.data[valid], truth[valid])


def test_real_nan_and_infinities(tmp_path):
    data = np.array([[1.5, np.nan, np.inf, -np.inf, -3.4e38]], dtype=np.float32)
    path = write_cube(tmp_path / "r.cub", data, pixel_type="Real")
    with open_image(path) as img:
        out = img.read()
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.mask, [[False, True, True, True, False]])
        assert np.isnan(out.data[out.mask]).all()  # masked float pixels hold NaN
        np.testing.assert_array_equal(img.read_special(), [[VALID, NULL, HRS, LRS, VALID]])


@pytest.mark.parametrize(
    ("pixel_type", "base", "mult"),
    [("SignedWord", -1000.0, 0.25), ("UnsignedByte", 2.0, 0.5), ("UnsignedInteger", 1e6, 1e-3)],
)
def test_base_multiplier(tmp_path, rng, pixel_type, base, mult):
    ptype = PIXEL_TYPES[pixel_type]
    raw = random_valid(ptype, SHAPE, rng).astype(np.float64)
    physical = raw * mult + base
    mask = rng.random(SHAPE) < 0.05
    path = write_cube(
        tmp_path / "s.cub",
        np.ma.MaskedArray(physical, mask),
        pixel_type=pixel_type,
        base=base,
        multiplier=mult,
        byte_order="Msb",
    )
    with open_image(path) as img:
        out = img.read(((2, 40), (3, 50)))
        assert out.dtype.kind == "f"
        np.testing.assert_array_equal(out.mask, mask[2:40, 3:50])
        np.testing.assert_allclose(out.data[~out.mask], physical[2:40, 3:50][~out.mask], rtol=1e-6)
        assert np.isnan(out.data[out.mask]).all()
    if pixel_type != "UnsignedInteger":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(path) as ds:  # GDAL reports raw values with the label's scale/offset
                assert ds.scales[0] == mult and ds.offsets[0] == base
                g = ds.read(1, masked=True)
        np.testing.assert_array_equal(g.data[~mask], raw[~mask])


def test_out_of_range_values_saturate(tmp_path):
    data = np.array([[-40000, -32752, 0, 32767, 40000]], dtype=np.int64)
    path = write_cube(tmp_path / "sat.cub", data, pixel_type="SignedWord")
    with open_image(path) as img:
        np.testing.assert_array_equal(img.read_special(), [[LRS, VALID, VALID, VALID, HRS]])


def test_multiband_and_label_extra(tmp_path, rng):
    cube = rng.integers(0, 200, (3, 20, 30)).astype(np.float64)
    extra = {
        "Instrument": {
            "TargetName": "Mars",
            "SpacecraftName": "MARS RECONNAISSANCE ORBITER",
            "LineExposureDuration": pvl.collections.Quantity(1.877, "ms"),
            "Summing": 2,
            "Flags": [1, 2, 3],
            "Kind": "Group",  # a PVL reserved word as a value: must be quoted
        }
    }
    path = write_cube(tmp_path / "m.cub", cube, pixel_type="Real", format="bsq", label_extra=extra)
    with open_image(path) as img:
        assert img.bands == 3
        for b in range(3):
            np.testing.assert_array_equal(img.read(band=b + 1), cube[b])
        inst = img.label["IsisCube"]["Instrument"]
        assert {k: inst[k] for k in extra["Instrument"]} == extra["Instrument"]
        with pytest.raises(ValueError, match="band 4"):
            img.read(band=4)


def test_default_tile_size_follows_isis_rule(tmp_path):
    # ISIS: the dimension if <= 1024 (16-bit), else its largest divisor in (128, 1024], else 128
    path = write_cube(tmp_path / "t.cub", np.zeros((3000, 1000), np.int16))
    core = open_image(path).label["IsisCube"]["Core"]
    assert (core["TileLines"], core["TileSamples"]) == (1000, 1000)
    path = write_cube(tmp_path / "u.cub", np.zeros((1031, 7), np.int16))  # 1031 is prime
    core = open_image(path).label["IsisCube"]["Core"]
    assert (core["TileLines"], core["TileSamples"]) == (128, 7)


def test_cube_writer_by_windows_nulls_the_rest(tmp_path, rng):
    truth = rng.integers(-100, 100, (50, 70)).astype(np.int16)
    with CubeWriter(tmp_path / "w.cub", (50, 70), tile_size=(16, 16), byte_order="Msb") as w:
        w.write_window(((0, 20), (0, 70)), truth[:20])
        w.write_window(((20, 35), (10, 45)), truth[20:35, 10:45])
    written = np.zeros((50, 70), bool)
    written[:20] = True
    written[20:35, 10:45] = True
    with open_image(tmp_path / "w.cub") as img:
        out = img.read()
        np.testing.assert_array_equal(out.mask, ~written)
        np.testing.assert_array_equal(out.data[written], truth[written])
        np.testing.assert_array_equal(img.read_special()[~written], NULL)
    gdal = _gdal_read(tmp_path / "w.cub")
    np.testing.assert_array_equal(gdal.mask, ~written)


def test_pickle_reopens_by_path(tmp_path, rng):
    import pickle

    truth = rng.integers(0, 100, (30, 40)).astype(np.int16)
    path = write_cube(tmp_path / "p.cub", truth, tile_size=16)
    with open_image(path) as img:
        img.read()  # the memory map exists
        payload = pickle.dumps(img)
    assert len(payload) < 1000  # the path, not the pixels
    with pickle.loads(payload) as again:
        np.testing.assert_array_equal(again.read(((5, 25), (3, 39))), truth[5:25, 3:39])


def test_detached_label(tmp_path, rng):
    truth = rng.normal(size=(20, 30)).astype(np.float32)
    lbl = write_cube(tmp_path / "d.lbl", truth, pixel_type="Real", detached=True, tile_size=8)
    assert lbl == tmp_path / "d.lbl" and (tmp_path / "d.cub").stat().st_size == 24 * 32 * 4
    with open_image(lbl) as img:
        np.testing.assert_array_equal(img.read(((3, 17), (2, 29))), truth[3:17, 2:29])
    np.testing.assert_array_equal(_gdal_read(lbl), truth)
    # asked for a detached x.cub: the pixels go there and the label to x.lbl
    lbl = write_cube(tmp_path / "x.cub", truth, pixel_type="Real", detached=True)
    assert lbl == tmp_path / "x.lbl" and (tmp_path / "x.cub").stat().st_size == 20 * 30 * 4
    np.testing.assert_array_equal(open_image(lbl).read(), truth)


def test_large_window_read_touches_only_needed_tiles(tmp_path):
    # A 20 GB sparse cube (hand-written label, independent of the writer): reading a window must only
    # touch its tiles; reading (or allocating) the whole band would take minutes and 20 GB of memory.
    lines = samples = 100_000
    label = (
        "Object = IsisCube\n  Object = Core\n    StartByte = 65537\n    Format = Tile\n"
        "    TileSamples = 1000\n    TileLines = 1000\n    Group = Dimensions\n"
        f"      Samples = {samples}\n      Lines = {lines}\n      Bands = 1\n    End_Group\n"
        "    Group = Pixels\n      Type = SignedWord\n      ByteOrder = Lsb\n      Base = 0.0\n"
        "      Multiplier = 1.0\n    End_Group\n  End_Object\nEnd_Object\nEnd\n"
    )
    path = tmp_path / "sparse.cub"
    with open(path, "wb") as f:
        f.write(label.encode().ljust(65536, b"\0"))
        f.truncate(65536 + lines * samples * 2)
        # one tile with known content: tile (line 50, sample 70) holds 7
        f.seek(65536 + (50 * 100 + 70) * 1000 * 1000 * 2)
        f.write(np.full(1000 * 1000, 7, "<i2").tobytes())
    with open_image(path) as img:
        win = img.read(((49_500, 51_500), (69_500, 71_500)))
    expected = np.zeros((2000, 2000), np.int16)
    expected[500:1500, 500:1500] = 7
    np.testing.assert_array_equal(win, expected)


def test_float_input_rounds_half_away_from_zero(tmp_path):
    # ISIS's writer rounds (value - Base) / Multiplier with C round(): halves away from zero
    data = np.array([[2.5, -2.5, 0.49, 1.5, -0.5, 7.0]])
    path = write_cube(tmp_path / "r.cub", data, pixel_type="SignedWord")
    np.testing.assert_array_equal(open_image(path).read_raw(), [[3, -3, 0, 2, -1, 7]])
    raw = np.array([[3, -3, 0, 2, -1, 7]])
    path = write_cube(tmp_path / "s.cub", raw * 0.1 + 5.0, pixel_type="SignedWord", base=5.0, multiplier=0.1)
    with open_image(path) as img:
        np.testing.assert_array_equal(img.read_raw(), raw)
        np.testing.assert_allclose(img.read(), raw * 0.1 + 5.0, rtol=1e-6)


@pytest.mark.parametrize("tile_size", [(7, 5), (1, 61), (64, 64), (45, 61)])
def test_random_windows_equal_slices_of_the_truth(tmp_path, rng, tile_size):
    truth = rng.normal(size=(2, *SHAPE)).astype(np.float32)
    path = write_cube(tmp_path / "w.cub", truth, pixel_type="Real", tile_size=tile_size, byte_order="Msb")
    with open_image(path) as img:
        for _ in range(40):
            l0, l1 = np.sort(rng.choice(SHAPE[0] + 1, 2, replace=False))
            s0, s1 = np.sort(rng.choice(SHAPE[1] + 1, 2, replace=False))
            band = int(rng.integers(1, 3))
            out = img.read(((l0, l1), (s0, s1)), band=band)
            np.testing.assert_array_equal(out.data, truth[band - 1, l0:l1, s0:s1])
            assert not out.mask.any()


def test_external_cube_dnfile(tmp_path, rng):
    # an .ecub names another cube's pixels with ^DnFile (hand-written label, as ISIS writes it)
    truth = rng.integers(-50, 50, (20, 30)).astype(np.int16)
    write_cube(tmp_path / "base.cub", truth, tile_size=8)
    ecub = tmp_path / "view.ecub"
    ecub.write_text(
        "Object = IsisCube\n  Object = Core\n    ^DnFile = base.cub\n  End_Object\n"
        "  Group = Instrument\n    TargetName = Mars\n  End_Group\nEnd_Object\nEnd\n"
    )
    with open_image(ecub) as img:
        assert img.shape == (20, 30) and img.label["IsisCube"]["Instrument"]["TargetName"] == "Mars"
        np.testing.assert_array_equal(img.read(((2, 19), (5, 29))), truth[2:19, 5:29])
    (tmp_path / "base.cub").unlink()
    with pytest.raises(ImageError, match=r"base\.cub named by \^DnFile does not exist"):
        open_image(ecub)
