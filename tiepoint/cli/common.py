"""What every command shares: the consoles, the ``--config`` option, errors, and opening the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tiepoint.config import Config, load_config
from tiepoint.errors import TiepointError

if TYPE_CHECKING:
    from tiepoint.db import Database

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $TIEPOINT_CONFIG, ./tiepoint.yml)."),
]

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_ERROR = 1
"""An error stopped the command (bad configuration, database unavailable, ...); it says which."""
EXIT_USAGE = 2
"""Bad command-line usage (typer's own code)."""
EXIT_JOBS_FAILED = 3
"""The command ran, but some jobs failed for good (``tiepoint failed`` lists them)."""
EXIT_SPOOLED = 4
"""Jobs finished but some outcomes wait in the spool for the database (the next command writes them)."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C): unfinished jobs are queued; ``add`` or ``retry`` resumes them."""


def fail(exc: Exception) -> typer.Exit:
    """Print ``error: ...`` for *exc* and return the exit to raise (code :data:`EXIT_ERROR`)."""
    err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    return typer.Exit(code=EXIT_ERROR)


def load(config: Path | None) -> Config:
    """The configuration, or exit with ``error: ...`` naming the bad key."""
    try:
        return load_config(config)
    except TiepointError as exc:
        raise fail(exc) from None


@contextmanager
def open_database(config: Path | Config | None) -> Iterator[Database]:
    """The configured database, closed at the end; errors exit with ``error: ...``."""
    from tiepoint.db import Database

    cfg = config if isinstance(config, Config) else load(config)
    try:
        db = Database.from_config(cfg)
    except TiepointError as exc:
        raise fail(exc) from None
    try:
        yield db
    except TiepointError as exc:
        raise fail(exc) from None
    finally:
        db.close()


def run_or_fail(fn: Any, *args: Any) -> Any:
    """Call ``fn(*args)``; a :class:`TiepointError` exits with ``error: ...``."""
    try:
        return fn(*args)
    except TiepointError as exc:
        raise fail(exc) from None
