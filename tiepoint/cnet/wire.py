"""Vectorized protobuf wire format: decode and encode many messages at once with numpy.

No protobuf runtime and no generated code: the wire format (varints, fixed64 doubles,
length-delimited strings and sub-messages, packed repeated fields) is simple enough to do by hand,
and doing it for all messages together is what makes large networks fast.

Decoding (:func:`scan`) walks all messages in lockstep: each numpy step reads the next field of
every message that has one left, so the number of steps is the largest field count of one message,
not the number of messages. The result is one row per field occurrence, grouped by tag.

Encoding (:class:`Rows`) lays every message out as a row of fixed-width slots, one per field (a
field's slot is as wide as its widest value in the batch), fills the slots column-wise with a mask
of the bytes that are real, and compresses the row-major matrix with the mask: the concatenated
messages come out in order, in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiepoint.cnet.model import CnetError

PAD = 64
"""Zero bytes every decoded buffer must have after its data (reads never check the end)."""

_BIG = np.int64(1) << 50  # "length" of a field with an invalid wire type: it always overruns
_WT_FIXLEN = np.array([0, 8, 0, _BIG, _BIG, 4, _BIG, _BIG], dtype=np.int64)
_WT_VARLIKE = np.array([1, 0, 1, 0, 0, 0, 0, 0], dtype=np.int64)
_WT_ISLEN = np.array([0, 0, 1, 0, 0, 0, 0, 0], dtype=np.int64)
_TAGS = np.arange(1 << 14)  # every one- and two-byte key
_FIXLEN = _WT_FIXLEN[_TAGS & 7]
_VARLIKE = _WT_VARLIKE[_TAGS & 7]
_ISLEN = _WT_ISLEN[_TAGS & 7]
_OTHER_TAG = 255  # keys of field numbers above 31 are grouped under this (never a known field)
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def as_buffer(data: bytes | bytearray | memoryview) -> np.ndarray:
    """A decodable copy of *data*: uint8, 8-byte aligned, followed by at least :data:`PAD` zeros."""
    n = len(data)
    words = np.zeros((n + PAD + 7) // 8, dtype=np.uint64)
    buf = words.view(np.uint8)
    buf[:n] = np.frombuffer(data, dtype=np.uint8)
    return buf


def _words(buf: np.ndarray) -> np.ndarray:
    return buf[: buf.shape[0] // 8 * 8].view("<u8")


def load_u64(words: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The 8 bytes at each (unaligned) byte offset, as little-endian uint64 (two aligned loads)."""
    q = start >> 3
    r = (start & 7).astype(np.uint64) << np.uint64(3)
    return (words.take(q) >> r) | (words.take(q + 1) << (np.uint64(64) - r))


def read_varints(buf: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode one varint at each position; return (values as uint64, positions after them).

    Raises
    ------
    ValueError
        If a varint is longer than 10 bytes.
    """
    b = buf[pos]
    val = (b & 0x7F).astype(np.uint64)
    more = np.flatnonzero(b & 0x80)
    if not more.size:
        return val, pos + 1
    nbytes = np.ones(pos.shape[0], dtype=np.int64)
    shift = np.uint64(7)
    while more.size:
        if shift > 63:
            raise ValueError("a varint is longer than 10 bytes")
        b = buf[pos[more] + nbytes[more]]
        val[more] |= (b & 0x7F).astype(np.uint64) << shift
        nbytes[more] += 1
        more = more[(b & 0x80) != 0]
        shift += np.uint64(7)
    return val, pos + nbytes


@dataclass(slots=True)
class FieldRows:
    """Every field occurrence of a batch of messages, grouped by key (field number and wire type).

    Per row: ``msg`` the message index, ``start`` the payload's byte offset, ``value`` the varint
    value (wire type 0) or the payload length (wire type 2). Within one key, rows are in the order
    they were met per message (so repeated fields keep their order).
    """

    msg: np.ndarray
    start: np.ndarray
    value: np.ndarray
    order: np.ndarray
    bounds: np.ndarray

    def get(self, number: int, wire_type: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(msg, start, value) of field *number* with *wire_type*."""
        tag = (number << 3) | wire_type
        if tag >= _OTHER_TAG:
            raise ValueError(f"field number {number} is above 31")
        rows = self.order[self.bounds[tag] : self.bounds[tag + 1]]
        return self.msg.take(rows), self.start.take(rows), self.value.take(rows)


def scan(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[FieldRows, np.ndarray | None]:
    """Split messages ``buf[starts[i]:ends[i]]`` into their fields, all messages at once.

    Returns
    -------
    rows : FieldRows
    bad : ndarray or None
        None if every message parsed; otherwise the indices of messages that are malformed (a
        field running past the message end, an invalid wire type or an over-long varint).
    """
    idt = np.int32 if buf.shape[0] < 2**30 else np.int64  # offsets: smaller is faster
    fixlen, islen = _FIXLEN.astype(idt), _ISLEN.astype(idt)
    if idt is np.int32:
        fixlen = np.minimum(_FIXLEN, 2**30).astype(np.int32)
    varlike = _VARLIKE.astype(idt)
    varmask = (_VARLIKE * 0x80).astype(np.uint8)
    pos = np.asarray(starts).astype(idt)
    end = np.asarray(ends).astype(idt)
    live = np.flatnonzero(pos < end)
    msg, pos, end = live, pos[live], end[live]  # msg stays intp: scatters with it are faster
    out_msg, out_tag, out_start, out_val = [], [], [], []
    bad: list[np.ndarray] = []
    while msg.size:
        b = buf.take(pos)  # take: much faster than fancy indexing
        tag = b.astype(idt)
        pos += 1
        if b.max() >= 0x80:  # two-byte keys (fields 16..2047); longer ones are rare and slow
            h = np.flatnonzero(b >= 0x80)
            b2 = buf[pos[h]].astype(idt)
            tag[h] = (tag[h] & 0x7F) | (b2 << 7)
            pos[h] += 1
            longer = b2 >= 0x80
            if longer.any():
                hl = h[longer]
                try:
                    v, after = read_varints(buf, pos[hl] - 2)
                except ValueError:
                    bad.append(msg[hl])
                    v, after = np.zeros(hl.size, np.uint64), end[hl] + 1
                wt = (v & np.uint64(7)).astype(np.int64)
                tag[hl] = np.where(_WT_FIXLEN[wt] == _BIG, 1 << 13 | 3, (_OTHER_TAG & ~7) | wt)
                pos[hl] = after
        c = buf.take(pos)
        val = c.astype(np.int64)
        lenval = c.astype(idt)
        slow = np.flatnonzero(c & varmask.take(tag))
        pos += varlike.take(tag)
        if slow.size:
            try:
                v, after = read_varints(buf, pos[slow] - 1)
            except ValueError:
                bad.append(msg[slow])
                v, after = np.zeros(slow.size, np.uint64), end[slow] + 1
            pos[slow] = after
            val[slow] = v.view(np.int64)
            cap = np.uint64(np.iinfo(idt).max // 2)
            lenval[slow] = np.where(v > cap, cap, v).astype(idt)
        nxt = pos + fixlen.take(tag)
        nxt += islen.take(tag) * lenval
        if (nxt > end).any() or (nxt < pos).any():
            bad.append(msg[(nxt > end) | (nxt < pos)])
        out_msg.append(msg)
        out_tag.append(tag)
        out_start.append(pos)
        out_val.append(val)
        live = nxt < end
        msg, pos, end = msg[live], nxt[live], end[live]
    if not out_msg:
        rows = _empty_rows()
    else:
        tag = np.concatenate(out_tag)
        key = np.where(tag < _OTHER_TAG, tag, _OTHER_TAG).astype(np.uint8)
        order = np.argsort(key, kind="stable")  # radix sort on one byte
        bounds = np.zeros(257, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=256), out=bounds[1:])
        rows = FieldRows(
            np.concatenate(out_msg), np.concatenate(out_start), np.concatenate(out_val), order, bounds
        )
    return rows, (np.unique(np.concatenate(bad)) if bad else None)


class TagRows:
    """Field rows by key, as :func:`scan_ordered` builds them; same ``get`` as :class:`FieldRows`."""

    __slots__ = ("ordered", "rows")

    def __init__(self, rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]], ordered: bool) -> None:
        self.rows = rows
        self.ordered = ordered
        """True: every message was read in field order (so no field occurs twice in one message)."""

    def get(self, number: int, wire_type: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(msg, start, value) of field *number* with *wire_type*."""
        found = self.rows.get((number << 3) | wire_type)
        if found is None:
            e = np.empty(0, dtype=np.int64)
            return e, e, e
        return found


def _varint_at(buf: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(values int64, positions after, rows whose varint is malformed or None); one-byte fast path."""
    c = buf.take(pos)
    val = c.astype(np.int64)
    after = pos + 1
    slow = np.flatnonzero(c >= 0x80)
    if not slow.size:
        return val, after, None
    try:
        v, after[slow] = read_varints(buf, pos[slow])
    except ValueError:
        bad = slow
        return val, after, bad
    val[slow] = v.view(np.int64)
    return val, after, None


def scan_ordered(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, schema: Sequence[tuple[int, int, bool]]
) -> tuple[TagRows, np.ndarray | None]:
    """Like :func:`scan`, one schema field at a time, for messages written in field-number order.

    *schema* lists (field number, wire type, repeated) in ascending number. Every serializer
    (ISIS's protobuf C++, the Python runtime, tiepoint) writes fields in that order, so one pass per
    known field reads them all, only the messages that have the field do any work, and the rows
    come out grouped by field without sorting. Messages that are not fully read this way (unknown
    fields, another order, duplicated fields, garbage) are handed to :func:`scan`, whose rows
    replace theirs, so the result is the same as :func:`scan`'s.
    """
    n = starts.shape[0]
    pos = np.asarray(starts, dtype=np.int64).copy()
    end = np.asarray(ends, dtype=np.int64)
    live = np.flatnonzero(pos < end)
    broken = np.zeros(n, dtype=bool)
    out: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for number, wt, repeated in schema:
        tag = (number << 3) | wt
        key = tag_bytes(number, wt)
        cand = live
        while cand.size:
            p = pos.take(cand)
            idx = np.flatnonzero(buf.take(p) == key[0])
            if len(key) > 1 and idx.size:
                idx = idx[buf.take(p.take(idx) + 1) == key[1]]
            if idx.size:
                idx = idx[p.take(idx) < end.take(cand.take(idx))]  # finished messages cannot match
            if not idx.size:
                break
            h = cand.take(idx)
            ph = p.take(idx) + len(key)
            e = end.take(h)
            if wt == 1:
                payload, val = ph, np.zeros(h.shape[0], dtype=np.int64)
                nxt = ph + 8
            else:
                val, payload, bad = _varint_at(buf, ph)
                if bad is not None:
                    broken[h[bad]] = True
                nxt = payload + val if wt == 2 else payload
            over = (nxt > e) | (nxt < payload)
            if over.any():
                broken[h[over]] = True
                ok = ~over
                h, payload, val, nxt = h[ok], payload[ok], val[ok], nxt[ok]
            out.setdefault(tag, []).append((h, payload, val))
            pos[h] = nxt
            if not repeated:
                break
            cand = h[nxt < end.take(h)]
        if live.size > 1024:
            still = pos.take(live) < end.take(live)
            if not still.all():
                live = live[still]
    rows = {
        tag: tuple(np.concatenate(col) for col in zip(*parts, strict=True)) if len(parts) > 1 else parts[0]
        for tag, parts in out.items()
    }
    redo = np.flatnonzero((pos != end) | broken)
    if not redo.size:
        return TagRows(rows, True), None  # type: ignore[arg-type]
    again, bad = scan(buf, starts[redo], ends[redo])
    drop = np.zeros(n, dtype=bool)
    drop[redo] = True
    merged: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for tag, (m, st, v) in rows.items():
        keep = ~drop.take(m)
        merged[tag] = (m[keep], st[keep], v[keep])
    for tag in np.flatnonzero(np.diff(again.bounds[:256])):
        m, st, v = again.get(int(tag) >> 3, int(tag) & 7)
        m = redo.take(m)
        if int(tag) in merged:
            pm, pst, pv = merged[int(tag)]
            merged[int(tag)] = (np.concatenate([pm, m]), np.concatenate([pst, st]), np.concatenate([pv, v]))
        else:
            merged[int(tag)] = (m, st, v)
    return TagRows(merged, False), (None if bad is None else redo.take(bad))


def _empty_rows() -> FieldRows:
    e = np.empty(0, dtype=np.int64)
    return FieldRows(e.astype(np.int32), e, e, e, np.zeros(257, dtype=np.int64))


def by_message(msg: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Reorder rows of a repeated field so that each message's rows are together, in file order."""
    order = np.argsort(msg, kind="stable")
    return (msg[order], *(a[order] for a in arrays))


def gather_f64(buf: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Little-endian doubles at byte offsets *start* (*buf* from :func:`as_buffer`)."""
    return load_u64(_words(buf), start).view(np.float64)


def gather_f64_runs(buf: np.ndarray, start: np.ndarray, count: int) -> np.ndarray:
    """*count* consecutive little-endian doubles at each offset: shape (len(start), count)."""
    words = _words(buf)
    out = np.empty((start.shape[0], count), dtype=np.uint64)
    for k in range(count):
        out[:, k] = load_u64(words, start + 8 * k)
    return out.view(np.float64)


def _string_words(buf: np.ndarray, start: np.ndarray, length: np.ndarray, nwords: int) -> np.ndarray:
    """Each string's bytes as *nwords* little-endian words, zero past its length."""
    words = _words(buf)
    out = np.empty((start.shape[0], nwords), dtype=np.uint64)
    last = words.shape[0] * 8 - 16  # short strings beside long ones: keep their unused loads inside
    for j in range(nwords):
        valid = np.clip(length - 8 * j, 0, 8)
        out[:, j] = load_u64(words, np.minimum(start + 8 * j, last)) & _BYTE_MASKS[valid]
    return out


def _decode_one(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # ISIS writes Latin-1 (QString::toLatin1)
        return raw.decode("latin-1")


def decode_strings(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The strings ``buf[start:start+length]`` as an object array of str (vectorized for ASCII)."""
    n = start.shape[0]
    if not n:
        return np.empty(0, dtype=object)
    width = int(length.max())
    if 0 < width <= 256:
        nwords = -(-width // 8)
        w = _string_words(buf, start, length, nwords)
        ascii_ = not (w & np.uint64(0x8080808080808080)).any()
        last = buf.take(np.maximum(start + length - 1, 0))
        if ascii_ and not ((last == 0) & (length > 0)).any():
            return (
                w.view(np.uint8)
                .reshape(n, 8 * nwords)
                .view(f"S{8 * nwords}")
                .reshape(-1)
                .astype(f"U{width}")
                .astype(object)
            )
    if width == 0:
        return np.full(n, "", dtype=object)
    out = np.empty(n, dtype=object)
    for i in range(n):  # non-ASCII, NUL-terminated or very long strings only
        s, e = int(start[i]), int(start[i] + length[i])
        out[i] = _decode_one(buf[s:e].tobytes())
    return out


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def categorize(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct strings among ``buf[start:start+length]``: (codes int32, values object array).

    Strings are read as 8-byte words and hashed; rows are grouped by hash through a hash table
    built with numpy, and every row is compared word by word with its group's first row, so a hash
    collision can never merge two different strings (colliding rows are grouped again exactly).
    """
    n = start.shape[0]
    if not n:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=object)
    maxlen = int(length.max())
    nwords = max(1, -(-maxlen // 8))
    if nwords > 64:
        return _categorize_exact(decode_strings(buf, start, length))
    words = _string_words(buf, start, length, nwords)
    h = length.astype(np.uint64) * _M1
    with np.errstate(over="ignore"):
        for j in range(nwords):
            h = (h ^ words[:, j]) * _M2
            h ^= h >> np.uint64(29)
    bits = max(10, min(24, int(np.ceil(np.log2(2 * n)))))
    slot = (h >> np.uint64(64 - bits)).astype(np.int64)
    first = np.full(1 << bits, n, dtype=np.int64)
    np.minimum.at(first, slot, np.arange(n, dtype=np.int64))
    rep = first[slot]
    same = (h == h[rep]) & (length == length[rep])
    for j in range(nwords):
        same &= words[:, j] == words[rep, j]
    if not same.all():  # rare: two strings in one slot; group the others exactly
        other = np.flatnonzero(~same)
        strs = decode_strings(buf, start[other], length[other]).astype(str)
        _, first_of = np.unique(strs, return_index=True)
        key_rows = {s: int(other[i]) for s, i in zip(strs[first_of], first_of, strict=True)}
        rep = rep.copy()
        rep[other] = [key_rows[s] for s in strs]
    is_rep = rep == np.arange(n)
    reps = np.flatnonzero(is_rep)
    codes = (np.cumsum(is_rep, dtype=np.int32) - 1)[rep]
    values = decode_strings(buf, start[reps], length[reps])
    return codes, values


def _categorize_exact(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(strings.astype(str), return_inverse=True)
    return inv.astype(np.int32), uniq.astype(object)


# -- encoding ---------------------------------------------------------------------------------------------


def varint_size(values: np.ndarray) -> np.ndarray:
    """Encoded length (1..10) of each unsigned 64-bit value."""
    v = np.asarray(values).astype(np.uint64)
    size = np.ones(v.shape, dtype=np.int64)
    for k in range(1, 10):
        size += v >= np.uint64(1) << np.uint64(7 * k)
    return size


def varint_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varint bytes of each value, left-aligned in a (n, width) matrix, and their lengths.

    Negative int32/int64 values are encoded as protobuf does (two's complement, 10 bytes).
    """
    v = np.asarray(values).astype(np.int64).astype(np.uint64)
    size = varint_size(v)
    width = int(size.max()) if size.size else 1
    mat = np.zeros((v.shape[0], width), dtype=np.uint8)
    for k in range(width):
        byte = ((v >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        byte |= np.where(size > k + 1, 0x80, 0).astype(np.uint8)
        mat[:, k] = np.where(size > k, byte, 0)
    return mat, size


def tag_bytes(number: int, wire_type: int) -> bytes:
    """The encoded key of a field."""
    key = (number << 3) | wire_type
    out = bytearray()
    while True:
        if key < 0x80:
            out.append(key)
            return bytes(out)
        out.append((key & 0x7F) | 0x80)
        key >>= 7


def encode_varint(value: int) -> bytes:
    """One varint (negative values as protobuf encodes int32/int64)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        if value < 0x80:
            out.append(value)
            return bytes(out)
        out.append((value & 0x7F) | 0x80)
        value >>= 7


def encode_strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of distinct strings, left-aligned in a (k, width) matrix, and their lengths."""
    k = values.shape[0]
    if not k:
        return np.zeros((0, 1), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    try:
        s = values.astype(str).astype("S")  # ASCII fast path
        width = max(1, s.dtype.itemsize)
        mat = (
            np.frombuffer(s.tobytes(), dtype=np.uint8).reshape(k, s.dtype.itemsize)
            if s.dtype.itemsize
            else None
        )
        lengths = np.char.str_len(values.astype(str)).astype(np.int64)
        if mat is None:
            mat = np.zeros((k, 1), dtype=np.uint8)
        return mat.copy(), lengths
    except UnicodeEncodeError:
        pass
    raws = [str(v).encode("utf-8") for v in values]
    lengths = np.array([len(r) for r in raws], dtype=np.int64)
    width = max(1, int(lengths.max()))
    mat = np.zeros((k, width), dtype=np.uint8)
    for i, r in enumerate(raws):
        mat[i, : len(r)] = np.frombuffer(r, dtype=np.uint8)
    return mat, lengths


class Rows:
    """Build *n* messages at once as rows of slots (see the module docstring).

    Add slots in field order, then :meth:`pack` (one byte stream) or :func:`interleave` them with
    other rows. Each ``add_*`` takes a ``present`` mask: rows where it is false get nothing for
    that field (the field is absent from the message). A slot is a constant prefix (the field key
    and, for fixed-size payloads, their length) and a payload matrix; nothing is copied until the
    slots are written into the final matrix.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._slots: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (prefix, body, lengths)

    def size(self) -> np.ndarray:
        """Encoded size of each row so far."""
        total = np.zeros(self.n, dtype=np.int64)
        for _, _, lens in self._slots:
            total += lens
        return total

    @property
    def width(self) -> int:
        """Width of the slot matrix (sum of the slots' widths)."""
        return sum(p.size + b.shape[1] for p, b, _ in self._slots)

    def add_bytes(self, mat: np.ndarray, lengths: np.ndarray) -> None:
        """A slot of raw bytes: row i gets ``mat[i, :lengths[i]]``."""
        self._slots.append((_EMPTY, np.asarray(mat, dtype=np.uint8), np.asarray(lengths, dtype=np.int64)))

    def add_prefix(self, prefix: bytes, mat: np.ndarray, lengths: np.ndarray, present: np.ndarray) -> None:
        """A slot of a constant prefix followed by ``mat[i, :lengths[i]]`` where *present*."""
        p = np.frombuffer(prefix, dtype=np.uint8)
        self._slots.append((p, np.asarray(mat, dtype=np.uint8), np.where(present, p.size + lengths, 0)))

    def add_double(self, number: int, values: np.ndarray) -> None:
        """An optional double field; NaN rows are left out."""
        present = ~np.isnan(values)
        if not present.any():
            return
        body = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(-1, 8)
        self.add_prefix(tag_bytes(number, 1), body, np.full(self.n, 8), present)

    def add_varint(self, number: int, values: np.ndarray, present: np.ndarray) -> None:
        """An optional varint field (enum, int32, bool)."""
        if not present.any():
            return
        mat, size = varint_matrix(np.where(present, values, 0))
        self.add_prefix(tag_bytes(number, 0), mat, size, present)

    def add_string(self, number: int, codes: np.ndarray, values: np.ndarray) -> None:
        """An optional string field from a categorical column (codes -1: absent)."""
        present = codes >= 0
        if not present.any():
            return
        enc, lengths = encode_strings(values)
        lmat, lsize = varint_matrix(lengths)
        # per distinct value: length varint then bytes, contiguous (the varint may be shorter than its slot)
        table = np.zeros((values.shape[0], lmat.shape[1] + enc.shape[1]), dtype=np.uint8)
        table[:, : lmat.shape[1]] = lmat  # zero past each varint's length
        cols = np.arange(table.shape[1])
        src = cols[None, :] - lsize[:, None]
        body = (src >= 0) & (src < lengths[:, None])
        table[body] = enc[np.nonzero(body)[0], src[body]]
        safe = np.maximum(codes, 0)
        self.add_prefix(tag_bytes(number, 2), table.take(safe, axis=0), (lsize + lengths).take(safe), present)

    def add_packed_doubles(self, number: int, values: np.ndarray) -> None:
        """A packed repeated double field (rows with any NaN are left out)."""
        present = ~np.isnan(values).any(axis=1)
        if not present.any():
            return
        body = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(self.n, -1)
        prefix = tag_bytes(number, 2) + encode_varint(body.shape[1])
        self.add_prefix(prefix, body, np.full(self.n, body.shape[1]), present)

    def add_messages(self, number: int, body: np.ndarray, lengths: np.ndarray, present: np.ndarray) -> None:
        """A length-delimited sub-message slot (``body[i, :lengths[i]]``, already encoded)."""
        if not present.any():
            return
        lmat, lsize = varint_matrix(lengths)
        width = lmat.shape[1] + body.shape[1]
        mat = np.zeros((self.n, width), dtype=np.uint8)
        mat[:, : lmat.shape[1]] = lmat
        if int(lsize.min()) == int(lsize.max()):
            mat[:, int(lsize[0]) : int(lsize[0]) + body.shape[1]] = body
        else:  # shift each body left up to the end of its length varint
            cols = np.arange(width)
            src = cols[None, :] - lsize[:, None]
            inside = (src >= 0) & (src < body.shape[1])
            r, c = np.nonzero(inside)
            mat[r, c] = body[r, src[r, c]]
        self.add_prefix(tag_bytes(number, 2), mat, lsize + lengths, present)

    def fill(self, mat: np.ndarray, mask: np.ndarray, rows: np.ndarray | slice, col: int = 0) -> int:
        """Write the slots into ``mat[rows, col:]``, their real bytes into *mask*; return the end column."""
        for prefix, body, lens in self._slots:
            p, w = prefix.size, body.shape[1]
            if p:
                mat[rows, col : col + p] = prefix
            mat[rows, col + p : col + p + w] = body
            if isinstance(rows, slice):  # write the comparison straight into the mask's view
                np.less(_ARANGE[: p + w], lens[:, None], out=mask[rows, col : col + p + w])
            else:
                mask[rows, col : col + p + w] = _ARANGE[: p + w] < lens[:, None]
            col += p + w
        return col

    def pack(self) -> tuple[np.ndarray, np.ndarray]:
        """(concatenated messages as one uint8 array, size of each message)."""
        mat = np.empty((self.n, self.width), dtype=np.uint8)
        mask = np.empty((self.n, self.width), dtype=bool)
        self.fill(mat, mask, slice(None))
        return mat[mask], self.size()


_EMPTY = np.zeros(0, dtype=np.uint8)
_ARANGE = np.arange(1 << 16)


def interleave(parts: list[tuple[np.ndarray, list[Rows]]], n_rows: int) -> np.ndarray:
    """One byte stream from several kinds of rows: each part is (row numbers, its Rows in column order).

    Rows are written in row-number order; each row's real bytes are where its mask is true.
    """
    widths = [sum(r.width for r in rows) for _, rows in parts]
    mat = np.empty((n_rows, max(widths, default=0)), dtype=np.uint8)
    mask = np.zeros(mat.shape, dtype=bool)
    for (index, rows), width in zip(parts, widths, strict=True):
        # fill each kind contiguously (strided copies), then move whole rows into place
        part = np.empty((index.shape[0], width), dtype=np.uint8)
        part_mask = np.empty(part.shape, dtype=bool)
        col = 0
        for r in rows:
            col = r.fill(part, part_mask, slice(None), col)
        mat[index, :width] = part
        mask[index, :width] = part_mask
    return mat[mask]


def check_messages(bad: np.ndarray | None, what: str, path: str, ids: np.ndarray | None = None) -> None:
    """Raise :class:`CnetError` for the first malformed message of a :func:`scan`."""
    if bad is None or not bad.size:
        return
    i = int(bad.min())
    name = f" {ids[i]!r}" if ids is not None and i < len(ids) and ids[i] else ""
    raise CnetError(
        f"{what}{name} (index {i}) is malformed: a field runs past its end or has a bad wire type", path
    )
