"""``tiepoint match``: match every overlapping pair of ingested images (a live progress bar).

It updates the overlap graph (only the images ingested since the last update get their pairs),
then queues one job per pair not matched yet. Exit status as for ``add``: 0 every pair matched, 3
some pairs failed, 4 results wait for the database, 1 error, 130 interrupted.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tiepoint.cli.common import ConfigOption
from tiepoint.cli.ingest import run_jobs


def match(
    force: Annotated[bool, typer.Option("--force", help="Match again pairs matched already.")] = False,
    config: ConfigOption = None,
) -> None:
    """Match the overlapping pairs of the ingested images, with a live progress bar."""
    from tiepoint.dispatch import PairMatcher

    code = run_jobs(PairMatcher, config, lambda matcher: matcher.match_overlaps(force=force), "pairs")
    raise typer.Exit(code=code)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(match)
