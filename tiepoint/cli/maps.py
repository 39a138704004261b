"""``tiepoint footprints``: the footprint map, drawn by :func:`tiepoint.plot.footprints`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tiepoint.cli.common import ConfigOption, console, open_database


def footprints(
    png: Annotated[Path, typer.Option("--png", help="Image file to write.")] = Path("footprints.png"),
    config: ConfigOption = None,
) -> None:
    """Draw the footprints of all ingested images on a lon/lat map, overlaps hatched."""
    from tiepoint import plot
    from tiepoint.db import ImageRow

    with open_database(config) as db:
        fig = plot.footprints(db)
        n = len(db.execute_sql(f"SELECT id FROM {ImageRow.__tablename__}"))
        plot.save(fig, png)
    console.print(f"wrote {png} ({n} footprints)", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(footprints)
