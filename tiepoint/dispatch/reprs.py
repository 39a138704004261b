"""The HTML face of a job runner in Jupyter (``JobRunner._repr_html_``), in the manner of Dask's ``Client``.

Public API::

    RunnerView(...)               # what the repr shows, gathered by the runner
    runner_html(view) -> str      # the HTML; every value escaped

The runner gathers a :class:`RunnerView` (its settings, its in-memory counters and one
:meth:`~tiepoint.dispatch.ledger.Ledger.summary` of the ledger) and this module only formats it, so
the repr costs two queries whatever the size of the ledger, and shows a closed runner too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from tiepoint.db import FAILED, JOB_STATES, RUNNING, SUCCEEDED

ERROR_CHARS = 300
"""Characters of an error shown in the failures table (the whole error is its tooltip)."""

STATE_COLOURS = {SUCCEEDED: "#2e7d32", FAILED: "#c62828", RUNNING: "#1565c0"}


@dataclass(frozen=True, slots=True)
class FailureView:
    """One failed job as the repr lists it."""

    name: str
    """What the job is about, as users know it (an image's file name)."""
    key: str
    """The job's key (the image's absolute path): the tooltip."""
    attempts: int
    error: str | None
    when: datetime | None


@dataclass(frozen=True, slots=True)
class RunnerView:
    """Everything :func:`runner_html` shows of a runner."""

    title: str
    """The class name (``ImageAdder``)."""
    kind: str
    database: str
    """The database URL, password masked."""
    cluster: str
    """The configured cluster kind (``local``, ``scheduler``, ``slurm``)."""
    scheduler: str | None
    dashboard: str | None
    closed: bool
    jobs: int
    """Jobs this runner took on."""
    running: int
    finished: int
    counts: dict[str, int] | None = None
    """``{state: keys}`` from the ledger (every dispatcher of this kind); None if unavailable."""
    failures: list[FailureView] = field(default_factory=list)
    """The failed jobs updated last."""
    unavailable: str | None = None
    """Why the ledger could not be read (closed runner, database down)."""


def _row(header: str, value_html: str) -> str:
    th = f'<th style="text-align:left;padding-right:1em">{escape(header)}</th>'
    return f"<tr>{th}<td>{value_html}</td></tr>"


def _code(text: str | None) -> str:
    return "<em>not available</em>" if not text else f"<code>{escape(text)}</code>"


def _link(url: str | None) -> str:
    if not url:
        return "<em>not available</em>"
    return f'<a href="{escape(url, quote=True)}" target="_blank">{escape(url)}</a>'


def _counts_table(view: RunnerView) -> str:
    assert view.counts is not None
    states = list(JOB_STATES) + sorted(set(view.counts) - set(JOB_STATES))
    head = "".join(f'<th style="text-align:right">{escape(s)}</th>' for s in states)
    cells = []
    for s in states:
        n = view.counts.get(s, 0)
        colour = STATE_COLOURS.get(s) if n else None
        style = "text-align:right" + (f";color:{colour};font-weight:bold" if colour else "")
        cells.append(f'<td style="{style}">{n:,}</td>')
    total = sum(view.counts.values())
    return (
        '<table class="tiepoint-counts"><thead><tr><th style="text-align:left">'
        f"{escape(view.kind)} jobs in the ledger</th>{head}"
        '<th style="text-align:right">total</th></tr></thead>'
        f'<tbody><tr><th style="text-align:left">newest job of each key</th>{"".join(cells)}'
        f'<td style="text-align:right">{total:,}</td></tr></tbody></table>'
    )


def _failures_table(view: RunnerView) -> str:
    n_failed = (view.counts or {}).get(FAILED, len(view.failures))
    if not view.failures:
        return ""
    rows = []
    for f in view.failures:
        error = f.error or ""
        short = error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"
        when = f.when.strftime("%Y-%m-%d %H:%M:%S") if f.when is not None else ""
        rows.append(
            f'<tr><td title="{escape(f.key, quote=True)}">{escape(f.name)}</td>'
            f'<td style="text-align:right">{f.attempts}</td>'
            f'<td style="text-align:left" title="{escape(error, quote=True)}">{escape(short)}</td>'
            f"<td>{escape(when)}</td></tr>"
        )
    shown = f"the last {len(view.failures)} of {n_failed:,}" if n_failed > len(view.failures) else "all"
    return (
        f"<details open><summary>Failed for good: {n_failed:,} ({shown} shown; "
        "<code>.failed_jobs</code>, <code>.inspect_key(key)</code>)</summary>"
        '<table class="tiepoint-failures"><thead><tr><th style="text-align:left">job</th>'
        '<th style="text-align:right">attempts</th><th style="text-align:left">last error</th>'
        f'<th style="text-align:left">when (UTC)</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</details>"
    )


def runner_html(view: RunnerView) -> str:
    """The HTML of a runner: settings, this runner's jobs, the ledger's counts, the last failures."""
    if view.closed:
        here = "closed"
    else:
        here = f"{view.jobs:,} jobs taken on: {view.running:,} running, {view.finished:,} finished"
    rows = [
        _row("Database", _code(view.database)),
        _row("Cluster", f"{escape(view.cluster)}, scheduler {_code(view.scheduler)}"),
        _row("Dashboard", _link(view.dashboard)),
        _row(f"This {view.title}", escape(here)),
    ]
    if view.counts is not None:
        ledger = _counts_table(view)
    else:
        ledger = f"<p><em>Ledger not available: {escape(view.unavailable or 'unknown reason')}</em></p>"
    return (
        '<div class="tiepoint-runner">'
        f'<div style="font-size:1.1em;font-weight:bold">{escape(view.title)}'
        f' <span style="font-weight:normal;opacity:0.7">{escape(view.kind)} jobs</span></div>'
        f'<table class="tiepoint-settings">{"".join(rows)}</table>'
        f"{ledger}{_failures_table(view)}</div>"
    )


__all__ = ["FailureView", "RunnerView", "runner_html"]
