"""The ``tiepoint`` command line (typer + rich).

Each command group lives in its own module, which registers its commands on :data:`app`:
:mod:`tiepoint.cli.jobs` (init, add, status, failed, inspect, retry, footprints) and
:mod:`tiepoint.cli.synth` (synth, demo).
"""

from __future__ import annotations

import typer

from tiepoint.cli import jobs, synth

app = typer.Typer(
    name="tiepoint",
    help="Ingest planetary images into a spatial database for control-network generation.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

jobs.register(app)
synth.register(app)


def main() -> None:  # pragma: no cover - console entry point
    """Run the command line."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
