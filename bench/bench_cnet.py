"""Benchmark tiepoint.cnet's ISIS control-network codec against the protobuf runtime, on one core.

Simulates a network of ``--measures`` measures (default 1,000,000; every field in use:
``tiepoint.cnet.random_network``), then times, best of ``--repeat``:

- tiepoint ``write`` (binary version 5, to a file) and ``read`` of that file;
- the protobuf runtime (``google.protobuf`` with message classes compiled at run time from the
  official .proto texts in tests/cnet/data, as a plio-style reader/writer would use them) parsing
  every point message of the same file (``FromString`` per point, after tiepoint's framing), and
  serializing the parsed messages back (``SerializeToString`` per point);
- on a ``--build-measures`` subset, the runtime building its messages from the network's columns
  point by point and serializing them (what a Python writer with generated classes does; plio's
  4,800 measures/s is the anchor), and parsing them into measure columns with Python loops (what a
  reader into arrays/data frames does; tiepoint reads every column, this baseline only five).

It prints measures per second (wall clock, and this process's CPU time, which shared machines
disturb less) and the ratio of CPU times against the runtime measured in the same run. Everything
runs on one core (numpy here is single-threaded). Usage::

    python bench/bench_cnet.py [--measures 1000000] [--repeat 3] [--build-measures 50000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tiepoint import cnet

REPO = Path(__file__).resolve().parent.parent


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over *repeat* runs after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def _runtime_classes(tmp: Path):
    sys.path.insert(0, str(REPO / "tests" / "cnet"))
    from cnet_proto import messages

    return messages(str(tmp))


def _point_slices(data: bytes) -> list[tuple[int, int]]:
    from cnet_proto import label_numbers

    lab = label_numbers(data)
    pos = lab["HeaderStartByte"] + lab["HeaderBytes"]
    end = pos + lab["PointsBytes"]
    out = []
    while pos < end:
        (size,) = struct.unpack_from("<I", data, pos)
        out.append((pos + 4, pos + 4 + size))
        pos += 4 + size
    return out


def _build_and_serialize(net: cnet.ControlNetwork, point_cls) -> bytes:
    """A plio-style writer: one runtime message per point, fields set from the columns."""
    p, m = net.points, net.measures
    out = []
    for i in range(net.n_points):
        msg = point_cls()
        msg.id = p.id[i]
        msg.type = int(p.type[i])
        if p.chooser_name.codes[i] >= 0:
            msg.chooserName = p.chooser_name[i]
        if not math.isnan(p.apriori_x[i]):
            msg.aprioriX, msg.aprioriY, msg.aprioriZ = p.apriori_x[i], p.apriori_y[i], p.apriori_z[i]
        if p.reference_index[i] >= 0:
            msg.referenceIndex = int(p.reference_index[i])
        for j in range(int(net.point_offsets[i]), int(net.point_offsets[i + 1])):
            mm = msg.measures.add()
            mm.serialnumber = m.serial[j]
            mm.type = int(m.type[j])
            mm.sample, mm.line = m.sample[j], m.line[j]
            if not math.isnan(m.apriori_sample[j]):
                mm.apriorisample, mm.aprioriline = m.apriori_sample[j], m.apriori_line[j]
            if m.chooser_name.codes[j] >= 0:
                mm.choosername = m.chooser_name[j]
        body = msg.SerializeToString()
        out.append(struct.pack("<I", len(body)) + body)
    return b"".join(out)


def _parse_to_columns(data: bytes, slices: list[tuple[int, int]], point_cls) -> dict[str, np.ndarray]:
    """A plio-like reader: runtime messages, then Python loops to fill measure columns."""
    serial, sample, line, apriori_sample, point = [], [], [], [], []
    for k, (a, b) in enumerate(slices):
        msg = point_cls.FromString(data[a:b])
        for m in msg.measures:
            serial.append(m.serialnumber)
            sample.append(m.sample)
            line.append(m.line)
            apriori_sample.append(m.apriorisample if m.HasField("apriorisample") else np.nan)
            point.append(k)
    return {
        "serial": np.array(serial, dtype=object),
        "sample": np.array(sample),
        "line": np.array(line),
        "apriori_sample": np.array(apriori_sample),
        "point": np.array(point),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-measures", type=int, default=50_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        net = cnet.random_network(args.measures, seed=1)
        n = net.n_measures
        print(f"simulated {net.n_points:,} points, {n:,} measures in {time.perf_counter() - t:.1f} s")
        path = tmp / "bench.net"

        w_wall, w_cpu = _best(lambda: cnet.write(net, path), args.repeat)
        size = path.stat().st_size
        r_wall, r_cpu = _best(lambda: cnet.read(path), args.repeat)
        assert cnet.read(path).differences(net) == []

        classes = _runtime_classes(tmp / "proto")
        point_cls = classes["ControlPointFileEntryV0002"]
        data = path.read_bytes()
        slices = _point_slices(data)
        parsed: list = []

        def runtime_parse() -> None:
            parsed.clear()
            parsed.extend(point_cls.FromString(data[a:b]) for a, b in slices)

        def runtime_serialize() -> None:
            b"".join(struct.pack("<I", p.ByteSize()) + p.SerializeToString() for p in parsed)

        p_wall, p_cpu = _best(runtime_parse, args.repeat)
        s_wall, s_cpu = _best(runtime_serialize, args.repeat)
        assert sum(len(p.measures) for p in parsed) == n

        sub = net.select_points(np.arange(np.searchsorted(net.point_offsets, args.build_measures)))
        b_wall, b_cpu = _best(lambda: _build_and_serialize(sub, point_cls), 1)
        # tiepoint on the same subset, for a fair ratio
        sub_path = tmp / "sub.net"
        ws_wall, ws_cpu = _best(lambda: cnet.write(sub, sub_path), args.repeat)
        rs_wall, rs_cpu = _best(lambda: cnet.read(sub_path), args.repeat)
        sub_data = sub_path.read_bytes()
        sub_slices = _point_slices(sub_data)
        c_wall, c_cpu = _best(lambda: _parse_to_columns(sub_data, sub_slices, point_cls), 1)

    import google.protobuf

    versions = f"protobuf {google.protobuf.__version__}; numpy {np.__version__}"
    print(f"file: {size / 1e6:.1f} MB (version 5); {versions}")
    print(f"{'operation':<52}{'wall s':>9}{'meas/s (wall)':>15}{'meas/s (CPU)':>14}{'ratio':>8}")
    rows = [
        ("tiepoint write (encode + file)", w_wall, w_cpu, n, s_cpu),
        ("protobuf runtime: SerializeToString per point", s_wall, s_cpu, n, None),
        ("tiepoint read (file + decode, all fields)", r_wall, r_cpu, n, p_cpu),
        ("protobuf runtime: FromString per point", p_wall, p_cpu, n, None),
        (f"tiepoint write, {sub.n_measures:,}-measure subset", ws_wall, ws_cpu, sub.n_measures, b_cpu),
        ("protobuf runtime: build messages + serialize (plio-like)", b_wall, b_cpu, sub.n_measures, None),
        (f"tiepoint read, {sub.n_measures:,}-measure subset", rs_wall, rs_cpu, sub.n_measures, c_cpu),
        ("protobuf runtime: parse + 5 measure columns (plio-like)", c_wall, c_cpu, sub.n_measures, None),
    ]
    for name, wall, cpu, count, base_cpu in rows:
        ratio = f"{base_cpu / cpu:7.1f}x" if base_cpu else ""
        print(f"{name:<52}{wall:9.2f}{count / wall:15,.0f}{count / cpu:14,.0f}{ratio:>8}")
    print("ratio: runtime CPU seconds / tiepoint CPU seconds for the same work (higher = tiepoint faster)")
    print("goals: write >= 500,000 measures/s, read >= 1,000,000 measures/s; anchor: plio writes ~4,800/s")


if __name__ == "__main__":
    main()
