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


class InvalidQueryError(DatabaseError, ValueError):
    """A query argument no stored value can match, refused before it reaches the backend.

    For example a name pattern or path with a NUL byte: SQLite would cut the text at the NUL (a pattern
    ``"a\\0*"`` matching every image) while PostgreSQL refuses it; both backends give this error instead.
    """


__all__ = ["DatabaseError", "DatabaseUnavailableError", "InvalidQueryError", "PairNotFoundError"]
