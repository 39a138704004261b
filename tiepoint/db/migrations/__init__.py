"""Alembic migrations of the tiepoint schema, run by :class:`tiepoint.db.Database` on open."""
