"""``tiepoint run``: images in, control network out (ingest -> match -> network -> export).

Every stage is dispatched with its own ledger on one Dask cluster, so a second run after a crash, or
after adding images to the folder, does only the missing work (:func:`tiepoint.workflow.run`). Exit
status as for ``add``: 0 done, 3 some jobs failed (images, pairs, registration), 4 results wait for
the database, 1 error, 130 interrupted (unfinished jobs are queued; ``tiepoint run`` resumes them).
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
)
from tiepoint.errors import TiepointError


def run(
    source: Annotated[str, typer.Argument(help="A directory, a glob pattern, or an image file.")],
    ext: Annotated[str | None, typer.Option("--ext", help="Image extension, e.g. cub.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="The control network to write (.net, with .lis).")
    ] = None,
    version: Annotated[int, typer.Option("--version", help="ISIS network version: 5 or 2.")] = 5,
    format: Annotated[
        str, typer.Option("--format", help="isis (binary), pvl (text) or asp (.match files).")
    ] = "isis",
    force: Annotated[
        bool, typer.Option("--force", help="Ingest and match again what was done already.")
    ] = False,
    no_subpixel: Annotated[
        bool, typer.Option("--no-subpixel", help="Do not register the measures (they stay pending).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Ingest a folder of images, match their overlaps, build and register the network, export it.

    Exit status: 0 done, 3 some jobs failed, 4 results wait for the database, 1 error, 130 interrupted.
    """
    from tiepoint.workflow import run as run_all

    if version not in (2, 5):
        raise fail(TiepointError(f"--version must be 5 or 2, not {version}"))
    if format not in ("isis", "pvl", "asp"):
        raise fail(TiepointError(f"--format must be isis, pvl or asp, not {format!r}"))
    cfg = load(config)
    try:
        result = run_all(
            source, ext, out, cfg, force=force, subpixel=False if no_subpixel else None,
            version=version, format=format, progress=True,
        )  # fmt: skip
    except KeyboardInterrupt:
        err_console.print("interrupted: unfinished jobs are queued; `tiepoint run` resumes them")
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except TiepointError as exc:
        raise fail(exc) from None
    console.print(str(result), highlight=False, soft_wrap=True, markup=False)
    code = EXIT_OK
    if not result.ok:
        code = EXIT_JOBS_FAILED if result.complete else EXIT_SPOOLED
        if result.complete:
            console.print("see `tiepoint failed` and `tiepoint inspect ...`")
    raise typer.Exit(code=code)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(run)
