"""Database errors beyond :class:`tiepoint.errors.DatabaseError`."""

from __future__ import annotations

from tiepoint.errors import DatabaseError


class DatabaseUnavailableError(DatabaseError):
    """The database cannot be reached right now (server down, connection lost, SQLite file locked).

    The operation did not happen and may succeed later: callers holding results (the dispatcher)
    should keep them (spool) and retry, rather than mark the work failed.
    """


class PairNotFoundError(DatabaseError):
    """A pair key is not in the ``pairs`` table (an image was deleted, or the pair recomputed away).

    A match result for such a pair has nothing to be written to: callers may drop it.
    """


__all__ = ["DatabaseError", "DatabaseUnavailableError", "PairNotFoundError"]
