"""Statement batching: the one place that decides how many rows or ids go into one SQL statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

ROWS_PER_STATEMENT = 500
"""Rows per multi-row INSERT/UPDATE and ids per ``IN (...)`` list: well inside SQLite's bound-variable
limit (32,766) even for wide rows, and large enough that per-statement overhead does not matter."""

IDS_PER_QUERY = 5000
"""Ids per ``IN (...)`` list of a read (one bound variable each): fewer round trips for large reads."""
ROWS_PER_BULK = 50_000
"""Rows per bulk transfer (an ``executemany`` call on SQLite, a ``COPY`` on PostgreSQL) of
:mod:`tiepoint.db.bulk`: bounds the rows held as Python tuples at a time."""

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = ROWS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    """Consecutive slices of *items*, each at most *size* long."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["IDS_PER_QUERY", "ROWS_PER_BULK", "ROWS_PER_STATEMENT", "chunks"]
