"""The ``tiepoint`` command line (typer + rich).

Each command group lives in its own module, which registers its commands on :data:`app`:
:mod:`~tiepoint.cli.run` (run: every stage), :mod:`~tiepoint.cli.configfile` (init),
:mod:`~tiepoint.cli.ingest` (add, retry),
:mod:`~tiepoint.cli.match` (match), :mod:`~tiepoint.cli.network` (network),
:mod:`~tiepoint.cli.export` (export, import),
:mod:`~tiepoint.cli.ledger` (status, failed, inspect), :mod:`~tiepoint.cli.maps` (footprints) and
:mod:`~tiepoint.cli.synth` (synth, demo). Exit codes are in :mod:`tiepoint.cli.common`.
"""

from __future__ import annotations

import typer

from tiepoint.cli import configfile, export, ingest, ledger, maps, match, network, run, synth

app = typer.Typer(
    name="tiepoint",
    help="Planetary images in, control network out: ingest, match, build and register the network, "
    "export it for ISIS jigsaw and ASP bundle_adjust.",
    epilog="Exit status: 0 done; 1 error; 2 bad usage; 3 some jobs failed; 4 results wait for the "
    "database; 130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

for module in (run, configfile, ingest, match, network, export, ledger, maps, synth):
    module.register(app)


def main() -> None:  # pragma: no cover - console entry point
    """Run the command line."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
