"""SQLAlchemy 2 models of the tiepoint database.

Tables: ``images`` (the GeoPackage feature table / QGIS layer, geometry column ``footprint``),
``cameras`` and ``keypoints`` (one each per image), ``pairs`` (one row per overlapping image pair,
a second feature table / QGIS layer, geometry column ``overlap``, with the pair's match result),
``points`` and ``measures`` (the control network: a third feature table / QGIS layer, geometry column
``geom``, the points' lon/lat; one measure per image of a point, see :class:`PointRow`),
``jobs`` (one row per job submission),
``job_attempts`` (one row per try of a job) and ``dispatchers`` (one row per ImageAdder, with its
heartbeat; a job's ``dispatcher_id`` names the one that owns it). All datetimes are timezone-aware UTC.

The schema itself is created by the Alembic migrations in :mod:`tiepoint.db.migrations`; these
classes must stay in step with them.
"""

from __future__ import annotations

import json
from datetime import datetime

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tiepoint.db.types import MultiPolygonType, PointType, UTCDateTime
from tiepoint.records import PairRecord

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
"""The states of jobs and attempts: a job goes ``queued -> running -> succeeded | failed``."""
JOB_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
"""Allowed ``Job.state`` values."""
ATTEMPT_STATES = (RUNNING, SUCCEEDED, FAILED)
"""Allowed ``JobAttempt.state`` values."""
PAIR_STATES = ("pending", "skipped", "matched", "no_matches")
"""Allowed ``PairRow.status`` values: not matched yet; left out by ``matching.pairs.max_neighbours``;
matched with at least one verified match; matched with none."""


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL ``column IN ('a', 'b')`` for a check constraint."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


POINT_TYPES = ("Free", "Constrained", "Fixed")
"""``PointRow.type``: ISIS control point types."""
MEASURE_TYPES = ("Candidate", "Manual", "RegisteredPixel", "RegisteredSubPixel")
"""``MeasureRow.type``: ISIS control measure types."""
APRIORI_SOURCES = ("None", "User", "AverageOfMeasures", "Reference", "Ellipsoid", "DEM", "Basemap",
                   "BundleSolution")  # fmt: skip
"""ISIS a-priori surface point and radius sources (``PointRow.apriori_surf_source``, ``...radius...``)."""
REGISTRATION_STATES = (
    "pending",
    "reference",
    "ok",
    "masked",
    "low_contrast",
    "edge",
    "low_ncc",
    "shift_too_large",
    "no_consensus",
    "outside",
)
"""``MeasureRow.status``: ``pending`` (not registered yet), ``reference`` (the point's reference measure,
never registered), or the outcome of the last registration (``tiepoint.network.STATUSES``)."""

IMAGES_TABLE = "images"
FOOTPRINT_COLUMN = "footprint"
PAIRS_TABLE = "pairs"
OVERLAP_COLUMN = "overlap"
POINTS_TABLE = "points"
POINT_GEOMETRY_COLUMN = "geom"
MEASURES_TABLE = "measures"


class Base(DeclarativeBase):
    """Declarative base of all tiepoint tables."""


class ImageRow(Base):
    """One ingested image and its footprints."""

    __tablename__ = IMAGES_TABLE
    __table_args__ = (
        CheckConstraint("lines > 0 AND samples > 0 AND bands > 0", name="ck_images_dimensions"),
        # PostGIS GiST index; the GeoPackage uses its R-tree (rtree_images_footprint) instead.
        Index("ix_images_footprint", "footprint", postgresql_using="gist").ddl_if(dialect="postgresql"),
        # covers the "pairs not current" scan (overlaps_done IS NULL OR overlaps_done <> ingested)
        Index("ix_images_overlaps_done", "overlaps_done", "ingested"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text, index=True)
    product_id: Mapped[str | None] = mapped_column(Text)
    serial_number: Mapped[str | None] = mapped_column(Text, index=True)
    """ISIS serial number (``tiepoint.cnet.serial_number``): how control networks name the image."""
    lines: Mapped[int] = mapped_column(Integer)
    samples: Mapped[int] = mapped_column(Integer)
    bands: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(Text)
    footprint: Mapped[MultiPolygon] = mapped_column(MultiPolygonType())
    """Lat/lon footprint: x = positive-east longitude (degrees), y = planetocentric latitude."""
    footprint_xyz: Mapped[MultiPolygon | None] = mapped_column(MultiPolygonType(has_z=True))
    """Body-fixed footprint in metres (MultiPolygon Z)."""
    ingested: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the row was (last) written."""
    started: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the ingest job that produced the row started on its worker."""
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str | None] = mapped_column(Text)
    """JSON text of :attr:`tiepoint.records.ImageRecord.extra`."""
    overlaps_done: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The ``ingested`` time of the footprint this image's pairs were computed from; NULL: not yet.

    The image's rows in ``pairs`` are current when it equals ``ingested`` (a forced re-ingest
    changes ``ingested``); see :meth:`tiepoint.db.Database.update_overlaps`."""

    camera: Mapped[Camera | None] = relationship(
        back_populates="image", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )
    keypoints: Mapped[KeypointSet | None] = relationship(
        back_populates="image", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"ImageRow(id={self.id!r}, path={self.path!r})"


SRID_INFO_KEY = "tiepoint_srid"
"""Key of the body SRID in ``Connection.info``, set by :class:`tiepoint.db.Database` on checkout."""


@event.listens_for(ImageRow, "before_insert")
@event.listens_for(ImageRow, "before_update")
def _stamp_body_srid(mapper, connection, target: ImageRow) -> None:
    """Give a footprint assigned through the ORM without an SRID the database body's SRID."""
    srid = connection.info.get(SRID_INFO_KEY)
    geom = target.footprint
    if srid and isinstance(geom, BaseGeometry) and shapely.get_srid(geom) == 0:
        target.footprint = shapely.set_srid(geom, srid)


class Camera(Base):
    """The camera model of one image: CSM model name and the JSON state it is rebuilt from."""

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    model_name: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)

    image: Mapped[ImageRow] = relationship(back_populates="camera")


class KeypointSet(Base):
    """Where an image's keypoints are (HDF5 file), how many, which extractor, their pixel bbox."""

    __tablename__ = "keypoints"
    __table_args__ = (CheckConstraint("count >= 0", name="ck_keypoints_count"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    path: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    extractor: Mapped[str] = mapped_column(Text)
    bbox_xmin: Mapped[float | None] = mapped_column(Float)
    bbox_ymin: Mapped[float | None] = mapped_column(Float)
    bbox_xmax: Mapped[float | None] = mapped_column(Float)
    bbox_ymax: Mapped[float | None] = mapped_column(Float)

    image: Mapped[ImageRow] = relationship(back_populates="keypoints")

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """(x_min, y_min, x_max, y_max) or None."""
        if self.bbox_xmin is None:
            return None
        return (self.bbox_xmin, self.bbox_ymin, self.bbox_xmax, self.bbox_ymax)  # type: ignore[return-value]


class PairRow(Base):
    """Two images whose footprints overlap, the overlap, and (once matched) the match result.

    ``image_a`` is the smaller image id; ``key`` is :func:`tiepoint.records.pair_key` of the two.
    The result columns are those of :class:`tiepoint.records.PairRecord` and stay NULL while the
    pair is ``pending`` or ``skipped``. Deleting either image deletes the pair.
    """

    __tablename__ = PAIRS_TABLE
    __table_args__ = (
        CheckConstraint("image_a < image_b", name="ck_pairs_order"),
        CheckConstraint(_in("status", PAIR_STATES), name="ck_pairs_status"),
        CheckConstraint("area_km2 >= 0", name="ck_pairs_area"),
        # PostGIS GiST index; the GeoPackage uses its R-tree (rtree_pairs_overlap) instead.
        Index("ix_pairs_overlap", OVERLAP_COLUMN, postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    image_a: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    image_b: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    overlap: Mapped[MultiPolygon] = mapped_column(MultiPolygonType())
    """Intersection of the two lat/lon footprints (lon E, planetocentric lat, degrees)."""
    area_km2: Mapped[float] = mapped_column(Double)
    """Area of the overlap on the body's ellipsoid."""
    status: Mapped[str] = mapped_column(Text, index=True, default="pending")
    """One of :data:`PAIR_STATES`."""
    computed: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the overlap was computed."""
    updated: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the row was last written (overlap, status or match result)."""
    path: Mapped[str | None] = mapped_column(Text)
    """The match file."""
    method: Mapped[str | None] = mapped_column(Text)
    n_keypoints_a: Mapped[int | None] = mapped_column(Integer)
    n_keypoints_b: Mapped[int | None] = mapped_column(Integer)
    n_raw: Mapped[int | None] = mapped_column(Integer)
    n_matches: Mapped[int | None] = mapped_column(Integer)
    inlier_ratio: Mapped[float | None] = mapped_column(Double)
    """NULL when there were no raw matches (the record's NaN)."""
    offset_x_m: Mapped[float | None] = mapped_column(Double)
    """Robust body-fixed ground offset b - a of the verified matches (metres); NULL in image space."""
    offset_y_m: Mapped[float | None] = mapped_column(Double)
    offset_z_m: Mapped[float | None] = mapped_column(Double)
    offset_mad_m: Mapped[float | None] = mapped_column(Double)
    stats: Mapped[str | None] = mapped_column(Text)
    """JSON text of :attr:`tiepoint.records.PairRecord.stats`."""
    extra: Mapped[str | None] = mapped_column(Text)
    """JSON text of :attr:`tiepoint.records.PairRecord.extra`."""
    started: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str | None] = mapped_column(Text)
    network_done: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The ``finished`` time of the match result whose matches are in the network (points and
    measures); NULL: not added yet. The pair's matches are added again when it differs."""

    image_row_a: Mapped[ImageRow] = relationship(foreign_keys=[image_a], viewonly=True)
    image_row_b: Mapped[ImageRow] = relationship(foreign_keys=[image_b], viewonly=True)

    def __repr__(self) -> str:
        return f"PairRow(key={self.key!r}, area_km2={self.area_km2!r}, status={self.status!r})"

    def to_record(self) -> PairRecord | None:
        """The stored match result as a :class:`~tiepoint.records.PairRecord`; None if not matched yet.

        Needs ``image_row_a`` and ``image_row_b`` loaded (the :class:`~tiepoint.db.Database` pair
        lookups load them).
        """
        if self.status not in ("matched", "no_matches"):
            return None
        offsets = (self.offset_x_m, self.offset_y_m, self.offset_z_m)
        return PairRecord(
            key=self.key,
            image_a=self.image_row_a.path,
            image_b=self.image_row_b.path,
            path=self.path or "",
            method=self.method or "",
            n_keypoints_a=self.n_keypoints_a or 0,
            n_keypoints_b=self.n_keypoints_b or 0,
            n_raw=self.n_raw or 0,
            n_matches=self.n_matches or 0,
            inlier_ratio=float("nan") if self.inlier_ratio is None else self.inlier_ratio,
            offset_m=None if None in offsets else offsets,  # type: ignore[arg-type]
            offset_mad_m=self.offset_mad_m,
            stats=json.loads(self.stats) if self.stats else {},
            started=self.started,
            finished=self.finished,
            host=self.host,
            extra=json.loads(self.extra) if self.extra else {},
        )


class PointRow(Base):
    """One control point: a ground point measured in two or more images.

    ``point_id`` is the id networks know it by (ISIS ``PointId``). The a-priori ground point is
    body-fixed metres with its ISIS sources; ``apriori_method`` says how tiepoint made it
    (``rays``, ``average_of_measures``, ``none``: :data:`tiepoint.network.SOURCES`). ``geom`` is the
    point's lon/lat in the body's CRS (the adjusted point once a bundle adjustment was imported, else
    the a-priori one), so QGIS shows the points over the footprints. ``depth`` counts its measures.
    ``ignore`` with ``ignore_reason`` flags a point left with fewer than two good measures (never
    deleted). ``reference_measure_id`` is the measure every other one is registered to.
    """

    __tablename__ = POINTS_TABLE
    __table_args__ = (
        CheckConstraint(_in("type", POINT_TYPES), name="ck_points_type"),
        CheckConstraint(_in("apriori_surf_source", APRIORI_SOURCES), name="ck_points_surf_source"),
        CheckConstraint(_in("apriori_radius_source", APRIORI_SOURCES), name="ck_points_radius_source"),
        CheckConstraint("depth >= 0", name="ck_points_depth"),
        # PostGIS GiST index; the GeoPackage uses its R-tree (rtree_points_geom) instead.
        Index("ix_points_geom", POINT_GEOMETRY_COLUMN, postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[str] = mapped_column(Text, unique=True)
    type: Mapped[str] = mapped_column(Text, default="Free")
    ignore: Mapped[bool] = mapped_column(Boolean, default=False)
    ignore_reason: Mapped[str | None] = mapped_column(Text)
    apriori_x: Mapped[float | None] = mapped_column(Double)
    """A-priori ground point, body-fixed metres (NULL: no measure's ray reaches the body)."""
    apriori_y: Mapped[float | None] = mapped_column(Double)
    apriori_z: Mapped[float | None] = mapped_column(Double)
    apriori_surf_source: Mapped[str | None] = mapped_column(Text)
    """ISIS ``AprioriSurfacePointSource`` name: ``User`` (ray intersection), ``AverageOfMeasures``."""
    apriori_radius_source: Mapped[str | None] = mapped_column(Text)
    apriori_method: Mapped[str | None] = mapped_column(Text)
    height_m: Mapped[float | None] = mapped_column(Double)
    """Height of the a-priori point above the ellipsoid (m)."""
    convergence_deg: Mapped[float | None] = mapped_column(Double)
    ray_rms_m: Mapped[float | None] = mapped_column(Double)
    spread_m: Mapped[float | None] = mapped_column(Double)
    """Largest distance of a measure's (offset-corrected) keypoint ground position from their mean."""
    reference_measure_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "measures.id",
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
            use_alter=True,
            name="fk_points_reference_measure_id_measures",
        ),
        index=True,  # foreign-key checks look points up by it when measures are inserted or deleted
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)
    adjusted_x: Mapped[float | None] = mapped_column(Double)
    """Adjusted ground point from an imported bundle adjustment (``jigsaw``), body-fixed metres."""
    adjusted_y: Mapped[float | None] = mapped_column(Double)
    adjusted_z: Mapped[float | None] = mapped_column(Double)
    geom: Mapped[BaseGeometry | None] = mapped_column(PointType())
    """Lon/lat (degrees; the footprints' longitude domain) of the adjusted, else the a-priori point."""
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"PointRow(point_id={self.point_id!r}, depth={self.depth!r}, ignore={self.ignore!r})"


class MeasureRow(Base):
    """One measure: where a control point is in one image (OpenCV pixel convention, tiepoint.pixels).

    ``x, y`` is the current position (registered, else the a-priori one); ``apriori_x, apriori_y``
    is the keypoint (feature) position registration starts from, always kept. ``status`` is
    :data:`REGISTRATION_STATES`; a measure whose registration failed keeps its a-priori position and
    is ignored with the status as ``ignore_reason``. The database enforces one measure per image per
    point (``uq_measures_point_image``) and one point per keypoint (``uq_measures_image_keypoint``).
    """

    __tablename__ = MEASURES_TABLE
    __table_args__ = (
        UniqueConstraint("point_id", "image_id", name="uq_measures_point_image"),
        UniqueConstraint("image_id", "keypoint", name="uq_measures_image_keypoint"),
        CheckConstraint(_in("type", MEASURE_TYPES), name="ck_measures_type"),
        CheckConstraint(_in("status", REGISTRATION_STATES), name="ck_measures_status"),
        CheckConstraint("keypoint >= 0", name="ck_measures_keypoint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    keypoint: Mapped[int] = mapped_column(Integer)
    """Row of the measure's keypoint in its image's keypoint file."""
    x: Mapped[float] = mapped_column(Double)
    y: Mapped[float] = mapped_column(Double)
    apriori_x: Mapped[float] = mapped_column(Double)
    apriori_y: Mapped[float] = mapped_column(Double)
    type: Mapped[str] = mapped_column(Text, default="Candidate")
    ignore: Mapped[bool] = mapped_column(Boolean, default=False)
    ignore_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending")
    ncc: Mapped[float | None] = mapped_column(Double)
    """Correlation peak of the first template (``WholePixelCorrelation`` / ``SubPixelCorrelation``)."""
    ncc_second: Mapped[float | None] = mapped_column(Double)
    shift_x: Mapped[float | None] = mapped_column(Double)
    """Registered minus a-priori position (px), where registration found a peak."""
    shift_y: Mapped[float | None] = mapped_column(Double)
    disagreement_px: Mapped[float | None] = mapped_column(Double)
    texture: Mapped[float | None] = mapped_column(Double)
    emission_deg: Mapped[float | None] = mapped_column(Double)
    resolution_m: Mapped[float | None] = mapped_column(Double)
    """Ground size of a pixel there (m, square root of the pixel's footprint area)."""
    sample_residual: Mapped[float | None] = mapped_column(Double)
    """Bundle-adjustment residuals (px) from an imported network."""
    line_residual: Mapped[float | None] = mapped_column(Double)
    jigsaw_rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    registered: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"MeasureRow(point_id={self.point_id!r}, image_id={self.image_id!r}, status={self.status!r})"


class Dispatcher(Base):
    """One ImageAdder's dispatcher: where it runs and when it last showed it is alive.

    It refreshes ``heartbeat`` every few seconds and sets ``closed`` when it stops; the jobs it owns
    (``Job.dispatcher_id``) are resumed by another dispatcher once it is closed, silent for too
    long, or (seen from its own host) its process is gone.
    """

    __tablename__ = "dispatchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(Text, unique=True)
    """Random identifier, unique across hosts and restarts."""
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    started: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat: Mapped[datetime] = mapped_column(UTCDateTime())
    closed: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"Dispatcher(id={self.id!r}, host={self.host!r}, pid={self.pid!r}, closed={self.closed!r})"


class Job(Base):
    """One request to run a job of some kind on one key (a key may be submitted many times).

    The kind says what the job does (``ingest``: an image; ``match``: an image pair, ...); the key
    names its subject within the kind (the image path; the pair key of
    :func:`tiepoint.records.pair_key`).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("state", JOB_STATES), name="ck_jobs_state"),
        CheckConstraint("attempts >= 0", name="ck_jobs_attempts"),
        Index("ix_jobs_kind_key", "kind", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, server_default="ingest")
    key: Mapped[str] = mapped_column(Text)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(Text, index=True, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    maxfailures: Mapped[int] = mapped_column(Integer, default=3)
    submitted: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime())
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    """The image an ingest job wrote (other kinds find their result by key)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatcher_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispatchers.id", ondelete="SET NULL"), index=True
    )
    """The dispatcher that owns the job while it is queued or running (the last one, after)."""

    attempt_rows: Mapped[list[JobAttempt]] = relationship(
        back_populates="job",
        order_by="JobAttempt.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return (
            f"Job(id={self.id!r}, kind={self.kind!r}, key={self.key!r}, state={self.state!r}, "
            f"attempts={self.attempts!r})"
        )


class JobAttempt(Base):
    """One try of a job on a worker: when, where, and how it ended."""

    __tablename__ = "job_attempts"
    __table_args__ = (
        UniqueConstraint("job_id", "number", name="uq_job_attempts_job_number"),
        CheckConstraint(_in("state", ATTEMPT_STATES), name="ck_job_attempts_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    """1 for the first try."""
    state: Mapped[str] = mapped_column(Text, default=RUNNING)
    host: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(Text)
    """The Dask worker's address, once the outcome is recorded."""
    started: Mapped[datetime] = mapped_column(UTCDateTime())
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(back_populates="attempt_rows")
