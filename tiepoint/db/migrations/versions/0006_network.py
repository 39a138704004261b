"""The control network: ``points`` (a third feature table / QGIS layer, geometry column ``geom``) and
``measures``, and ``pairs.network_done`` (which match result of a pair the network holds).

``points.reference_measure_id`` and ``measures.point_id`` refer to each other: the first key is
deferred to the end of the transaction (points and measures are written together) and set to NULL
when its measure goes. ``network_done`` is added in place (ALTER TABLE), as in 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiepoint.db import gpkg
from tiepoint.db.types import PointType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_POINT_TYPES = "('Free', 'Constrained', 'Fixed')"
_MEASURE_TYPES = "('Candidate', 'Manual', 'RegisteredPixel', 'RegisteredSubPixel')"
_SOURCES = (
    "('None', 'User', 'AverageOfMeasures', 'Reference', 'Ellipsoid', 'DEM', 'Basemap', 'BundleSolution')"
)
_STATES = (
    "('pending', 'reference', 'ok', 'masked', 'low_contrast', 'edge', 'low_ncc', 'shift_too_large', "
    "'no_consensus', 'outside')"
)
_REFERENCE_FK = "fk_points_reference_measure_id_measures"


def _reference_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["reference_measure_id"],
        ["measures.id"],
        name=_REFERENCE_FK,
        ondelete="SET NULL",
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    if dialect == "sqlite":
        op.execute("ALTER TABLE pairs ADD COLUMN network_done DATETIME")
    else:
        op.add_column("pairs", sa.Column("network_done", UTCDateTime()))
    srid = int(conn.execute(sa.text("SELECT srid FROM tiepoint_body WHERE id = 1")).scalar_one())

    # SQLite takes a key to a table created later; PostgreSQL gets it once measures exists
    reference_fk = [_reference_fk()] if dialect == "sqlite" else []
    op.create_table(
        "points",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("point_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("ignore", sa.Boolean, nullable=False),
        sa.Column("ignore_reason", sa.Text),
        sa.Column("apriori_x", sa.Double),
        sa.Column("apriori_y", sa.Double),
        sa.Column("apriori_z", sa.Double),
        sa.Column("apriori_surf_source", sa.Text),
        sa.Column("apriori_radius_source", sa.Text),
        sa.Column("apriori_method", sa.Text),
        sa.Column("height_m", sa.Double),
        sa.Column("convergence_deg", sa.Double),
        sa.Column("ray_rms_m", sa.Double),
        sa.Column("spread_m", sa.Double),
        sa.Column("reference_measure_id", sa.Integer),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("adjusted_x", sa.Double),
        sa.Column("adjusted_y", sa.Double),
        sa.Column("adjusted_z", sa.Double),
        sa.Column("geom", PointType(srid=srid)),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("point_id", name="uq_points_point_id"),
        sa.CheckConstraint(f"type IN {_POINT_TYPES}", name="ck_points_type"),
        sa.CheckConstraint(f"apriori_surf_source IN {_SOURCES}", name="ck_points_surf_source"),
        sa.CheckConstraint(f"apriori_radius_source IN {_SOURCES}", name="ck_points_radius_source"),
        sa.CheckConstraint("depth >= 0", name="ck_points_depth"),
        *reference_fk,
    )
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("point_id", sa.Integer, sa.ForeignKey("points.id", ondelete="CASCADE"), nullable=False),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("keypoint", sa.Integer, nullable=False),
        sa.Column("x", sa.Double, nullable=False),
        sa.Column("y", sa.Double, nullable=False),
        sa.Column("apriori_x", sa.Double, nullable=False),
        sa.Column("apriori_y", sa.Double, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("ignore", sa.Boolean, nullable=False),
        sa.Column("ignore_reason", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("ncc", sa.Double),
        sa.Column("ncc_second", sa.Double),
        sa.Column("shift_x", sa.Double),
        sa.Column("shift_y", sa.Double),
        sa.Column("disagreement_px", sa.Double),
        sa.Column("texture", sa.Double),
        sa.Column("emission_deg", sa.Double),
        sa.Column("resolution_m", sa.Double),
        sa.Column("sample_residual", sa.Double),
        sa.Column("line_residual", sa.Double),
        sa.Column("jigsaw_rejected", sa.Boolean, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("registered", UTCDateTime()),
        sa.UniqueConstraint("point_id", "image_id", name="uq_measures_point_image"),
        sa.UniqueConstraint("image_id", "keypoint", name="uq_measures_image_keypoint"),
        sa.CheckConstraint(f"type IN {_MEASURE_TYPES}", name="ck_measures_type"),
        sa.CheckConstraint(f"status IN {_STATES}", name="ck_measures_status"),
        sa.CheckConstraint("keypoint >= 0", name="ck_measures_keypoint"),
    )
    op.create_index("ix_measures_point_id", "measures", ["point_id"])
    # without it, SQLite checks the deferred reference key of every inserted measure with a scan of points
    op.create_index("ix_points_reference_measure_id", "points", ["reference_measure_id"])
    op.create_index("ix_measures_image_id", "measures", ["image_id"])
    if dialect == "sqlite":
        gpkg.register_feature_table(
            conn, "points", "geom", "POINT", srid, description="tiepoint control points"
        )
    else:
        op.create_foreign_key(
            _REFERENCE_FK,
            "points",
            "measures",
            ["reference_measure_id"],
            ["id"],
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        )
        op.create_index("ix_points_geom", "points", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        op.drop_constraint(_REFERENCE_FK, "points", type_="foreignkey")
    # the tables first: their implicit deletes fire the R-tree triggers, which need the R-tree
    op.drop_table("measures")
    op.drop_table("points")
    if conn.dialect.name == "sqlite":
        gpkg.unregister_feature_table(conn, "points", "geom")
        op.execute("ALTER TABLE pairs DROP COLUMN network_done")  # SQLite >= 3.35
    else:
        op.drop_column("pairs", "network_done")
