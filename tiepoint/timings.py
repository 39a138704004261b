"""Step timings for job records: one helper instead of hand-written ``t0 ... t5`` in every job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(timings: dict[str, float], step: str) -> Iterator[None]:
    """Add the wall time (seconds) spent inside the block to ``timings[step]``, even if it raises.

    Examples
    --------
    >>> timings: dict[str, float] = {}
    >>> with timed(timings, "read"):
    ...     pass
    >>> sorted(timings)
    ['read']
    """
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - start


__all__ = ["timed"]
