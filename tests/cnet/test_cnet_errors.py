"""Bad files give a CnetError naming the file (and the point where one is at fault)."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest

from tiepoint import cnet


@pytest.fixture
def v5_bytes(cnet_dir) -> bytes:
    return (cnet_dir / "apollo_out_v5.net").read_bytes()


@pytest.fixture
def v2_bytes(cnet_dir) -> bytes:
    return (cnet_dir / "apollo_out_v2.net").read_bytes()


def _read(tmp_path, data: bytes, match: str) -> cnet.CnetError:
    path = tmp_path / "bad.net"
    path.write_bytes(data)
    with pytest.raises(cnet.CnetError, match=match) as info:
        cnet.read(path)
    assert str(path) in str(info.value)
    return info.value


def _relabel(data: bytes, key: str, value: str) -> bytes:
    label = data[:65536]
    new = re.sub(rf"({key}\s*= )\S+".encode(), rb"\g<1>" + value.encode(), label, count=1)
    return new[:65536].ljust(65536, b"\0") + data[65536:]


@pytest.mark.parametrize("cut", [1, 100, 5000])
def test_truncated_files(tmp_path, v5_bytes, v2_bytes, cut: int) -> None:
    _read(tmp_path, v5_bytes[:-cut], "truncated")
    _read(tmp_path, v2_bytes[:-cut], "truncated")


def test_truncated_inside_the_label(tmp_path, v5_bytes) -> None:
    _read(tmp_path, v5_bytes[:300], "End")


def test_label_that_lies_about_sizes(tmp_path, v5_bytes, v2_bytes) -> None:
    _read(tmp_path, _relabel(v5_bytes, "PointsBytes", "189000"), "runs .* past the end|lies")
    _read(tmp_path, _relabel(v5_bytes, "PointsBytes", "999999"), "lies about sizes")
    _read(tmp_path, _relabel(v2_bytes, "PointsBytes", "187000"), "point sizes add up")
    _read(tmp_path, _relabel(v5_bytes, "HeaderBytes", "5000"), "malformed|truncated|wire type|point")
    _read(tmp_path, _relabel(v5_bytes, "HeaderBytes", "-3"), "not a byte count")


def test_unknown_versions(tmp_path, v5_bytes) -> None:
    for version in ("3", "1", "7"):
        _read(tmp_path, _relabel(v5_bytes, "Version", version), f"version {version} is not supported")


def test_garbage(tmp_path, v5_bytes) -> None:
    rng = np.random.default_rng(0)
    _read(tmp_path, rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes(), "not an ISIS control network")
    body = bytearray(v5_bytes)
    body[65536 + 88 + 4 : 65536 + 88 + 400] = rng.integers(0, 256, 396, dtype=np.uint8).tobytes()
    _read(tmp_path, bytes(body), r"point .*index 0|malformed")
    _read(tmp_path, b"Object = ProtoBuffer\nEnd\n", "ProtoBuffer/Core")


def test_a_point_without_its_required_id(tmp_path, v5_bytes) -> None:
    # rewrite the first point's id field (tag 0x0a) as an unknown field 15 of the same length
    data = bytearray(v5_bytes)
    start = 65536 + 88 + 4
    assert data[start] == 0x0A
    data[start] = (15 << 3) | 2
    _read(tmp_path, bytes(data), r"point .*index 0\) has no id")


def test_measure_errors_name_the_point(tmp_path, v5_bytes) -> None:
    data = bytearray(v5_bytes)
    # the second point: find its first measure (tag 0xca 0x01) and break that measure's serial tag
    (size0,) = struct.unpack_from("<I", data, 65536 + 88)
    p1 = 65536 + 88 + 4 + size0 + 4
    m = data.index(b"\xca\x01", p1)
    length_bytes = 1 if data[m + 2] < 0x80 else 2
    first = m + 2 + length_bytes
    assert data[first] == 0x0A  # serialnumber
    data[first] = (15 << 3) | 2
    _read(tmp_path, bytes(data), r"point 'AS15_000031213' \(index 1\) has no serial")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(cnet.CnetError, match="no such file"):
        cnet.read(tmp_path / "nope.net")


def test_pvl_errors(tmp_path) -> None:
    _read(tmp_path, b"Object = ControlNetwork\n  Version = 9\nEnd_Object\nEnd\n", "version 9")
    _read(
        tmp_path,
        b"Object = ControlNetwork\n Version = 5\n Object = ControlPoint\n PointType = Free\n PointId = a\n"
        b" Group = ControlMeasure\n SerialNumber = S\n MeasureType = Wrong\n End_Group\n"
        b" End_Object\nEnd_Object\nEnd\n",
        r"point 'a'.*MeasureType",
    )
    _read(
        tmp_path, b"Object = ControlNetwork\n Version = 5\n Object = ControlPoint\n", "truncated|ends inside"
    )
