"""ISIS3 binary control networks (protobuf versions 2 and 5): read and write.

File layout (CONTROL_NETWORKS.md §2): a PVL label NUL-padded to 65,536 bytes
(``Object = ProtoBuffer`` with ``Core {HeaderStartByte, HeaderBytes, PointsStartByte, PointsBytes}``
and an informational ``ControlNetworkInfo`` group), the header message at ``HeaderStartByte``, then
the points: version 2 writes the ``ControlPointFileEntryV0002`` messages back to back with their
sizes in the header's packed ``pointMessageSizes``; version 5 puts a little-endian uint32 size
before each message. Like ISIS, the reader takes the points from ``HeaderStartByte + HeaderBytes``.

Everything is vectorized (:mod:`tiepoint.cnet.wire`): points are split into fields in lockstep,
then all their measures, then all measure logs, in batches of about :data:`CHUNK_BYTES` so that a
batch stays in the CPU cache; writing encodes :data:`CHUNK_POINTS` points at a time. The only
per-point Python loop is walking the version-5 size prefixes, which form a chain.
"""

from __future__ import annotations

import itertools
import os
import re
import struct
from pathlib import Path

import numpy as np

from tiepoint.atomic import write_atomically
from tiepoint.cnet import pvl_text
from tiepoint.cnet.model import CnetError, ControlNetwork, LogTable, NetworkHeader, Strings, _csr_take, concat
from tiepoint.cnet.schema import (
    HEADER_FIELDS,
    LOG_FIELDS,
    MEASURE_FIELDS,
    MEASURE_LOG_NUMBER,
    MEASURES_NUMBER,
    OBSOLETE_POINT_TYPES,
    POINT_FIELDS,
    POINT_LOG_NUMBER,
    UNSET,
    V2_POINT_SIZES_NUMBER,
    V5_TARGET_RADII_NUMBER,
    Field,
    empty_column,
)
from tiepoint.cnet.wire import (
    PAD,
    FieldRows,
    Rows,
    TagRows,
    by_message,
    categorize,
    check_messages,
    decode_strings,
    encode_varint,
    gather_f64,
    gather_f64_runs,
    interleave,
    read_varints,
    scan_ordered,
    tag_bytes,
    varint_matrix,
)
from tiepoint.io import pvl_fast
from tiepoint.io.pvl_fast import FastPVLError

LABEL_BYTES = 65536
"""Size of the NUL-padded PVL label; the header starts here."""
VERSIONS = (2, 5)
"""Binary versions this module reads and writes."""
CHUNK_POINTS = 32768
"""Points encoded per batch when writing (bounds the memory of the slot matrices)."""

_LABEL_START = re.compile(
    rb"\A(?:\s|/\*.*?\*/|#[^\n]*\n)*Object\s*=\s*(ProtoBuffer|ControlNetwork)\b", re.I | re.S
)


# -- reading ----------------------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """``"binary"``, ``"pvl"`` or None from a file's first bytes."""
    m = _LABEL_START.match(head)
    if m is None:
        return None
    return "binary" if m.group(1).lower() == b"protobuffer" else "pvl"


def _load(path: Path) -> tuple[np.ndarray, int]:
    """(the whole file in an aligned uint8 array followed by at least :data:`PAD` zero bytes, its size)."""
    size = path.stat().st_size
    buf = np.zeros((size + PAD + 7) // 8, dtype=np.uint64).view(np.uint8)  # 8-byte aligned
    with open(path, "rb") as f:
        got = f.readinto(memoryview(buf)[:size])
    if got != size:
        raise CnetError(f"read {got} of {size} bytes", path)
    return buf, size


def _label(buf: np.ndarray, size: int, path: Path) -> dict:
    head = buf[: min(size, LABEL_BYTES)].tobytes()
    nul = head.find(b"\0")
    text = head[: nul if nul >= 0 else len(head)].decode("latin-1")
    m = re.search(r"^\s*End\s*$", text, re.M | re.I)
    if m is None:
        raise CnetError("the PVL label has no 'End' line (truncated or not an ISIS control network)", path)
    try:
        label = pvl_fast.loads(text[: m.end()])
    except (FastPVLError, ValueError, TypeError):
        import pvl

        try:
            label = pvl.loads(text[: m.end()])
        except Exception as exc:  # pvl raises several parser error types
            raise CnetError(f"the label is not valid PVL: {exc}", path) from None
    try:
        proto = label["ProtoBuffer"]
        core = proto["Core"]
    except (KeyError, TypeError):
        raise CnetError("the label has no ProtoBuffer/Core object", path) from None
    info = proto.get("ControlNetworkInfo", {})
    version = info.get("Version", 1)
    if version not in VERSIONS:
        raise CnetError(f"control network version {version!r} is not supported (only {VERSIONS})", path)
    out = {"version": version, "info": info}
    for key in ("HeaderStartByte", "HeaderBytes", "PointsBytes"):
        value = core.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CnetError(f"the label's Core/{key} is {value!r}, not a byte count", path)
        out[key] = value
    return out


def _header(data: bytes, version: int, path: Path) -> tuple[NetworkHeader, np.ndarray | None]:
    """Decode the (small) header message: (header, V2 point message sizes or None)."""
    fields: dict[int, list[tuple[int, object]]] = {}
    pos, n = 0, len(data)

    def varint() -> int:
        nonlocal pos
        shift = value = 0
        while True:
            if pos >= n or shift > 63:
                raise CnetError("the header message is truncated or malformed", path)
            b = data[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7

    while pos < n:
        key = varint()
        number, wt = key >> 3, key & 7
        if wt == 0:
            value: object = varint()
        elif wt == 1:
            if pos + 8 > n:
                raise CnetError("the header message is truncated", path)
            value = struct.unpack_from("<d", data, pos)[0]
            pos += 8
        elif wt == 2:
            length = varint()
            if pos + length > n:
                raise CnetError("the header message is truncated (a field runs past HeaderBytes)", path)
            value = data[pos : pos + length]
            pos += length
        elif wt == 5:
            pos += 4
            value = None
        else:
            raise CnetError(f"the header message has an invalid wire type {wt} (garbage?)", path)
        fields.setdefault(number, []).append((wt, value))

    def text(number: int) -> str | None:
        entries = [v for wt, v in fields.get(number, []) if wt == 2]
        if not entries:
            return None
        raw = bytes(entries[-1])  # type: ignore[arg-type]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    values = {name: text(number) for name, number in HEADER_FIELDS.items()}
    for required in ("network_id", "target_name"):
        if values[required] is None:
            raise CnetError(f"the header message has no {required} (required)", path)
    sizes = None
    radii = None
    if version == 2:
        packed = b"".join(bytes(v) for wt, v in fields.get(V2_POINT_SIZES_NUMBER, []) if wt == 2)  # type: ignore[arg-type]
        plain = [int(v) for wt, v in fields.get(V2_POINT_SIZES_NUMBER, []) if wt == 0]  # type: ignore[arg-type]
        sizes = _packed_varints(packed, path)
        if plain:
            sizes = np.concatenate([sizes, np.array(plain, dtype=np.int64)])
    else:
        found = [float(v) for wt, v in fields.get(V5_TARGET_RADII_NUMBER, []) if wt == 1]  # type: ignore[arg-type]
        packed = [bytes(v) for wt, v in fields.get(V5_TARGET_RADII_NUMBER, []) if wt == 2]  # type: ignore[arg-type]
        for raw in packed:
            found.extend(np.frombuffer(raw, dtype="<f8").tolist())
        radii = tuple(found) if found else None
    return NetworkHeader(**values, target_radii=radii), sizes


def _packed_varints(data: bytes, path: Path) -> np.ndarray:
    if not data:
        return np.zeros(0, dtype=np.int64)
    arr = np.frombuffer(data + b"\0" * 16, dtype=np.uint8)
    ends = np.flatnonzero(arr[: len(data)] < 0x80)
    if not ends.size or ends[-1] != len(data) - 1:
        raise CnetError("the header's pointMessageSizes are malformed", path)
    starts = np.concatenate(([0], ends[:-1] + 1))
    values, _ = read_varints(arr, starts)
    sizes = values.astype(np.int64)
    if (sizes < 0).any() or (values > np.uint64(2**31)).any():
        raise CnetError("the header's pointMessageSizes hold negative or huge sizes", path)
    return sizes


def _v5_starts(buf: np.ndarray, begin: int, end: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Walk the chain of uint32 size prefixes: (message starts, message ends)."""
    raw = memoryview(buf)
    unpack = struct.Struct("<I").unpack_from
    starts: list[int] = []
    pos = begin
    while pos < end:  # one step per point: the prefixes form a chain
        if pos + 4 > end:
            raise CnetError(
                f"point {len(starts)}: its size prefix runs past the end of the points "
                f"(PointsBytes in the label, or the file, is too short)",
                path,
            )
        size = unpack(raw, pos)[0]
        starts.append(pos + 4)
        pos += 4 + size
    if pos != end:
        raise CnetError(
            f"point {len(starts) - 1} runs {pos - end} bytes past the end of the points region "
            f"(truncated file, or a label that lies about PointsBytes)",
            path,
        )
    s = np.array(starts, dtype=np.int64)
    e = np.empty_like(s)
    e[:-1] = s[1:] - 4
    if s.size:
        e[-1] = end
    return s, e


def read(path: str | os.PathLike[str]) -> ControlNetwork:
    """Read an ISIS3 control network: binary version 2 or 5, or the PVL text format.

    Raises
    ------
    CnetError
        Naming the file (and the point, where one is at fault) for a truncated file, a label
        whose sizes do not match the file, an unknown version, or bytes that are not a network.
    """
    path = Path(path)
    if not path.is_file():
        raise CnetError("no such file", path)
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = sniff(head)
    if kind == "pvl":
        from tiepoint.cnet import pvl_format

        return pvl_format.read(path)
    if kind is None:
        raise CnetError(
            "not an ISIS control network (no 'Object = ProtoBuffer' or 'ControlNetwork' label)", path
        )
    buf, size = _load(path)
    label = _label(buf, size, path)
    h0, hn = label["HeaderStartByte"], label["HeaderBytes"]
    if h0 + hn > size:
        raise CnetError(
            f"the label puts the header at bytes {h0}..{h0 + hn} but the file has {size} bytes (truncated?)",
            path,
        )
    header, sizes = _header(buf[h0 : h0 + hn].tobytes(), label["version"], path)
    p0 = h0 + hn
    p1 = p0 + label["PointsBytes"]
    if p1 > size:
        raise CnetError(
            f"the label says the points are {label['PointsBytes']} bytes from byte {p0}, but the file ends "
            f"at {size} (truncated file, or a label that lies about sizes)",
            path,
        )
    if label["version"] == 2:
        assert sizes is not None
        if int(sizes.sum()) != p1 - p0:
            raise CnetError(
                f"the header's {sizes.size} point sizes add up to {int(sizes.sum())} bytes but the label "
                f"says PointsBytes = {p1 - p0}",
                path,
            )
        ends = p0 + np.cumsum(sizes)
        starts = ends - sizes
    else:
        starts, ends = _v5_starts(buf, p0, p1, path)
    return decode_points(buf, starts, ends, header, str(path))


def _fill(kind: str, n: int, buf: np.ndarray, msg: np.ndarray, start: np.ndarray, value: np.ndarray):
    """One column of *n* messages from the rows of one field."""
    if kind == "double":
        col = empty_column(kind, n)
        col[msg] = gather_f64(buf, start)
        return col
    if kind in ("enum", "int"):
        col = empty_column(kind, n)
        col[msg] = value.astype(np.int64)
        return col
    if kind == "flag":
        col = empty_column(kind, n)
        col[msg] = value != 0
        return col
    if kind == "str":
        codes = np.full(n, UNSET, dtype=np.int32)
        c, values = categorize(buf, start, value.astype(np.int64))
        codes[msg] = c
        return Strings(codes, values)
    if kind == "id":
        col = empty_column(kind, n)
        col[msg] = decode_strings(buf, start, value.astype(np.int64))
        return col
    raise AssertionError(kind)


_WIRE = {"double": 1, "enum": 0, "int": 0, "flag": 0, "str": 2, "id": 2, "covar": 2}
_POINT_SCHEMA = [(f.number, _WIRE[f.kind], False) for f in POINT_FIELDS] + [
    (POINT_LOG_NUMBER, 2, True),
    (MEASURES_NUMBER, 2, True),
]
_MEASURE_SCHEMA = [(f.number, _WIRE[f.kind], False) for f in MEASURE_FIELDS] + [(MEASURE_LOG_NUMBER, 2, True)]
_LOG_SCHEMA = [(f.number, _WIRE[f.kind], False) for f in LOG_FIELDS]


def _columns(
    rows: FieldRows | TagRows,
    fields: tuple[Field, ...],
    n: int,
    buf: np.ndarray,
    what: str,
    path: str,
    ids=None,
    first=0,
    owner=None,
):
    """Columns of *fields* for *n* messages.

    Errors name point ``ids[owner[i]]`` (``owner``: the point of each message; None: the message is
    the point) and its index in the file, ``first + owner[i]``.
    """
    cols = {}
    for fld in fields:
        msg, start, value = rows.get(fld.number, _WIRE[fld.kind])
        if not getattr(rows, "ordered", False) and msg.size:  # a field given twice: the last counts
            order = np.argsort(msg, kind="stable")
            ms = msg[order]
            last = order[np.append(ms[1:] != ms[:-1], True)]
            if last.size != msg.size:
                msg, start, value = msg[last], start[last], value[last]
        if fld.kind == "covar":
            col = empty_column("covar", n)
            bad = value != 48
            if bad.any():
                i = int(msg[np.argmax(bad)])
                i = int(owner[i]) if owner is not None else i
                who = f" {ids[i]!r}" if ids is not None else ""
                count = int(value[np.argmax(bad)]) // 8
                raise CnetError(
                    f"{what}{who} (index {first + i}): {fld.name} has {count} values, not 6", path
                )
            col[msg] = gather_f64_runs(buf, start, 6)
            umsg, ustart, _ = rows.get(fld.number, 1)  # unpacked: six separate doubles (also legal)
            if umsg.size:
                umsg, ustart = by_message(umsg, ustart)
                owners, counts = np.unique(umsg, return_counts=True)
                if (counts != 6).any():
                    i = int(owners[np.argmax(counts != 6)])
                    i = int(owner[i]) if owner is not None else i
                    who = f" {ids[i]!r}" if ids is not None else ""
                    count = int(counts[np.argmax(counts != 6)])
                    raise CnetError(
                        f"{what}{who} (index {first + i}): {fld.name} has {count} values, not 6", path
                    )
                col[owners] = gather_f64(buf, ustart).reshape(-1, 6)
            cols[fld.name] = col
            continue
        cols[fld.name] = _fill(fld.kind, n, buf, msg, start, value)
        if fld.required and msg.size != n and not np.isin(np.arange(n), msg).all():
            i = int(np.argmin(np.isin(np.arange(n), msg)))
            i = int(owner[i]) if owner is not None else i
            who = f" {ids[i]!r}" if ids is not None and ids[i] else ""
            raise CnetError(f"{what}{who} (index {first + i}) has no {fld.name} (a required field)", path)
    return cols


def _logs(
    rows: FieldRows | TagRows, number: int, n_owners: int, buf: np.ndarray, what: str, path: str
) -> LogTable:
    msg, start, length = rows.get(number, 2)
    if not msg.size:
        return LogTable.empty(n_owners)
    msg, start, length = by_message(msg, start, length.astype(np.int64))
    n = msg.shape[0]
    cols = _numeric_logs(buf, start, length)
    if cols is None:
        log_rows, bad = scan_ordered(buf, start, start + length, _LOG_SCHEMA)
        check_messages(bad, f"a log entry of a {what}", path)
        cols = _columns(log_rows, LOG_FIELDS, n, buf, "log entry", path)
    offsets = np.zeros(n_owners + 1, dtype=np.int64)
    np.cumsum(np.bincount(msg, minlength=n_owners), out=offsets[1:])
    return LogTable(offsets, *(cols[f.name] for f in LOG_FIELDS))


_LOG_TYPE_TAG, _LOG_VALUE_TAG = (1 << 3) | 0, (2 << 3) | 1


def _numeric_logs(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> dict[str, np.ndarray] | None:
    """Fast path for log entries that are all ``doubleDataType`` (one-byte varint) then
    ``doubleDataValue``, the 11-byte layout ISIS writes; None if any entry differs."""
    if not start.size or (length != 11).any():
        return None
    if (
        (buf.take(start) != _LOG_TYPE_TAG).any()
        or (buf.take(start + 1) >= 0x80).any()
        or (buf.take(start + 2) != _LOG_VALUE_TAG).any()
    ):
        return None
    n = start.shape[0]
    cols = {f.name: empty_column(f.kind, n) for f in LOG_FIELDS}
    cols["double_type"] = buf.take(start + 1).astype(np.int32)
    cols["double_value"] = gather_f64(buf, start + 3)
    return cols


CHUNK_BYTES = 1 << 22
"""Points are decoded in batches of about this many bytes, so that each batch stays in cache."""


def decode_points(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, header: NetworkHeader, path: str = ""
) -> ControlNetwork:
    """Decode ``ControlPointFileEntryV0002`` messages ``buf[starts[i]:ends[i]]`` into a network.

    *buf* comes from :func:`tiepoint.cnet.wire.as_buffer` (aligned, zero-padded). Messages are
    decoded in batches of about :data:`CHUNK_BYTES` and the batches concatenated.
    """
    n = starts.shape[0]
    if not n:
        return _decode_chunk(buf, starts, ends, header, path, 0)
    cut = np.searchsorted(
        starts, starts[0] + np.arange(1, (ends[-1] - starts[0]) // CHUNK_BYTES + 2) * CHUNK_BYTES
    )
    bounds = np.unique(np.concatenate(([0], cut, [n])))
    parts = [
        _decode_chunk(buf, starts[i:j], ends[i:j], header, path, int(i))
        for i, j in itertools.pairwise(bounds)
        if j > i
    ]
    return parts[0] if len(parts) == 1 else concat(parts, header)


def _decode_chunk(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, header: NetworkHeader, path: str, first: int
) -> ControlNetwork:
    n_points = starts.shape[0]
    rows, bad = scan_ordered(buf, starts, ends, _POINT_SCHEMA)
    if bad is not None:
        check_messages(bad + first, "point", path)
    id_msg, id_start, id_len = rows.get(1, 2)
    ids = empty_column("id", n_points)
    ids[id_msg] = decode_strings(buf, id_start, id_len.astype(np.int64))
    points = _columns(rows, POINT_FIELDS, n_points, buf, "point", path, ids, first)
    ptype = points["type"]
    for old, new in OBSOLETE_POINT_TYPES.items():
        ptype[ptype == old] = new
    ref = points["reference_index"]
    if (ref < UNSET).any():
        i = int(np.argmax(ref < UNSET))
        raise CnetError(f"point {ids[i]!r} (index {first + i}) has a negative reference index", path)

    m_msg, m_start, m_len = rows.get(MEASURES_NUMBER, 2)
    m_msg, m_start, m_len = by_message(m_msg, m_start, m_len.astype(np.int64))
    n_measures = m_msg.shape[0]
    offsets = np.zeros(n_points + 1, dtype=np.int64)
    np.cumsum(np.bincount(m_msg, minlength=n_points), out=offsets[1:])
    mrows, bad = scan_ordered(buf, m_start, m_start + m_len, _MEASURE_SCHEMA)
    if bad is not None:
        i = int(m_msg[bad.min()])
        raise CnetError(f"a measure of point {ids[i]!r} (index {first + i}) is malformed", path)
    measures = _columns(mrows, MEASURE_FIELDS, n_measures, buf, "a measure of point", path, ids, first, m_msg)
    point_logs = _logs(rows, POINT_LOG_NUMBER, n_points, buf, "point", path)
    measure_logs = _logs(mrows, MEASURE_LOG_NUMBER, n_measures, buf, "measure", path)
    return ControlNetwork(header, points, measures, offsets, point_logs, measure_logs)


# -- writing ----------------------------------------------------------------------------------------------


def _add_logs(rows: Rows, logs: LogTable, owners: np.ndarray, number: int) -> None:
    """Add each owner's log entries to *rows* as repeated sub-messages *number*: one slot per rank
    (an owner's first entry, its second, ...), so that an owner's entries stay in order."""
    counts = (logs.offsets[1:] - logs.offsets[:-1])[owners]
    if not counts.any():
        return
    entry_idx, _ = _csr_take(logs.offsets, owners)
    entries = Rows(entry_idx.shape[0])
    entries.add_varint(1, logs.double_type[entry_idx], logs.double_type[entry_idx] != UNSET)
    entries.add_double(2, logs.double_value[entry_idx])
    entries.add_varint(3, logs.bool_type[entry_idx], logs.bool_type[entry_idx] != UNSET)
    entries.add_varint(4, logs.bool_value[entry_idx], logs.bool_value[entry_idx] != UNSET)
    body, sizes = entries.pack()
    offs = np.concatenate(([0], np.cumsum(sizes)))
    mat = _ranges(body, offs[:-1], sizes, int(sizes.max()))
    first = np.concatenate(([0], np.cumsum(counts)))[:-1]  # each owner's first entry
    for rank in range(int(counts.max())):
        present = counts > rank
        entry = np.where(present, first + rank, 0)
        rows.add_messages(number, mat.take(entry, axis=0), np.where(present, sizes.take(entry), 0), present)


def _ranges(stream: np.ndarray, start: np.ndarray, length: np.ndarray, width: int) -> np.ndarray:
    """``stream[start[i]:start[i]+length[i]]`` left-aligned in a (n, width) matrix."""
    n = start.shape[0]
    if width == 0 or n == 0:
        return np.zeros((n, width), dtype=np.uint8)
    padded = np.concatenate([stream, np.zeros(width, dtype=np.uint8)])
    mat = padded.take(start[:, None] + np.arange(width))
    mat[np.arange(width) >= length[:, None]] = 0
    return mat


def _field_rows(rows: Rows, cols: dict, fields: tuple[Field, ...], index: np.ndarray) -> None:
    for fld in fields:
        col = cols[fld.name]
        if fld.kind in ("str", "id"):
            if fld.kind == "id":
                rows.add_string(fld.number, np.arange(index.shape[0], dtype=np.int32), col[index])
            else:
                rows.add_string(fld.number, col.codes[index], col.values)
        elif fld.kind == "double":
            rows.add_double(fld.number, col[index])
        elif fld.kind == "covar":
            rows.add_packed_doubles(fld.number, col[index])
        else:
            values = col[index]
            present = values != UNSET if not fld.required else np.ones(index.shape[0], dtype=bool)
            rows.add_varint(fld.number, values, present)


def _encode_chunk(net: ControlNetwork, p0: int, p1: int, version: int) -> tuple[np.ndarray, np.ndarray]:
    """Points p0..p1 as file bytes (V5: with size prefixes) and each point's message size."""
    pidx = np.arange(p0, p1, dtype=np.int64)
    m0, m1 = int(net.point_offsets[p0]), int(net.point_offsets[p1])
    midx = np.arange(m0, m1, dtype=np.int64)
    n_p, n_m = pidx.shape[0], midx.shape[0]

    body = Rows(n_m)
    _field_rows(body, net._measures, MEASURE_FIELDS, midx)
    if len(net.measure_logs):
        _add_logs(body, net.measure_logs, midx, MEASURE_LOG_NUMBER)
    msize = body.size()
    head = Rows(n_m)
    vmat, vsize = varint_matrix(msize)
    head.add_prefix(tag_bytes(MEASURES_NUMBER, 2), vmat, vsize, np.ones(n_m, dtype=bool))
    mrow_size = msize + head.size()

    prow = Rows(n_p)
    _field_rows(prow, net._points, POINT_FIELDS, pidx)
    if len(net.point_logs):
        _add_logs(prow, net.point_logs, pidx, POINT_LOG_NUMBER)
    counts = (net.point_offsets[1:] - net.point_offsets[:-1])[pidx]
    csum = np.concatenate(([0], np.cumsum(mrow_size)))
    first = np.concatenate(([0], np.cumsum(counts)))
    psize = prow.size() + (csum[first[1:]] - csum[first[:-1]])
    point_parts = [prow]
    if version == 5:
        prefix = Rows(n_p)
        prefix.add_bytes(psize.astype("<u4").view(np.uint8).reshape(-1, 4), np.full(n_p, 4))
        point_parts = [prefix, prow]
    # row order in the file: each point, then its measures
    point_row = np.arange(n_p) + first[:-1]
    measure_row = np.arange(n_m) + np.repeat(np.arange(n_p), counts) + 1
    data = interleave([(point_row, point_parts), (measure_row, [head, body])], n_p + n_m)
    return data, psize


def _header_message(header: NetworkHeader, version: int, sizes: np.ndarray | None) -> bytes:
    out = bytearray()
    for name, number in HEADER_FIELDS.items():
        value = getattr(header, name)
        if value is None and name in ("network_id", "target_name"):
            value = ""
        if value is None:
            continue
        raw = value.encode("utf-8")
        out += tag_bytes(number, 2) + encode_varint(len(raw)) + raw
    if version == 2 and sizes is not None and sizes.size:
        mat, size = varint_matrix(sizes)
        packed = mat[np.arange(mat.shape[1])[None, :] < size[:, None]].tobytes()
        out += tag_bytes(V2_POINT_SIZES_NUMBER, 2) + encode_varint(len(packed)) + packed
    if version == 5 and header.target_radii:
        for r in header.target_radii:
            out += tag_bytes(V5_TARGET_RADII_NUMBER, 1) + struct.pack("<d", float(r))
    return bytes(out)


def label_text(net: ControlNetwork, version: int, header_bytes: int, points_bytes: int) -> str:
    """The PVL label ISIS writes (``Object = ProtoBuffer``), ending with ``End`` and a newline."""
    h = net.header
    start = LABEL_BYTES
    core = pvl_text.keywords(
        [
            ("HeaderStartByte", str(start)),
            ("HeaderBytes", str(header_bytes)),
            ("PointsStartByte", str(start + header_bytes)),
            ("PointsBytes", str(points_bytes)),
        ],
        4,
    )
    info = [
        ("NetworkId", pvl_text.quote(h.network_id or "")),
        ("TargetName", pvl_text.quote(h.target_name or "")),
    ]
    if h.target_radii and version == 5:
        info.append(
            ("TargetRadii", "(" + ", ".join(pvl_text.number(r) for r in h.target_radii) + ") <meters>")
        )
    info += [
        ("UserName", pvl_text.quote(h.user_name or "")),
        ("Created", pvl_text.quote(h.created or "")),
        ("LastModified", pvl_text.quote(h.last_modified or "")),
        ("Description", pvl_text.quote(h.description or "")),
        ("NumberOfPoints", str(net.n_points)),
        ("NumberOfMeasures", str(net.n_measures)),
        ("Version", str(version)),
    ]
    lines = [
        "Object = ProtoBuffer",
        *pvl_text.block("Object", "Core", core, 2),
        "",
        "  # This group is for informational purposes only",
        *pvl_text.block("Group", "ControlNetworkInfo", pvl_text.keywords(info, 4), 2),
        "End_Object",
        "End",
    ]
    return "\n".join(lines) + "\n"


def encode(net: ControlNetwork, version: int = 5, path: str | None = None) -> bytes:
    """The complete file content of *net* as binary version *version* (2 or 5)."""
    return b"".join(encode_parts(net, version, path))


def encode_parts(net: ControlNetwork, version: int = 5, path: str | None = None) -> list:
    """The file content of *net* as consecutive buffers (label, header, point batches)."""
    if version not in VERSIONS:
        raise CnetError(f"cannot write control network version {version!r}; choose one of {VERSIONS}", path)
    net.validate(path)
    chunks, sizes = [], []
    for p0 in range(0, net.n_points, CHUNK_POINTS):
        data, psize = _encode_chunk(net, p0, min(net.n_points, p0 + CHUNK_POINTS), version)
        chunks.append(data)
        sizes.append(psize)
    point_sizes = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
    if (point_sizes >= 2**32).any():
        raise CnetError("a point message is 4 GiB or larger", path)
    header = _header_message(net.header, version, point_sizes if version == 2 else None)
    points_bytes = int(sum(c.shape[0] for c in chunks))
    label = label_text(net, version, len(header), points_bytes).encode("utf-8")
    if len(label) >= LABEL_BYTES:
        raise CnetError(f"the label is {len(label)} bytes; ISIS needs it under {LABEL_BYTES}", path)
    return [label, b"\0" * (LABEL_BYTES - len(label)), header, *chunks]


def write(net: ControlNetwork, path: str | os.PathLike[str], version: int = 5, format: str = "isis") -> Path:
    """Write *net* to *path*: binary ISIS (``format="isis"``, version 5 or 2) or PVL text (``"pvl"``).

    The file is written to a temporary file and renamed, so a failed write leaves no partial file.

    Raises
    ------
    CnetError
        If the network fails :meth:`ControlNetwork.validate` (reference index outside its measures,
        a measure without serial number, ...), the label would reach 65,536 bytes, or the version or
        format is unknown.
    """
    path = Path(path)
    if format == "pvl":
        from tiepoint.cnet import pvl_format

        write_atomically(path, pvl_format.encode(net, path=str(path)))
    elif format == "isis":
        write_atomically(path, encode_parts(net, version, str(path)))
    else:
        raise CnetError(f"unknown control network format {format!r}; choose 'isis' or 'pvl'", path)
    return path
