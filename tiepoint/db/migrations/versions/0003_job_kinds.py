"""Jobs of several kinds: ``jobs.kind`` (``ingest``, ``match``, ...) and ``jobs.path`` renamed ``key``.

Every existing job was an ingest job keyed by its image path, so existing rows become
``kind = 'ingest'`` with the path as their key, and keep their attempts. The columns are renamed and
added in place (``ALTER TABLE``): rebuilding ``jobs`` would cascade-delete the job attempts on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_jobs_path", table_name="jobs")
    op.execute("ALTER TABLE jobs RENAME COLUMN path TO key")
    op.add_column("jobs", sa.Column("kind", sa.Text, nullable=False, server_default="ingest"))
    op.create_index("ix_jobs_kind_key", "jobs", ["kind", "key"])


def downgrade() -> None:
    # the old schema knows ingest jobs only: the others (and their attempts) go
    op.execute("DELETE FROM jobs WHERE kind <> 'ingest'")
    op.drop_index("ix_jobs_kind_key", table_name="jobs")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE jobs DROP COLUMN kind")  # SQLite >= 3.35
    else:
        op.drop_column("jobs", "kind")
    op.execute("ALTER TABLE jobs RENAME COLUMN key TO path")
    op.create_index("ix_jobs_path", "jobs", ["path"])
