"""Run jobs on a Dask cluster and keep their ledger in the database.

One generic machine, :class:`~tiepoint.dispatch.runner.JobRunner`, runs the jobs of one
:class:`~tiepoint.dispatch.kinds.JobKind` (submission, callbacks, the single database writer,
retries, attempt history, heartbeats and take-over, the spool, ``wait``, ``close``); each stage is a
thin subclass: :class:`ImageAdder` (ingest), :class:`PairMatcher` (pair matching),
:class:`NetworkRegistrar` (sub-pixel registration of the network's measures).

Modules: :mod:`~tiepoint.dispatch.runner` (JobRunner, the dispatcher thread),
:mod:`~tiepoint.dispatch.kinds` (the job kinds), :mod:`~tiepoint.dispatch.adder` (ImageAdder),
:mod:`~tiepoint.dispatch.matcher` (PairMatcher), :mod:`~tiepoint.dispatch.registrar` (NetworkRegistrar),
:mod:`~tiepoint.dispatch.attempt` (the wrapper run on workers), :mod:`~tiepoint.dispatch.cluster`
(local / scheduler / SLURM clusters), :mod:`~tiepoint.dispatch.ledger` (jobs and attempts tables),
:mod:`~tiepoint.dispatch.spool` (outcomes waiting for the database), :mod:`~tiepoint.dispatch.paths`,
:mod:`~tiepoint.dispatch.progress` (progress bars: notebook widget or HTML, rich in a terminal; the
non-blocking ``runner.progress()``), :mod:`~tiepoint.dispatch.reprs` (the runner's HTML repr in Jupyter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ImageAdder", "JobRunner", "NetworkRegistrar", "PairMatcher"]

if TYPE_CHECKING:
    from tiepoint.dispatch.adder import ImageAdder
    from tiepoint.dispatch.matcher import PairMatcher
    from tiepoint.dispatch.registrar import NetworkRegistrar
    from tiepoint.dispatch.runner import JobRunner


def __getattr__(name: str) -> Any:  # lazy: workers import tiepoint.dispatch.attempt without the database
    if name == "ImageAdder":
        from tiepoint.dispatch.adder import ImageAdder

        return ImageAdder
    if name == "PairMatcher":
        from tiepoint.dispatch.matcher import PairMatcher

        return PairMatcher
    if name == "NetworkRegistrar":
        from tiepoint.dispatch.registrar import NetworkRegistrar

        return NetworkRegistrar
    if name == "JobRunner":
        from tiepoint.dispatch.runner import JobRunner

        return JobRunner
    raise AttributeError(f"module 'tiepoint.dispatch' has no attribute {name!r}")
