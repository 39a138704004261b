"""The official ISIS .proto definitions (tests/cnet/data, verbatim from CONTROL_NETWORKS.md §2.3),
compiled at test time with grpcio-tools' bundled protoc and loaded through the protobuf runtime.

This is the independent decoder the codec tests check tiepoint's hand-rolled wire format against.
``ControlPointFileEntryV0005`` is the V0002 body under another message name (as ISIS ships it); it
is derived here from the V0002 text rather than stored.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
PROTOS = (
    "ControlNetFileHeaderV0002.proto",
    "ControlNetFileHeaderV0005.proto",
    "ControlPointFileEntryV0002.proto",
)


@cache
def messages(tmp_dir: str) -> dict[str, type]:
    """Message classes by name: the two headers and ControlPointFileEntryV0002/V0005."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from grpc_tools import protoc

    src = Path(tmp_dir) / "protos"
    src.mkdir(parents=True, exist_ok=True)
    for name in PROTOS:
        (src / name).write_text((DATA / name).read_text())
    v2 = (DATA / "ControlPointFileEntryV0002.proto").read_text()
    (src / "ControlPointFileEntryV0005.proto").write_text(
        v2.replace("ControlPointFileEntryV0002", "ControlPointFileEntryV0005")
    )
    out = Path(tmp_dir) / "isis.pb"
    files = sorted(p.name for p in src.glob("*.proto"))
    rc = protoc.main(["protoc", f"-I{src}", f"--descriptor_set_out={out}", *files])
    if rc != 0:
        raise RuntimeError(f"protoc failed with {rc}")
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
        pool.Add(f)
    names = (
        "ControlNetFileHeaderV0002",
        "ControlNetFileHeaderV0005",
        "ControlPointFileEntryV0002",
        "ControlPointFileEntryV0005",
    )
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"Isis.{n}")) for n in names}


def label_numbers(data: bytes) -> dict[str, int]:
    """HeaderStartByte, HeaderBytes, PointsStartByte, PointsBytes and Version from a file's label."""
    import re

    text = data[: data.index(b"\0")].decode()
    keys = ("HeaderStartByte", "HeaderBytes", "PointsStartByte", "PointsBytes", "Version")
    return {k: int(re.search(rf"{k}\s*=\s*(\d+)", text).group(1)) for k in keys}


def decode_file(data: bytes, msgs: dict[str, type]) -> tuple[object, list[object]]:
    """(header message, point messages) of a binary network, decoded with the protobuf runtime."""
    lab = label_numbers(data)
    h0, hn = lab["HeaderStartByte"], lab["HeaderBytes"]
    version = lab["Version"]
    header = msgs[f"ControlNetFileHeaderV000{version}"].FromString(data[h0 : h0 + hn])
    point_cls = msgs["ControlPointFileEntryV0002"]
    pos, end = h0 + hn, h0 + hn + lab["PointsBytes"]
    points = []
    if version == 2:
        for size in header.pointMessageSizes:
            points.append(point_cls.FromString(data[pos : pos + size]))
            pos += size
    else:
        while pos < end:
            (size,) = struct.unpack_from("<I", data, pos)
            points.append(point_cls.FromString(data[pos + 4 : pos + 4 + size]))
            pos += 4 + size
    assert pos == end == len(data)
    return header, points
