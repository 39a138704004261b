"""``python -m tiepoint.cnet info FILE`` (a summary);
``python -m tiepoint.cnet convert IN OUT [--version 2|5] [--format isis|pvl]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tiepoint.cnet.isis import read, write
from tiepoint.cnet.model import CnetError, ControlNetwork
from tiepoint.cnet.schema import MEASURE_TYPES, POINT_TYPES


def summary(net: ControlNetwork) -> list[str]:
    """Lines describing *net*: header, counts by type, measures per point and per image."""
    h = net.header
    counts = net.measure_counts
    per_image = np.bincount(net.measures.serial.codes[net.measures.serial.codes >= 0])
    ptypes = ", ".join(f"{k} {int((net.points.type == v).sum()):,}" for k, v in POINT_TYPES.items())
    mtypes = ", ".join(f"{k} {int((net.measures.type == v).sum()):,}" for k, v in MEASURE_TYPES.items())
    lines = [
        f"network   {h.network_id!r}  target {h.target_name!r}  user {h.user_name!r}",
        f"created   {h.created}  last modified {h.last_modified}",
        f"points    {net.n_points:,}  ({ptypes})",
        f"          ignored {int((net.points.ignore == 1).sum()):,}, "
        f"no measures {int((counts == 0).sum()):,}",
        f"measures  {net.n_measures:,}  ({mtypes})",
        f"          ignored {int((net.measures.ignore == 1).sum()):,}, per point min/median/max "
        + (f"{counts.min()}/{int(np.median(counts))}/{counts.max()}" if counts.size else "-"),
        f"images    {int((per_image > 0).sum()):,} serial numbers; measures per image min/max "
        + (f"{per_image[per_image > 0].min()}/{per_image.max()}" if per_image.size else "-"),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tiepoint.cnet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="summarize a control network")
    info.add_argument("file")
    conv = sub.add_parser("convert", help="rewrite a network (binary V2/V5 or PVL)")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--version", type=int, default=5, choices=(2, 5))
    conv.add_argument("--format", default="isis", choices=("isis", "pvl"))
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            print("\n".join(summary(read(args.file))))
        else:
            write(read(args.input), args.output, version=args.version, format=args.format)
    except CnetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
