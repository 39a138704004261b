"""The overlap graph: ``pairs`` (one row per overlapping image pair, with its match result) and
``images.overlaps_done`` (the ``ingested`` time the image's pairs were computed for).

``pairs`` is a second GeoPackage feature table (layer ``pairs``, geometry column ``overlap``, with
its own R-tree) on SQLite and has a GiST index on PostGIS. ``overlaps_done`` is added in place
(ALTER TABLE), as in 0002: rebuilding ``images`` would cascade to its cameras and keypoints.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiepoint.db import gpkg
from tiepoint.db.types import MultiPolygonType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_STATES = "('pending', 'skipped', 'matched', 'no_matches')"


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    if dialect == "sqlite":
        op.execute("ALTER TABLE images ADD COLUMN overlaps_done DATETIME")
    else:
        op.add_column("images", sa.Column("overlaps_done", UTCDateTime()))
    op.create_index("ix_images_overlaps_done", "images", ["overlaps_done", "ingested"])
    # the stored body (the one the database was created for), not the body the opener passed
    srid = int(conn.execute(sa.text("SELECT srid FROM tiepoint_body WHERE id = 1")).scalar_one())

    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("image_a", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("image_b", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("overlap", MultiPolygonType(srid=srid), nullable=False),
        sa.Column("area_km2", sa.Double, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("computed", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("method", sa.Text),
        sa.Column("n_keypoints_a", sa.Integer),
        sa.Column("n_keypoints_b", sa.Integer),
        sa.Column("n_raw", sa.Integer),
        sa.Column("n_matches", sa.Integer),
        sa.Column("inlier_ratio", sa.Double),
        sa.Column("offset_x_m", sa.Double),
        sa.Column("offset_y_m", sa.Double),
        sa.Column("offset_z_m", sa.Double),
        sa.Column("offset_mad_m", sa.Double),
        sa.Column("stats", sa.Text),
        sa.Column("extra", sa.Text),
        sa.Column("started", UTCDateTime()),
        sa.Column("finished", UTCDateTime()),
        sa.Column("host", sa.Text),
        sa.UniqueConstraint("key", name="uq_pairs_key"),
        sa.CheckConstraint("image_a < image_b", name="ck_pairs_order"),
        sa.CheckConstraint(f"status IN {_STATES}", name="ck_pairs_status"),
        sa.CheckConstraint("area_km2 >= 0", name="ck_pairs_area"),
    )
    op.create_index("ix_pairs_image_a", "pairs", ["image_a"])
    op.create_index("ix_pairs_image_b", "pairs", ["image_b"])
    op.create_index("ix_pairs_status", "pairs", ["status"])
    if dialect == "sqlite":
        gpkg.register_feature_table(
            conn, "pairs", "overlap", "MULTIPOLYGON", srid, description="tiepoint image pair overlaps"
        )
    else:
        op.create_index("ix_pairs_overlap", "pairs", ["overlap"], postgresql_using="gist")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        gpkg.unregister_feature_table(conn, "pairs", "overlap")
    op.drop_table("pairs")
    op.drop_index("ix_images_overlaps_done", table_name="images")
    if conn.dialect.name == "sqlite":
        op.execute("ALTER TABLE images DROP COLUMN overlaps_done")  # SQLite >= 3.35
    else:
        op.drop_column("images", "overlaps_done")
