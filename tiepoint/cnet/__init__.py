"""ISIS3 control networks (binary V2/V5 and PVL text) and ASP match files: a data model and codecs.

Public API::

    read(path) -> ControlNetwork                         # binary V2 or V5, or PVL text (sniffed)
    write(net, path, version=5, format="isis")           # "isis" (version 5 or 2) or "pvl"; atomic
    ControlNetwork.from_arrays(point_ids, measure_point, serials, samples, lines, *,
                               point_types=..., measure_types=..., reference_index=None,
                               points={...}, measures={...}, measure_logs={...}, header=None, **header)
    net.points.<column>, net.measures.<column>, net.points[i] (PointView), net.points[i].measures
    net.select_points(mask) -> ControlNetwork            # with their measures
    net.drop_measures(mask) -> ControlNetwork            # reference indices recomputed
    net.validate(path=None); net.differences(other) -> list[str]; concat(networks)
    export(net, out, *, version=5, format="isis"|"pvl"|"asp", cube_paths=None) -> list[Path]
    write_cube_list(paths, lis_path) -> Path; cube_list(net, cube_paths) -> list[str]
    serial_number(path) -> str                           # ISIS serial, or the file stem
    match_path(prefix, image1, image2) -> Path; write_match(path, x1, y1, x2, y2); read_match(path)
    random_network(n_measures, seed=0) -> ControlNetwork # every field in use (tests, benchmarks)

Columns and their "unset" values are listed in :mod:`tiepoint.cnet.schema`; the model in
:mod:`tiepoint.cnet.model`; the binary format in :mod:`tiepoint.cnet.isis` and the vectorized
protobuf wire codec in :mod:`tiepoint.cnet.wire`. Measures are in ISIS pixel coordinates
(``sample = x + 1``, ``line = y + 1`` from tiepoint's OpenCV positions: use
:func:`tiepoint.pixels.to_isis_coords`). Errors are :class:`CnetError` naming the file and point.
``python -m tiepoint.cnet info FILE`` prints a summary; ``convert IN OUT`` rewrites a network.
"""

from tiepoint.cnet.asp import MatchFile, match_path, read_match, write_match, write_network_matches
from tiepoint.cnet.export import cube_list, export, write_cube_list
from tiepoint.cnet.isis import read, write
from tiepoint.cnet.model import (
    CnetError,
    ControlNetwork,
    LogTable,
    MeasureView,
    NetworkHeader,
    PointView,
    Strings,
    concat,
)
from tiepoint.cnet.serial import serial_number
from tiepoint.cnet.simulate import random_network

__all__ = [
    "CnetError",
    "ControlNetwork",
    "LogTable",
    "MatchFile",
    "MeasureView",
    "NetworkHeader",
    "PointView",
    "Strings",
    "concat",
    "cube_list",
    "export",
    "match_path",
    "random_network",
    "read",
    "read_match",
    "serial_number",
    "write",
    "write_cube_list",
    "write_match",
    "write_network_matches",
]
