"""Initial schema: images (GeoPackage layer / PostGIS table), cameras, keypoints, jobs, job_attempts.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiepoint.config import BodyConfig
from tiepoint.db import gpkg, postgis
from tiepoint.db.types import MultiPolygonType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _body() -> BodyConfig:
    return op.get_context().config.attributes.get("body") or BodyConfig()


def upgrade() -> None:
    body = _body()
    conn = op.get_bind()
    dialect = conn.dialect.name
    if dialect == "sqlite":
        gpkg.create_core_tables(conn, body)
    elif dialect == "postgresql":
        postgis.ensure_postgis(conn)
        postgis.ensure_body_srid(conn, body)

    op.create_table(
        "tiepoint_body",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("srid", sa.Integer, nullable=False),
        sa.Column("semimajor", sa.Float(53), nullable=False),
        sa.Column("semiminor", sa.Float(53), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_tiepoint_body_single_row"),
    )
    op.bulk_insert(
        sa.table(
            "tiepoint_body",
            sa.column("id"),
            sa.column("name"),
            sa.column("srid"),
            sa.column("semimajor"),
            sa.column("semiminor"),
        ),
        [dict(id=1, name=body.name, srid=body.srid, semimajor=body.semimajor, semiminor=body.semiminor)],
    )

    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("bands", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("footprint", MultiPolygonType(srid=body.srid), nullable=False),
        sa.Column("footprint_xyz", MultiPolygonType(srid=None, has_z=True)),
        sa.Column("ingested", UTCDateTime(), nullable=False),
        sa.Column("started", UTCDateTime()),
        sa.Column("finished", UTCDateTime()),
        sa.Column("host", sa.Text),
        sa.Column("extra", sa.Text),
        sa.UniqueConstraint("path", name="uq_images_path"),
        sa.CheckConstraint("lines > 0 AND samples > 0 AND bands > 0", name="ck_images_dimensions"),
    )
    op.create_index("ix_images_name", "images", ["name"])
    if dialect == "sqlite":
        gpkg.register_feature_table(conn, "images", "footprint", "MULTIPOLYGON", body.srid)
    elif dialect == "postgresql":
        op.create_index("ix_images_footprint", "images", ["footprint"], postgresql_using="gist")

    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.UniqueConstraint("image_id", name="uq_cameras_image_id"),
    )
    op.create_table(
        "keypoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("extractor", sa.Text, nullable=False),
        sa.Column("bbox_xmin", sa.Float(53)),
        sa.Column("bbox_ymin", sa.Float(53)),
        sa.Column("bbox_xmax", sa.Float(53)),
        sa.Column("bbox_ymax", sa.Float(53)),
        sa.UniqueConstraint("image_id", name="uq_keypoints_image_id"),
        sa.CheckConstraint("count >= 0", name="ck_keypoints_count"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("force", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("state", sa.Text, nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("maxfailures", sa.Integer, nullable=False, server_default="3"),
        sa.Column("submitted", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="SET NULL")),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed')", name="ck_jobs_state"),
        sa.CheckConstraint("attempts >= 0", name="ck_jobs_attempts"),
    )
    op.create_index("ix_jobs_path", "jobs", ["path"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="running"),
        sa.Column("host", sa.Text),
        sa.Column("worker", sa.Text),
        sa.Column("started", UTCDateTime(), nullable=False),
        sa.Column("finished", UTCDateTime()),
        sa.Column("error_type", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("log", sa.Text),
        sa.UniqueConstraint("job_id", "number", name="uq_job_attempts_job_number"),
        sa.CheckConstraint("state IN ('running', 'succeeded', 'failed')", name="ck_job_attempts_state"),
    )
    op.create_index("ix_job_attempts_job_id", "job_attempts", ["job_id"])


def downgrade() -> None:
    conn = op.get_bind()
    for table in ("job_attempts", "jobs", "keypoints", "cameras"):
        op.drop_table(table)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TABLE IF EXISTS rtree_images_footprint")
        for table in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE table_name = 'images'")
    op.drop_table("images")
    op.drop_table("tiepoint_body")
