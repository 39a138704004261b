"""Ingest commands: ``add`` and ``retry``.

They start the configured cluster, show a live progress bar, and on Ctrl-C close the ImageAdder,
which puts unfinished jobs back to ``queued`` so the next ``add`` or ``retry`` resumes them. Exit
codes: :data:`~tiepoint.cli.common.EXIT_OK` when every job succeeded,
:data:`~tiepoint.cli.common.EXIT_JOBS_FAILED` when some failed for good,
:data:`~tiepoint.cli.common.EXIT_SPOOLED` when outcomes wait for the database,
:data:`~tiepoint.cli.common.EXIT_ERROR` on an error, :data:`~tiepoint.cli.common.EXIT_INTERRUPTED`
on Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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


def run_jobs(runner_class: Any, config: Path | None, start: Any, noun: str) -> int:
    """Start a runner, queue jobs with ``start(runner)``, follow them with a progress bar, close.

    Returns the exit code: :data:`EXIT_OK`, :data:`EXIT_JOBS_FAILED` or :data:`EXIT_SPOOLED`
    (raises ``typer.Exit`` on errors and on Ctrl-C).
    """
    cfg = load(config)
    try:
        runner = runner_class(cfg)
    except TiepointError as exc:
        raise fail(exc) from None
    interrupted = False
    code = EXIT_OK
    try:
        if runner.dashboard_link:
            console.print(f"Dask dashboard: {runner.dashboard_link}")
        queued = start(runner)
        console.print(f"{len(queued)} {noun} queued ({runner.n_jobs} jobs in all, with resumed ones)")
        complete = runner.wait(progress=True)
        failed = runner.failed_here()
        total = runner.n_jobs + len(runner.rejected)
        console.print(f"done: {total - len(failed)} ok, {len(failed)} failed")
        if failed:
            console.print("see `tiepoint failed` and `tiepoint inspect ...`")
            code = EXIT_JOBS_FAILED
        if not complete:
            console.print(f"[yellow]some outcomes wait in {runner.spool.directory} for the database[/yellow]")
            code = code or EXIT_SPOOLED
    except KeyboardInterrupt:
        interrupted = True
    except TiepointError as exc:
        raise fail(exc) from None
    finally:
        runner.close()
    if interrupted:
        err_console.print("interrupted: unfinished jobs are queued; `tiepoint retry` or `add` resumes them")
        raise typer.Exit(code=EXIT_INTERRUPTED)
    return code


def add(
    source: Annotated[str, typer.Argument(help="A directory, a glob pattern, or an image file.")],
    ext: Annotated[str | None, typer.Option("--ext", help="Image extension, e.g. cub.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ingest again images already ingested.")] = False,
    config: ConfigOption = None,
) -> None:
    """Ingest the images of a directory (or glob), with a live progress bar.

    Exit status: 0 all ingested, 3 some images failed, 4 results wait for the database, 1 error,
    130 interrupted.
    """
    from tiepoint.dispatch import ImageAdder

    code = run_jobs(ImageAdder, config, lambda adder: adder.add_images(source, ext, force=force), "images")
    raise typer.Exit(code=code)


def retry(config: ConfigOption = None) -> None:
    """Run again every ingest job that exhausted its attempts (and resume unfinished ones).

    Exit status as for ``add``.
    """
    from tiepoint.dispatch import ImageAdder

    code = run_jobs(ImageAdder, config, lambda adder: adder.rerun_failed(), "images")
    raise typer.Exit(code=code)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(add)
    app.command()(retry)
