"""tiepoint: planetary images in, a control network out.

The pipeline, one sub-package per stage: :mod:`tiepoint.io` -> :mod:`tiepoint.camera` ->
:mod:`tiepoint.footprint` -> :mod:`tiepoint.features` -> :mod:`tiepoint.matching` ->
:mod:`tiepoint.network` -> :mod:`tiepoint.cnet`, with :mod:`tiepoint.db` (the spatial database),
:mod:`tiepoint.dispatch` (jobs on a Dask cluster) and :mod:`tiepoint.cli` serving every stage.
The dispatched stages: :class:`ImageAdder` (ingest) and :class:`PairMatcher` (pair matching).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ImageAdder", "PairMatcher", "__version__"]

if TYPE_CHECKING:
    from tiepoint.dispatch import ImageAdder, PairMatcher


def __getattr__(name: str) -> Any:  # lazy: `import tiepoint` must not import dask
    if name in ("ImageAdder", "PairMatcher"):
        import tiepoint.dispatch

        return getattr(tiepoint.dispatch, name)
    raise AttributeError(f"module 'tiepoint' has no attribute {name!r}")
