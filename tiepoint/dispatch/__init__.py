"""Run ingest jobs on a Dask cluster and keep their ledger: :class:`ImageAdder`.

Modules: :mod:`~tiepoint.dispatch.adder` (ImageAdder, the dispatcher thread),
:mod:`~tiepoint.dispatch.attempt` (the wrapper run on workers), :mod:`~tiepoint.dispatch.cluster`
(local / scheduler / SLURM clusters), :mod:`~tiepoint.dispatch.ledger` (jobs and attempts tables),
:mod:`~tiepoint.dispatch.spool` (outcomes waiting for the database), :mod:`~tiepoint.dispatch.paths`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ImageAdder"]

if TYPE_CHECKING:
    from tiepoint.dispatch.adder import ImageAdder


def __getattr__(name: str) -> Any:  # lazy: workers import tiepoint.dispatch.attempt without the database
    if name == "ImageAdder":
        from tiepoint.dispatch.adder import ImageAdder

        return ImageAdder
    raise AttributeError(f"module 'tiepoint.dispatch' has no attribute {name!r}")
