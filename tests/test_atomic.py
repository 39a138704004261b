"""One atomic-write mechanism for every output: bounded temporary names, the umask, nothing partial."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from tiepoint import cnet
from tiepoint.atomic import NAME_BYTES, replacing, temporary_beside, write_atomically


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640
    os.umask(old)


def test_temporary_names_are_bounded_whatever_the_target(tmp_path):
    for name in ["a" * 250 + ".cub", "é" * 120 + ".h5", "x.net"]:
        tmp = temporary_beside(tmp_path / name)
        assert tmp.parent == tmp_path and tmp.is_file() and tmp.stat().st_size == 0
        assert len(tmp.name.encode()) <= NAME_BYTES and tmp.name.startswith(".") and tmp.name.endswith(".tmp")


def test_a_failed_write_leaves_neither_a_partial_file_nor_a_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    write_atomically(target, [b"new ", "text"])
    assert target.read_bytes() == b"new text" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_outputs_follow_the_umask(tmp_path, umask_027):
    """mkstemp makes 0600 files: networks and cube lists written that way were unreadable to a group."""
    net = cnet.random_network(50, seed=1)
    written = cnet.export(net, tmp_path / "net.net", cube_paths={s: f"/data/{s}.cub" for s in net.serials()})
    write_atomically(tmp_path / "plain.txt", "x")
    for path in [*written, tmp_path / "plain.txt"]:
        assert stat.S_IMODE(path.stat().st_mode) == umask_027, path


def test_long_network_names_are_written(tmp_path):
    net = cnet.random_network(20, seed=2)
    path = tmp_path / ("n" * 240 + ".net")
    cnet.write(net, path)
    assert np.array_equal(cnet.read(path).measures.sample, net.measures.sample)
