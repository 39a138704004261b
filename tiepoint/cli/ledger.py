"""Ledger commands: ``status``, ``failed`` and ``inspect``, for every job kind.

They only read the job ledger (no cluster is started). Jobs are shown by what they are about
(an image's file name, a pair's two names), never by paths cut in the middle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tiepoint.cli.common import ConfigOption, console, fail, open_database
from tiepoint.errors import TiepointError

STATE_COLOURS = {"succeeded": "green", "failed": "red"}
IMAGE_KINDS = ("ingest", "register")
"""Job kinds whose key is an image path."""

KindOption = Annotated[
    str | None, typer.Option("--kind", help="Only jobs of this kind (ingest, match, ...).")
]


def _kinds(db: Any) -> list[str]:
    from sqlalchemy import select

    from tiepoint.db import Job

    with db.session() as s:
        return sorted(s.scalars(select(Job.kind).distinct()))


def _labels(db: Any, kind: str, keys: list[str]) -> dict[str, str]:
    """How jobs' keys are shown: an image's file name (ingest, register), a pair's two names (match)."""
    if kind in IMAGE_KINDS:
        return {key: Path(key).name for key in keys}
    if kind == "match":
        paths = db.pair_paths(keys)
        return {key: " & ".join(Path(p).name for p in paths[key]) if key in paths else key for key in keys}
    return {key: key for key in keys}


def status(
    config: ConfigOption = None,
    kind: KindOption = None,
) -> None:
    """Show the newest job of every image (and pair, ...): state and failed attempts."""
    from tiepoint.dispatch.ledger import Ledger

    with open_database(config) as db:
        ledger = Ledger(db)
        kinds = [kind] if kind else _kinds(db)
        if not kinds:
            console.print("no jobs")
            return
        for k in kinds:
            latest = ledger.latest(k)
            labels = _labels(db, k, list(latest))
            table = Table(title=f"{k}: {len(latest)} jobs", title_justify="left")
            # names whole, on one line, when the terminal allows: the folder column folds instead
            widest = max((len(label) for label in labels.values()), default=3)
            table.add_column("job", overflow="fold", min_width=min(widest, max(console.width - 30, 10)))
            table.add_column("state")
            table.add_column("failures", justify="right")
            table.add_column("folder", overflow="fold", style="dim")
            counts: dict[str, int] = {}
            for key, (state, failures) in latest.items():
                counts[state] = counts.get(state, 0) + 1
                colour = STATE_COLOURS.get(state, "yellow")
                folder = str(Path(key).parent) if k in IMAGE_KINDS else ""
                table.add_row(labels[key], f"[{colour}]{state}[/{colour}]", str(failures), folder)
            console.print(table)
            console.print(f"{k}: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs"))


def failed(
    config: ConfigOption = None,
    kind: KindOption = None,
) -> None:
    """List the jobs whose newest run failed for good, with the last error."""
    from tiepoint.dispatch.ledger import Ledger

    with open_database(config) as db:
        ledger = Ledger(db)
        rows = []
        for k in [kind] if kind else _kinds(db):
            keys = [r.key for r in ledger.newest_failed(k)]
            errors = ledger.last_errors(k, keys)
            rows += [(k, key, errors.get(key)) for key in keys]
    if not rows:
        console.print("no failed jobs")
        return
    for k, key, error in rows:
        console.print(f"{k} {key}\n    {error}", highlight=False, soft_wrap=True, markup=False)


def inspect(
    path: Annotated[Path, typer.Argument(help="The image (or the first image of a pair).")],
    other: Annotated[
        Path | None, typer.Argument(help="The second image of a pair: inspect its match job.")
    ] = None,
    config: ConfigOption = None,
    logs: Annotated[bool, typer.Option("--log/--no-log", help="Show each attempt's log.")] = True,
) -> None:
    """Show every attempt at a job (an image's ingest and registration, or a pair's match): host,
    times, error, log."""
    from tiepoint.dispatch.ledger import Ledger

    with open_database(config) as db:
        if other is None:
            ledger = Ledger(db)
            attempts = [a for k in IMAGE_KINDS for a in ledger.attempts(k, str(path.resolve()))]
            what = TiepointError("no jobs for this image", path)
        else:
            pair = db.find_pair(str(path.resolve()), str(other.resolve()))
            attempts = [] if pair is None else Ledger(db).attempts("match", pair.key)
            what = TiepointError(f"no match jobs for the pair of {path} and {other}")
    if not attempts:
        raise fail(what)
    _print_attempts(attempts, logs)


def _print_attempts(attempts: list[dict[str, Any]], logs: bool) -> None:
    for a in attempts:
        console.rule(f"{a['kind']} job {a['job']} attempt {a['attempt']}: {a['state']}")
        console.print(f"host {a['host']}  worker {a['worker']}  dispatcher {a['dispatcher']}", markup=False)
        console.print(f"started {a['started']}  finished {a['finished']}", markup=False)
        if a["error"]:
            console.print(a["error"], style="red", markup=False, soft_wrap=True)
        if a["traceback"]:
            console.print(a["traceback"], markup=False, soft_wrap=True)
        if logs and a["log"]:
            console.print(a["log"], markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Register this module's commands on *app*."""
    app.command()(status)
    app.command()(failed)
    app.command()(inspect)
