"""The images' ISIS serial numbers (``images.serial_number``), so exports never re-open cubes.

Nullable: rows ingested before this revision have none. Indexed (not unique: two files can hold
the same image), because importing a network maps serial numbers back to images.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # in place: a batch rebuild of the GeoPackage feature table would lose its R-tree triggers
        op.execute("ALTER TABLE images ADD COLUMN serial_number TEXT")
    else:
        op.add_column("images", sa.Column("serial_number", sa.Text))
    op.create_index("ix_images_serial_number", "images", ["serial_number"])


def downgrade() -> None:
    op.drop_index("ix_images_serial_number", table_name="images")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE images DROP COLUMN serial_number")  # SQLite >= 3.35
    else:
        op.drop_column("images", "serial_number")
