"""The network stage, end to end: :func:`build` (what ``tiepoint network`` runs).

1. :func:`tiepoint.network.points.add_points` on the dispatcher: the matches of newly matched pairs
   become points and measures (incremental; see that module for why this step is not dispatched);
2. sub-pixel registration of the pending measures, dispatched through the job ledger (one job per
   image, :class:`tiepoint.dispatch.NetworkRegistrar`), unless ``network.registration.enabled`` is
   false or ``subpixel=False``; measures not registered stay ``pending`` for a later run;
3. the report (:func:`tiepoint.network.report.network_report`).

This module runs where the database is (a notebook, the CLI); workers only run
:mod:`tiepoint.network.job`. It imports the database and the dispatcher lazily, inside :func:`build`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html import escape
from typing import Any

from tiepoint.network.points import PointsUpdate
from tiepoint.network.report import NetworkReport
from tiepoint.timings import timed


@dataclass(frozen=True, slots=True)
class RegistrationRun:
    """What the registration jobs of one :func:`build` did."""

    queued: int = 0
    """Images queued (one job each)."""
    jobs: int = 0
    """Jobs taken on (queued, resumed)."""
    failed: tuple[str, ...] = ()
    """Images whose job failed for good (``tiepoint failed --kind register``, ``inspect``)."""
    complete: bool = True
    """False if outcomes still wait in the spool for the database."""
    skipped: str | None = None
    """Why registration did not run (disabled), else None."""


@dataclass(frozen=True, slots=True)
class NetworkBuild:
    """What :func:`build` returns: the points added, the registration jobs, and the report."""

    points: PointsUpdate
    registration: RegistrationRun
    report: NetworkReport
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No match file unreadable, no registration job failed, nothing left in the spool."""
        return not self.points.failed_pairs and not self.registration.failed and self.registration.complete

    def summary_lines(self) -> list[str]:
        """What this run did, as text lines (the report follows them in ``str()``)."""
        u, reg = self.points, self.registration
        lines = [
            f"added {u.pairs} matched pairs ({u.matches:,} matches): {u.new_points:,} new points, "
            f"{u.new_measures:,} measures, {u.added_measures:,} measures added to existing points"
            + (f"; {u.stale_measures:,} measures of re-ingested images removed" if u.stale_measures else "")
        ]
        lines += [f"  match file not read for pair {key}: {msg}" for key, msg in u.failed_pairs]
        if reg.skipped:
            lines.append(f"registration: {reg.skipped}")
        else:
            lines.append(f"registration: {reg.queued} images queued, {len(reg.failed)} failed")
            lines += [f"  failed: {path}" for path in reg.failed]
            if not reg.complete:
                lines.append("  some results wait in the spool for the database")
        return lines

    def __str__(self) -> str:
        return "\n".join([*self.summary_lines(), *str(self.report).splitlines()])

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{escape(line)}</li>" for line in self.summary_lines())
        status = "ok" if self.ok else "with problems (see below)"
        return (
            '<div class="tiepoint-build">'
            f'<div style="font-size:1.1em;font-weight:bold">Network build {escape(status)}</div>'
            f"<ul>{items}</ul>{self.report._repr_html_()}</div>"
        )


def build(
    config: str | os.PathLike[str] | dict[str, Any] | Any = None,
    *,
    subpixel: bool | None = None,
    force_registration: bool = False,
    client: Any = None,
    progress: bool | str = False,
    timeout: float | None = None,
) -> NetworkBuild:
    """Build (or extend) the control network in the configured database.

    Parameters
    ----------
    config : path, dict, Config or None
        The configuration (:func:`tiepoint.config.load_config`): ``database``, ``cluster`` and the
        ``network`` section.
    subpixel : bool, optional
        Register the pending measures (default: ``network.registration.enabled``).
    force_registration : bool
        Register every measure again, from its a-priori position.
    client : distributed.Client, optional
        Run the registration jobs on this client instead of starting the configured cluster.
    progress : bool or str
        Show a progress bar while the jobs run (see :meth:`tiepoint.dispatch.JobRunner.wait`).
    timeout : float, optional
        Seconds to wait for the registration jobs at most (unfinished ones stay queued).

    Returns
    -------
    NetworkBuild
        ``str()`` gives the text ``tiepoint network`` prints; HTML in Jupyter.

    Raises
    ------
    ConfigError, DatabaseError, FeatureError
        A bad configuration, an unavailable database, an unreadable keypoint file (naming it).
    """
    from tiepoint.config import load_config
    from tiepoint.db import Database
    from tiepoint.network.points import add_points
    from tiepoint.network.report import network_report

    cfg = load_config(config)
    seconds: dict[str, float] = {}
    with timed(seconds, "points"), Database.from_config(cfg) as db:
        update = add_points(db, cfg)
    enabled = cfg.network.registration.enabled if subpixel is None else bool(subpixel)
    with timed(seconds, "registration"):
        if enabled:
            run = register(cfg, force=force_registration, client=client, progress=progress, timeout=timeout)
        else:
            why = "--no-subpixel" if subpixel is False else "network.registration.enabled is false"
            run = RegistrationRun(skipped=f"not run ({why}); measures stay pending")
    with timed(seconds, "report"), Database.from_config(cfg) as db:
        report = network_report(db)
    return NetworkBuild(update, run, report, seconds)


def register(
    config: Any = None,
    *,
    force: bool = False,
    client: Any = None,
    progress: bool | str = False,
    timeout: float | None = None,
) -> RegistrationRun:
    """Run the registration jobs of the pending measures and wait for them (see :func:`build`)."""
    from tiepoint.config import load_config
    from tiepoint.dispatch import NetworkRegistrar

    cfg = load_config(config)
    with NetworkRegistrar(cfg, client=client) as registrar:
        queued = registrar.register_pending(force=force)
        complete = registrar.wait(timeout=timeout, progress=progress)
        failed = tuple(registrar.failed_here())
        jobs = registrar.n_jobs
    return RegistrationRun(queued=len(queued), jobs=jobs, failed=failed, complete=complete)


__all__ = ["NetworkBuild", "RegistrationRun", "build", "register"]
