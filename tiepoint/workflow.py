"""Images in, control network out: every stage in order, on one Dask cluster, resumable.

:func:`run` is ``tiepoint run``: ingest (:class:`~tiepoint.dispatch.ImageAdder`) -> pair matching
(:class:`~tiepoint.dispatch.PairMatcher`) -> the network with sub-pixel registration
(:func:`tiepoint.network.build`) -> export (:func:`tiepoint.network.export_network`: ISIS V5 ``.net``
with its ``.lis``, or V2, PVL, ASP ``.match`` files). Each dispatched stage keeps its own ledger in the
database, so running it again after a crash, or after adding images to the folder, does only the
missing work: ingested images are skipped, only new pairs are matched, points are extended, and only
measures still pending are registered. The export is rewritten from the database every time.

>>> from tiepoint.workflow import run
>>> result = run("/data/ctx/", "cub", out="ctx.net", config="tiepoint.yml")   # doctest: +SKIP
>>> print(result)                                                              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tiepoint.config import Config, load_config
from tiepoint.timings import timed


@dataclass(frozen=True, slots=True)
class StageRun:
    """What one dispatched stage did in a :func:`run`."""

    name: str
    queued: int
    """Jobs queued by this run (images, pairs)."""
    jobs: int
    """Jobs taken on, resumed ones included."""
    failed: tuple[Any, ...] = ()
    """What failed for good (image paths, image pairs), newest jobs of this run."""
    rejected: tuple[str, ...] = ()
    """Entries that could not even be queued (not image files)."""
    complete: bool = True
    """False while results wait in the spool for the database."""
    seconds: float = 0.0

    def line(self) -> str:
        """One line for the summary."""
        text = f"{self.name}: {self.queued} queued ({self.jobs} jobs with resumed ones)"
        text += f", {len(self.failed)} failed"
        if self.rejected:
            text += f", {len(self.rejected)} not image files"
        if not self.complete:
            text += "; results wait in the spool for the database"
        return f"{text} ({self.seconds:.1f} s)"


@dataclass(frozen=True, slots=True)
class RunResult:
    """What :func:`run` did: each stage, the network build (points, registration, report), the export."""

    ingest: StageRun
    match: StageRun
    network: Any
    """The :class:`tiepoint.network.NetworkBuild` (``.points``, ``.registration``, ``.report``)."""
    exported: tuple[Path, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing waits for the database."""
        stages = (self.ingest, self.match)
        return all(not s.failed and not s.rejected and s.complete for s in stages) and bool(self.network.ok)

    @property
    def complete(self) -> bool:
        """Every result is in the database (none waits in a spool)."""
        return self.ingest.complete and self.match.complete and self.network.registration.complete

    def __str__(self) -> str:
        lines = [self.ingest.line(), self.match.line(), *str(self.network).splitlines()]
        if self.exported:
            lines.append("exported: " + ", ".join(str(p) for p in self.exported))
        lines.append("times: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<li>{escape(s.line())}</li>" for s in (self.ingest, self.match))
        files = "".join(f"<li>exported <code>{escape(str(p))}</code></li>" for p in self.exported)
        return f"<ul>{head}{files}</ul>{self.network._repr_html_()}"


def _stage(runner: Any, name: str, queue: Any, progress: bool | str) -> StageRun:
    """Queue with ``queue(runner)``, wait for every job, and describe what happened."""
    took: dict[str, float] = {}
    with timed(took, name):
        queued = queue(runner)
        complete = runner.wait(progress=progress)
    return StageRun(
        name=name,
        queued=len(queued),
        jobs=runner.n_jobs,
        failed=tuple(runner.failed_here()),
        rejected=tuple(runner.rejected),
        complete=complete,
        seconds=took[name],
    )


def run(
    source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    extension: str | None = None,
    out: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | dict[str, Any] | Config | None = None,
    *,
    force: bool = False,
    subpixel: bool | None = None,
    version: int = 5,
    format: Literal["isis", "pvl", "asp"] = "isis",
    progress: bool | str = False,
    client: Any = None,
) -> RunResult:
    """Ingest the images of *source*, match their overlapping pairs, build and register the control
    network, and export it to *out*.

    Parameters
    ----------
    source : directory, glob pattern or list of images
        As :meth:`tiepoint.dispatch.ImageAdder.add_images` takes it.
    extension : str, optional
        Image extension (``"cub"``).
    out : path, optional
        The network file (``.net``; ``.lis`` is written beside it). None: no export.
    config : path, dict, Config or None
        The configuration (:func:`tiepoint.config.load_config`).
    force : bool
        Ingest and match again what was done already (keypoints are extracted again).
    subpixel : bool, optional
        Register the measures (default: ``network.registration.enabled``).
    version, format
        The export's ISIS version (5 or 2) and format (``isis``, ``pvl`` or ``asp``).
    progress : bool or str
        Progress bars while jobs run (see :meth:`tiepoint.dispatch.JobRunner.wait`).
    client : distributed.Client, optional
        Run every stage's jobs on this client; default: one cluster as configured, started here and
        shut down at the end.

    Returns
    -------
    RunResult
        ``str()`` is what ``tiepoint run`` prints.
    """
    from tiepoint import network
    from tiepoint.db import Database
    from tiepoint.dispatch import ImageAdder, PairMatcher
    from tiepoint.dispatch.cluster import start_cluster

    cfg = load_config(config)
    cluster = None
    if client is None:
        client, cluster = start_cluster(cfg.cluster)
    seconds: dict[str, float] = {}
    try:
        with ImageAdder(cfg, client=client) as adder:
            ingest = _stage(adder, "ingest", lambda a: a.add_images(source, extension, force=force), progress)
        seconds["ingest"] = ingest.seconds
        with PairMatcher(cfg, client=client) as matcher:
            match = _stage(matcher, "match", lambda m: m.match_overlaps(force=force), progress)
        seconds["match"] = match.seconds
        with timed(seconds, "network"):
            built = network.build(cfg, subpixel=subpixel, client=client, progress=progress)
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    exported: list[Path] = []
    if out is not None:
        with timed(seconds, "export"), Database.from_config(cfg) as db:
            exported = network.export_network(db, out, version=version, format=format)
    return RunResult(ingest, match, built, tuple(exported), seconds)


__all__ = ["RunResult", "StageRun", "run"]
