"""ISIS serial numbers from cube labels."""

from __future__ import annotations

import re

import pytest

from tiepoint import cnet
from tiepoint.cnet.serial import serial_from_label
from tiepoint.errors import ImageError


def _keyword(path, key: str) -> str:
    head = path.read_bytes()[:65536].decode("latin-1")
    return re.search(rf"^\s*{key}\s*=\s*\"?([^\"\n]+?)\"?\s*$", head, re.M).group(1)


def test_apollo_metric_cubes(cube_dir, cnet_dir) -> None:
    for name in ("AS15-M-0297_crop.cub", "AS15-M-0299_crop.cub"):
        path = cube_dir / name
        assert cnet.serial_number(path) == "APOLLO15/METRIC/" + _keyword(path, "StartTime")
    # the fixture network uses the same form (its images are other frames of revolution 16 and later)
    fixture = cnet.read(cnet_dir / "apollo_out_v2.net").serials()
    pattern = re.compile(r"APOLLO15/METRIC/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")
    assert all(pattern.fullmatch(s) for s in fixture)
    assert cnet.serial_number(cube_dir / "AS15-M-0297_crop.cub") not in fixture


def test_hirise_cube(cube_dir) -> None:
    path = cube_dir / "HiRISE_no_change_before.cub"
    parts = [_keyword(path, k) for k in ("ObservationStartCount", "CcdId", "ChannelNumber")]
    assert cnet.serial_number(path) == "MRO/HIRISE/" + "/".join(parts)


def _label(instrument: str, extra: str = "") -> str:
    return f"Object = IsisCube\n  Group = Instrument\n{instrument}  End_Group\n{extra}End_Object\nEnd\n"


@pytest.mark.parametrize(
    ("instrument", "extra", "expected"),
    [
        (
            "    SpacecraftName = Mars_Reconnaissance_Orbiter\n    InstrumentId = CTX\n"
            "    SpacecraftClockCount = 0928283918:060\n",
            "",
            "MRO/CTX/0928283918:060",
        ),
        (
            '    SpacecraftName = "LUNAR RECONNAISSANCE ORBITER"\n    InstrumentId = NACL\n'
            '    SpacecraftClockStartCount = "1/296274302:13300"\n',
            "",
            "LRO/1/296274302:13300/NACL",
        ),
        (
            "    SpacecraftName = MARS_ODYSSEY\n    InstrumentId = THEMIS_IR\n"
            "    SpacecraftClockCount = 893644280.051\n",
            "",
            "Odyssey/THEMIS_IR/893644280.051",
        ),
        (
            "    SpacecraftName = KAGUYA\n    InstrumentId = MI-VIS\n"
            "    StartTime = 2008-08-20T18:20:57.148489\n",
            "",
            "KAGUYA/MI-VIS/2008-08-20T18:20:57.148489",
        ),
        (
            "    SpacecraftName = Mars_Reconnaissance_Orbiter\n    InstrumentId = CTX\n",
            "  Group = CsmInfo\n    CSMPlatformID = TestPlatform\n    CSMInstrumentId = TestInstrument\n"
            "    ReferenceTime = 20000101T120000.000000Z\n  End_Group\n",
            "TestPlatform/TestInstrument/20000101T120000.000000Z",
        ),
    ],
)
def test_mission_rules(instrument: str, extra: str, expected: str) -> None:
    assert serial_from_label(_label(instrument, extra), "stem") == expected


def test_fallback_to_the_file_stem(tmp_path) -> None:
    # unknown mission, missing clock count, non-ISIS file
    assert serial_from_label(_label("    SpacecraftName = Nope\n    InstrumentId = X\n"), "stem") == "stem"
    assert (
        serial_from_label(
            _label("    SpacecraftName = Mars_Reconnaissance_Orbiter\n    InstrumentId = CTX\n"), "s"
        )
        == "s"
    )
    png = tmp_path / "image.v2.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert cnet.serial_number(png) == "image.v2"
    with pytest.raises(ImageError, match="no such file"):
        cnet.serial_number(tmp_path / "missing.cub")
