"""Alembic environment: runs only on the connection :class:`tiepoint.db.Database` hands it.

Revisions read the target body from ``config.attributes["body"]`` (a BodyConfig).
"""

from __future__ import annotations

from alembic import context

from tiepoint.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tiepoint migrations run through tiepoint.db.Database, which passes a connection")

if connection.dialect.name == "sqlite":
    # Alembic would declare version_num VARCHAR(32), a type GeoPackage readers (GDAL) warn about.
    connection.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS alembic_version "
        "(version_num TEXT NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
