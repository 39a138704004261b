"""``tiepoint network``: build (or extend) the control network, register it, print the report.

Points from the matches of every pair matched since the last run (on this machine), then one
sub-pixel registration job per image with measures waiting (a live progress bar; Ctrl-C leaves them
queued), then the report; ``--png`` draws the network map (:func:`tiepoint.plot.network`). Exit
status as for ``add``: 0 done, 3 some match files unreadable or registration jobs failed for good,
4 results wait for the database, 1 error, 130 interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tiepoint.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_JOBS_FAILED,
    EXIT_OK,
    EXIT_SPOOLED,
    ConfigOption,
    console,
    err_console,
    fail,
    load,
    open_database,
)
from tiepoint.errors import TiepointError


def network(
    no_subpixel: Annotated[
        bool, typer.Option("--no-subpixel", help="Do not register the measures (they stay pending).")
    ] = False,
    register_again: Annotated[
        bool,
        typer.Option("--register-again", help="Register every measure again, from its a-priori position."),
    ] = False,
    png: Annotated[
        Path | None, typer.Option("--png", help="Draw the network map into this image file.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Build the control network from the matched pairs, register it, and print the report.

    Exit status: 0 done, 3 some pairs or registration jobs failed, 4 results wait for the database,
    1 error, 130 interrupted.
    """
    from tiepoint import network as stage

    cfg = load(config)
    try:
        result = stage.build(cfg, subpixel=False if no_subpixel else None, force_registration=register_again,
                             progress=True)  # fmt: skip
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: unfinished registration jobs are queued; `tiepoint network` resumes them"
        )
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except TiepointError as exc:
        raise fail(exc) from None
    console.print(str(result), highlight=False, soft_wrap=True, markup=False)
    if png is not None:
        from tiepoint import plot

        with open_database(cfg) as db:
            plot.save(plot.network(db, report=result.report), png)
        console.print(f"network map: {png}", highlight=False, soft_wrap=True)
    code = EXIT_OK
    if result.points.failed_pairs or result.registration.failed:
        console.print("see `tiepoint failed --kind register` and `tiepoint inspect ...`")
        code = EXIT_JOBS_FAILED
    if not result.registration.complete:
        code = code or EXIT_SPOOLED
    raise typer.Exit(code=code)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(network)
