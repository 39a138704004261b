"""Dispatchers with heartbeats, and the owner of each job (``jobs.dispatcher_id``).

Jobs left queued or running by an older version have no owner and are resumed by the next
ImageAdder. On SQLite the column is added and dropped in place (ALTER TABLE): rebuilding ``jobs``
the batch way would drop it, and with it, through ``ON DELETE CASCADE``, every job attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiepoint.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatchers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started", UTCDateTime(), nullable=False),
        sa.Column("heartbeat", UTCDateTime(), nullable=False),
        sa.Column("closed", UTCDateTime()),
        sa.UniqueConstraint("token", name="uq_dispatchers_token"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE jobs ADD COLUMN dispatcher_id INTEGER REFERENCES dispatchers (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("jobs", sa.Column("dispatcher_id", sa.Integer))
        op.create_foreign_key(
            "fk_jobs_dispatcher_id", "jobs", "dispatchers", ["dispatcher_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_jobs_dispatcher_id", "jobs", ["dispatcher_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_dispatcher_id", table_name="jobs")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE jobs DROP COLUMN dispatcher_id")  # SQLite >= 3.35
    else:
        op.drop_constraint("fk_jobs_dispatcher_id", "jobs", type_="foreignkey")
        op.drop_column("jobs", "dispatcher_id")
    op.drop_table("dispatchers")
