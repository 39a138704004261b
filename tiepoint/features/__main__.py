"""``python -m tiepoint.features IMAGE... [--conf NAME | --config FILE] [--keypoint-dir DIR] [--overwrite]``.

Extracts and stores the keypoints of each image (see :func:`tiepoint.features.main`) and prints one
line per image: the keypoint file and its keypoint count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tiepoint.config import load_config
from tiepoint.errors import TiepointError
from tiepoint.features.extraction import confs
from tiepoint.features.stage import main, summarize


def cli(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 if any image failed)."""
    parser = argparse.ArgumentParser(prog="python -m tiepoint.features", description=__doc__.split("\n\n")[1])
    parser.add_argument("images", nargs="+", type=Path)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--conf", choices=sorted(confs), help="a named feature configuration")
    group.add_argument("--config", type=Path, help="a tiepoint YAML configuration")
    parser.add_argument("--keypoint-dir", type=Path, default=None)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    failed = 0
    try:
        config = args.conf or load_config(args.config)
    except TiepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for image in args.images:
        try:
            path = main(image, config, args.keypoint_dir, overwrite=args.overwrite)
            print(f"{path}\t{summarize(path).count}")
        except TiepointError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(cli())
