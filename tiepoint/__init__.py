"""tiepoint: ingest planetary images into a spatial database for sparse control networks.

The pipeline, one sub-package per stage: :mod:`tiepoint.io` -> :mod:`tiepoint.camera` ->
:mod:`tiepoint.footprint` -> :mod:`tiepoint.features` -> :mod:`tiepoint.db` ->
:mod:`tiepoint.dispatch` -> :mod:`tiepoint.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ImageAdder", "__version__"]

if TYPE_CHECKING:
    from tiepoint.dispatch import ImageAdder


def __getattr__(name: str) -> Any:  # lazy: `import tiepoint` must not import dask
    if name == "ImageAdder":
        from tiepoint.dispatch import ImageAdder

        return ImageAdder
    raise AttributeError(f"module 'tiepoint' has no attribute {name!r}")
