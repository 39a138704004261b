"""Polygon and CSMState blobs written and read back, attached and detached."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from tiepoint.io import open_image, write_cube

POLY = shapely.MultiPolygon(
    [shapely.Polygon([(10.123456789012, -5.5), (11.25, -5.5), (11.25, -4.0), (10.123456789012, -4.0)])]
)
STATE = {"m_modelName": "USGS_ASTRO_LINE_SCANNER_SENSOR_MODEL", "m_nLines": 20, "m_focalLength": 352.9271664}


@pytest.mark.parametrize("detached", [False, True])
@pytest.mark.parametrize("with_name_line", [True, False])
def test_polygon_and_csm_state_round_trip(tmp_path, detached, with_name_line):
    state = json.dumps(STATE)
    blob = f"{STATE['m_modelName']}\n{state}" if with_name_line else state
    path = write_cube(
        tmp_path / ("c.lbl" if detached else "c.cub"),
        np.ones((20, 30), np.float32),
        pixel_type="Real",
        polygon=POLY,
        csm_state=blob,
        detached=detached,
    )
    with open_image(path) as img:
        assert img.blobs == [("Polygon", "Footprint"), ("String", "CSMState")]
        assert img.footprint_blob().equals_exact(POLY, 0.0)  # full precision
        assert json.loads(img.csm_state()) == STATE
        meta = next(v for k, v in img.label.items() if k == "String")
        assert meta["ModelName"] == STATE["m_modelName"]
        np.testing.assert_array_equal(img.read(), 1.0)  # blobs do not overlap the pixels
    if detached:  # ISIS names detached blob files <stem>.<Type>.<Name>
        assert shapely.from_wkt((tmp_path / "c.Polygon.Footprint").read_text()).equals_exact(POLY, 0.0)
        assert json.loads((tmp_path / "c.String.CSMState").read_text().split("\n")[-1]) == STATE


def test_no_blobs(tmp_path):
    path = write_cube(tmp_path / "n.cub", np.zeros((4, 4), np.uint8), pixel_type="UnsignedByte")
    with open_image(path) as img:
        assert img.blobs == []
        assert img.footprint_blob() is None
        assert img.csm_state() is None


def test_large_label_extra_grows_the_label(tmp_path):
    extra = {f"Group{i}": {f"Key{j}": "x" * 60 for j in range(40)} for i in range(25)}  # ~70 KB of label
    data = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = write_cube(tmp_path / "big.cub", data, polygon=POLY, label_extra=extra)
    with open_image(path) as img:
        assert img.label["Label"]["Bytes"] % 65536 == 0 and img.label["Label"]["Bytes"] > 65536
        assert img.label["IsisCube"]["Group24"]["Key39"] == "x" * 60
        np.testing.assert_array_equal(img.read(), data)
        assert img.footprint_blob().equals(POLY)


@pytest.mark.parametrize("byte_order", ["Lsb", "Msb"])
@pytest.mark.parametrize("detached", [False, True])
def test_tables_round_trip(tmp_path, rng, byte_order, detached):
    dtype = np.dtype([("Name", "S12"), ("Id", "<i4"), ("Xyz", "<f8", (3,)), ("Dn", "<f4")])
    records = np.zeros(7, dtype)
    records["Name"] = [b"alpha", b"b", b"twelve chars", b"", b"x y", b"NUL\0end", b"z"]
    records["Id"] = rng.integers(-(2**31), 2**31 - 1, 7)
    records["Xyz"] = rng.normal(size=(7, 3)) * 1e6
    records["Dn"] = rng.normal(size=7)
    tables = {"Stats": records, "HiRISE Calibration Image": records[:2]}
    path = write_cube(
        tmp_path / ("t.lbl" if detached else "t.cub"),
        np.zeros((3, 4), np.int16),
        byte_order=byte_order,
        tables=tables,
        detached=detached,
    )
    with open_image(path) as img:
        assert img.blobs == [("Table", "Stats"), ("Table", "HiRISE Calibration Image")]
        obj = next(v for k, v in img.label.items() if k == "Table")
        assert obj["ByteOrder"] == byte_order and obj["Records"] == 7
        # the Field groups ISIS expects: Text size in bytes, numeric size in values
        assert [(f["Name"], f["Type"], f["Size"]) for f in obj.getall("Field")] == [
            ("Name", "Text", 12),
            ("Id", "Integer", 1),
            ("Xyz", "Double", 3),
            ("Dn", "Real", 1),
        ]
        back = img.table("Stats")
        assert back.dtype.names == dtype.names
        for name in dtype.names:
            np.testing.assert_array_equal(back[name], records[name])
        np.testing.assert_array_equal(img.table("HiRISE Calibration Image")["Xyz"], records["Xyz"][:2])
        np.testing.assert_array_equal(img.read(), 0)


def test_table_with_unsupported_field(tmp_path):
    bad = np.zeros(2, [("Flag", "?")])
    with pytest.raises(ValueError, match="field 'Flag' of dtype bool has no ISIS type"):
        write_cube(tmp_path / "t.cub", np.zeros((2, 2), np.int16), tables={"T": bad})
