"""Export a network for the bundle adjusters: the ``.net`` file, its cube list, ASP match files.

These are the functions the network stage's ``tiepoint export`` command will call once points and
measures live in the database: it builds a :class:`~tiepoint.cnet.ControlNetwork` with
:meth:`~tiepoint.cnet.ControlNetwork.from_arrays` (serial numbers from ``images.serial_number``,
samples and lines from ``tiepoint.pixels.to_isis_coords``) and hands it here with the image paths
keyed by serial number, so no cube is opened again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from tiepoint.atomic import write_atomically
from tiepoint.cnet import asp, isis
from tiepoint.cnet.model import CnetError, ControlNetwork

FORMATS = ("isis", "pvl", "asp")


def write_cube_list(paths: Iterable[str | os.PathLike[str]], lis_path: str | os.PathLike[str]) -> Path:
    """Write a cube list (one path per line, as ``jigsaw fromlist=`` reads it), atomically."""
    lines = [str(p) for p in paths]
    if any("\n" in line for line in lines):
        raise CnetError("a cube path contains a newline", lis_path)
    lis = Path(lis_path)
    write_atomically(lis, "".join(line + "\n" for line in lines))
    return lis


def cube_list(net: ControlNetwork, cube_paths: Mapping[str, str | os.PathLike[str]]) -> list[str]:
    """The paths of the images *net* uses, in serial-number order.

    Raises
    ------
    CnetError
        Naming the serial numbers that *cube_paths* lacks.
    """
    used = net.serials()
    missing = [s for s in used if s not in cube_paths]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise CnetError(f"no image path for {len(missing)} serial number(s) of the network: {shown}")
    return [str(cube_paths[s]) for s in used]


def export(
    net: ControlNetwork,
    out: str | os.PathLike[str],
    *,
    version: int = 5,
    format: str = "isis",
    cube_paths: Mapping[str, str | os.PathLike[str]] | None = None,
) -> list[Path]:
    """Write *net* for ISIS ``jigsaw`` or ASP ``bundle_adjust``; return the files written.

    Parameters
    ----------
    net : ControlNetwork
    out : path
        ``isis``/``pvl``: the ``.net`` file (its cube list goes beside it as ``<out stem>.lis``).
        ``asp``: the output prefix of the ``.match`` files (``<out>-<stem1>__<stem2>.match``).
    version : int
        Binary version (5, what ISIS writes today, or 2).
    format : ``"isis"``, ``"pvl"`` or ``"asp"``
    cube_paths : mapping serial number -> image path, optional
        Needed for the cube list and for ``asp``. The ``.lis`` lists the images the network uses,
        in serial-number order.

    Raises
    ------
    CnetError
        Unknown format, an invalid network, or serial numbers without a path.
    """
    if format not in FORMATS:
        raise CnetError(f"unknown export format {format!r}; choose one of {FORMATS}", out)
    out = Path(out)
    if format == "asp":
        if cube_paths is None:
            raise CnetError("ASP match files need cube_paths (serial number -> image path)", out)
        net.validate(str(out))
        return asp.write_network_matches(net, out, cube_paths)
    written = [isis.write(net, out, version=version, format=format)]
    if cube_paths is not None:
        written.append(write_cube_list(cube_list(net, cube_paths), out.with_suffix(".lis")))
    return written
