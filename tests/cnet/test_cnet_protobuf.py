"""tiepoint's hand-rolled wire format against the official .proto definitions and the protobuf runtime.

Files written by tiepoint are decoded by the protobuf runtime (so a codec bug cannot hide behind a
symmetric reader), and point messages serialized by the runtime are decoded by tiepoint.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from cnet_proto import decode_file

from tiepoint import cnet
from tiepoint.cnet import isis
from tiepoint.cnet.schema import LOG_FIELDS, MEASURE_FIELDS, POINT_FIELDS, UNSET

# schema column -> field name in the official .proto (written from the .proto text, not the schema)
POINT_PROTO = {
    "id": "id",
    "type": "type",
    "chooser_name": "chooserName",
    "datetime": "datetime",
    "edit_lock": "editLock",
    "ignore": "ignore",
    "jigsaw_rejected": "jigsawRejected",
    "reference_index": "referenceIndex",
    "apriori_surf_source": "aprioriSurfPointSource",
    "apriori_surf_source_file": "aprioriSurfPointSourceFile",
    "apriori_radius_source": "aprioriRadiusSource",
    "apriori_radius_source_file": "aprioriRadiusSourceFile",
    "latitude_constrained": "latitudeConstrained",
    "longitude_constrained": "longitudeConstrained",
    "radius_constrained": "radiusConstrained",
    "apriori_x": "aprioriX",
    "apriori_y": "aprioriY",
    "apriori_z": "aprioriZ",
    "apriori_covar": "aprioriCovar",
    "adjusted_x": "adjustedX",
    "adjusted_y": "adjustedY",
    "adjusted_z": "adjustedZ",
    "adjusted_covar": "adjustedCovar",
}
MEASURE_PROTO = {
    "serial": "serialnumber",
    "type": "type",
    "sample": "sample",
    "line": "line",
    "sample_residual": "sampleResidual",
    "line_residual": "lineResidual",
    "chooser_name": "choosername",
    "datetime": "datetime",
    "edit_lock": "editLock",
    "ignore": "ignore",
    "jigsaw_rejected": "jigsawRejected",
    "diameter": "diameter",
    "apriori_sample": "apriorisample",
    "apriori_line": "aprioriline",
    "sample_sigma": "samplesigma",
    "line_sigma": "linesigma",
}
LOG_PROTO = {
    "double_type": "doubleDataType",
    "double_value": "doubleDataValue",
    "bool_type": "boolDataType",
    "bool_value": "boolDataValue",
}


def test_schema_numbers_match_the_official_proto(proto) -> None:
    point = proto["ControlPointFileEntryV0002"].DESCRIPTOR
    measure = point.fields_by_name["measures"].message_type
    log = measure.fields_by_name["log"].message_type
    for fields, desc, names in (
        (POINT_FIELDS, point, POINT_PROTO),
        (MEASURE_FIELDS, measure, MEASURE_PROTO),
        (LOG_FIELDS, log, LOG_PROTO),
    ):
        assert {f.name for f in fields} == set(names)
        for fld in fields:
            assert desc.fields_by_name[names[fld.name]].number == fld.number, fld.name
    assert point.fields_by_name["measures"].number == 25 and point.fields_by_name["log"].number == 24
    assert measure.fields_by_name["log"].number == 17


def _unset(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _check_logs(msg_logs, table, owner: int) -> None:
    rows = range(int(table.offsets[owner]), int(table.offsets[owner + 1]))
    assert len(msg_logs) == len(rows)
    for entry, row in zip(msg_logs, rows, strict=True):
        for name, pname in LOG_PROTO.items():
            value = getattr(table, name)[row]
            unset = np.isnan(value) if isinstance(value, np.floating) else value == UNSET
            assert entry.HasField(pname) == (not unset), (owner, name)
            if not unset:
                assert getattr(entry, pname) == (bool(value) if name == "bool_value" else value)


def assert_same(net: cnet.ControlNetwork, header, points) -> None:
    """Every field of *net* equals the runtime-decoded messages, absent exactly where unset."""
    assert header.networkId == net.header.network_id and header.targetName == net.header.target_name
    for name, pname in (
        ("created", "created"),
        ("last_modified", "lastModified"),
        ("description", "description"),
        ("user_name", "userName"),
    ):
        value = getattr(net.header, name)
        assert header.HasField(pname) == (value is not None)
        assert getattr(header, pname) == (value or "")
    assert len(points) == net.n_points
    for i, msg in enumerate(points):
        view = net.points[i]
        for name, pname in POINT_PROTO.items():
            value = getattr(view, name)
            if name.endswith("covar"):
                assert len(getattr(msg, pname)) == (0 if value is None else 6), (i, name)
                if value is not None:
                    assert list(getattr(msg, pname)) == list(value)
                continue
            assert msg.HasField(pname) == (not _unset(value)) or name in ("id", "type"), (i, name, value)
            if not _unset(value):
                got = getattr(msg, pname)
                assert got == (bool(value) if isinstance(got, bool) else value), (i, name)
        _check_logs(msg.log, net.point_logs, i)
        measures = view.measures
        assert len(msg.measures) == len(measures)
        for mmsg, mview in zip(msg.measures, measures, strict=True):
            for name, pname in MEASURE_PROTO.items():
                value = getattr(mview, name)
                assert mmsg.HasField(pname) == (not _unset(value)), (i, name, value)
                if not _unset(value):
                    got = getattr(mmsg, pname)
                    assert got == (bool(value) if isinstance(got, bool) else value), (i, name)
            _check_logs(mmsg.log, net.measure_logs, mview.index)


@pytest.mark.parametrize("version", [2, 5])
def test_runtime_decodes_what_tiepoint_writes(proto, tmp_path, version: int) -> None:
    net = cnet.random_network(6000, seed=version)
    assert len(net.point_logs) and len(net.measure_logs) and (net.measure_counts == 0).any()
    path = cnet.write(net, tmp_path / "sim.net", version=version)
    header, points = decode_file(path.read_bytes(), proto)
    assert_same(net, header, points)
    if version == 5:
        assert list(header.targetRadii) == list(net.header.target_radii)


def test_tiepoint_decodes_what_the_runtime_writes(proto, tmp_path) -> None:
    """Serialize each point with the runtime (from the runtime's own decode), read it with tiepoint."""
    net = cnet.random_network(3000, seed=11)
    data = isis.encode(net, 5)
    header, points = decode_file(data, proto)
    blob = b"".join(p.SerializeToString() for p in points)
    sizes = np.array([p.ByteSize() for p in points])
    from tiepoint.cnet.wire import as_buffer

    buf = as_buffer(blob)
    ends = np.cumsum(sizes)
    again = isis.decode_points(buf, ends - sizes, ends, net.header)
    assert again.differences(net) == []
    # and the bytes themselves: protobuf's serializer emits fields in number order, as tiepoint does
    ours = np.frombuffer(data, dtype=np.uint8)
    first = 65536 + header.ByteSize() + 4
    assert ours[first : first + sizes[0]].tobytes() == points[0].SerializeToString()


def test_fixtures_decode_the_same_with_the_runtime(proto, cnet_dir) -> None:
    for name in ("apollo_out_v2.net", "apollo_out_v5.net"):
        data = (cnet_dir / name).read_bytes()
        header, points = decode_file(data, proto)
        assert_same(cnet.read(cnet_dir / name), header, points)


def test_long_and_non_ascii_strings(proto, tmp_path) -> None:
    """Length varints of two bytes (strings of 128+ bytes) next to short ones, and UTF-8 text."""
    ids = ["a", "p" * 200, "ü-point", "q" * 127, "r" * 128]
    serials = ["S" * 300, "T", "Ünïcode/serial", "U" * 129, "V"]
    net = cnet.ControlNetwork.from_arrays(
        ids,
        [0, 1, 2, 3, 4],
        serials,
        [1.0] * 5,
        [2.0] * 5,
        measures={"chooser_name": ["x" * 140, None, "y", None, "z"]},
    )
    path = cnet.write(net, tmp_path / "s.net")
    _, points = decode_file(path.read_bytes(), proto)
    assert [p.id for p in points] == ids
    assert [p.measures[0].serialnumber for p in points] == serials
    assert [p.measures[0].choosername if p.measures[0].HasField("choosername") else None for p in points] == [
        "x" * 140,
        None,
        "y",
        None,
        "z",
    ]
    assert cnet.read(path).differences(net, header=False) == []


def test_unknown_fields_and_other_field_orders(proto) -> None:
    """Messages not in field order, or with unknown fields, decode as the protobuf runtime reads them."""
    from tiepoint.cnet.wire import as_buffer, tag_bytes

    net = cnet.random_network(2000, seed=7)
    _, points = decode_file(isis.encode(net, 5), proto)
    blobs = []
    for k, p in enumerate(points):
        raw = p.SerializeToString()
        if k % 3 == 0:  # an unknown varint field first
            raw = tag_bytes(30, 0) + bytes([0x96, 0x01]) + raw
        if k % 5 == 0:  # the type again at the end (legal; the last one counts)
            raw = raw + tag_bytes(2, 0) + bytes([p.type])
        parsed = proto["ControlPointFileEntryV0002"].FromString(raw)
        parsed.DiscardUnknownFields()
        assert parsed == p
        blobs.append(raw)
    sizes = np.array([len(b) for b in blobs])
    ends = np.cumsum(sizes)
    again = isis.decode_points(as_buffer(b"".join(blobs)), ends - sizes, ends, net.header)
    assert again.differences(net) == []


def test_unpacked_covariance_is_read(proto) -> None:
    """A repeated double may also come unpacked (six fixed64 fields); the runtime accepts both."""
    from tiepoint.cnet.wire import as_buffer, tag_bytes

    covar = [1.5, 2.0, 3.0, 4.0, 5.0, 6.25]
    raw = tag_bytes(1, 2) + bytes([1]) + b"p" + tag_bytes(2, 0) + bytes([3])
    raw += b"".join(tag_bytes(19, 1) + struct.pack("<d", v) for v in covar)
    assert list(proto["ControlPointFileEntryV0002"].FromString(raw).aprioriCovar) == covar
    net = isis.decode_points(as_buffer(raw), np.array([0]), np.array([len(raw)]), cnet.NetworkHeader())
    assert list(net.points.apriori_covar[0]) == covar and net.points.id[0] == "p"
    with pytest.raises(cnet.CnetError, match="apriori_covar has 5 values"):
        short = raw[:-10]  # drop the last (two-byte key + 8 bytes)
        isis.decode_points(as_buffer(short), np.array([0]), np.array([len(short)]), cnet.NetworkHeader())
