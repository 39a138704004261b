"""ASP .match files: layout checked with struct, naming, pairs from a network."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest

from tiepoint import cnet


def test_layout_and_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(1)
    x1, y1, x2, y2 = (rng.uniform(0, 5000, 7) for _ in range(4))
    path = cnet.write_match(tmp_path / "run-a__b.match", x1, y1, x2, y2)
    raw = path.read_bytes()
    assert len(raw) == 16 + 2 * 7 * 45
    assert struct.unpack_from("<QQ", raw, 0) == (7, 7)
    for k in (0, 6):  # record k of image 1, and of image 2, decoded by hand
        for off, xs, ys in ((16 + 45 * k, x1, y1), (16 + 45 * (7 + k), x2, y2)):
            fields = struct.unpack_from("<ffiifffBIIQ", raw, off)
            x, y, ix, iy = fields[:4]
            assert (x, y) == (np.float32(xs[k]), np.float32(ys[k]))
            assert (ix, iy) == (round(x), round(y))
            assert fields[4:] == (0.0, 1.0, 0.0, 0, 0, 0, 0)  # orientation, scale, interest, ..., ndesc
    back = cnet.read_match(path)
    np.testing.assert_array_equal(back.x1, x1.astype(np.float32))
    np.testing.assert_array_equal(back.y2, y2.astype(np.float32))


def test_reads_records_with_descriptors(tmp_path) -> None:
    def rec(x: float, y: float, nd: int) -> bytes:
        return struct.pack("<ffiifffBIIQ", x, y, 0, 0, 0, 1, 0, 0, 0, 0, nd) + struct.pack(
            f"<{nd}f", *range(nd)
        )

    data = struct.pack("<QQ", 2, 2) + rec(1, 2, 3) + rec(3, 4, 0) + rec(5, 6, 2) + rec(7, 8, 0)
    (tmp_path / "d.match").write_bytes(data)
    m = cnet.read_match(tmp_path / "d.match")
    assert list(m.x1) == [1, 3] and list(m.y2) == [6, 8]


def test_bad_match_files(tmp_path) -> None:
    (tmp_path / "a.match").write_bytes(struct.pack("<QQ", 3, 2))
    with pytest.raises(cnet.CnetError, match="different lengths"):
        cnet.read_match(tmp_path / "a.match")
    (tmp_path / "b.match").write_bytes(struct.pack("<QQ", 3, 3) + b"\0" * 100)
    with pytest.raises(cnet.CnetError, match="truncated"):
        cnet.read_match(tmp_path / "b.match")
    with pytest.raises(cnet.CnetError, match="same length"):
        cnet.write_match(tmp_path / "c.match", [1], [1, 2], [1], [1])


def test_file_names_as_asp() -> None:
    assert cnet.match_path("out/run", "/d/A.cal.cub", "/d/B.cub").as_posix() == "out/run-A.cal__B.match"
    long = "x" * 80 + ".cub"
    assert cnet.match_path("run", long, "b.cub").name == f"run-{'x' * 60}__b.match"


def test_network_pairs_against_a_direct_enumeration(tmp_path) -> None:
    net = cnet.random_network(3000, seed=5, n_images=6)
    order = net.serials()[::-1]
    paths = {s: f"/data/img{k}.cub" for k, s in enumerate(order)}
    written = cnet.write_network_matches(net, tmp_path / "run", paths)
    expected: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    image = {s: k for k, s in enumerate(order)}
    for p in net.points:
        if p.ignore == 1:
            continue
        ms = [m for m in p.measures if m.ignore != 1]
        for a, b in itertools.combinations(ms, 2):
            ia, ib = image[a.serial], image[b.serial]
            if ia == ib:
                continue
            if ia > ib:
                a, b, ia, ib = b, a, ib, ia
            expected.setdefault((ia, ib), []).append((a.sample - 1, a.line - 1, b.sample - 1, b.line - 1))
    assert len(written) == len(expected)
    for (ia, ib), rows in expected.items():
        m = cnet.read_match(tmp_path / f"run-img{ia}__img{ib}.match")
        got = sorted(zip(m.x1, m.y1, m.x2, m.y2, strict=True))
        assert got == sorted(tuple(np.float32(v) for v in r) for r in rows)
