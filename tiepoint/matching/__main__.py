"""``python -m tiepoint.matching IMAGE_A IMAGE_B [--config FILE] [--overwrite]``.

Matches two images (see :func:`tiepoint.matching.match_images`) and prints the match file, how the
matches were found, and the raw, verified and kept counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tiepoint.config import load_config
from tiepoint.errors import TiepointError


def cli(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 if matching failed, 2 for a bad configuration)."""
    from tiepoint.matching.api import match_images

    parser = argparse.ArgumentParser(prog="python -m tiepoint.matching", description=__doc__.split("\n\n")[1])
    parser.add_argument("image_a", type=Path)
    parser.add_argument("image_b", type=Path)
    parser.add_argument("--config", type=Path, help="a tiepoint YAML configuration")
    parser.add_argument("--overwrite", action="store_true", help="match again even if up to date")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except TiepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = match_images(args.image_a, args.image_b, config, overwrite=args.overwrite)
    except TiepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = f"raw {result.n_raw}\tverified {result.n_verified}\tkept {len(result)}"
    print(f"{result.path}\t{result.method}\t{counts}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
