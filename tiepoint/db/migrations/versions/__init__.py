"""Alembic revision scripts (loaded by Alembic, not imported)."""
