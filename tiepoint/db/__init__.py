"""The spatial database: a GeoPackage (SQLite) file or PostgreSQL + PostGIS, behind one URL.

From Python::

    from tiepoint.db import Database
    with Database("sqlite:///ctx.gpkg") as db:          # or "postgresql://user@host/dbname"
        db.write_image(record)                          # idempotent; force=True replaces
        db.images_intersecting(shapely.box(226, -1, 227, 0))
        db.overlapping_pairs()                          # [(path_a, path_b, intersection), ...]
        db.update_overlaps(config=cfg.matching.pairs)   # the pairs table, for new/re-ingested images
        db.pairs_to_match(), db.pair_counts()           # keys of pending pairs; pairs per status
        db.pair_tasks(keys, output_for=...)             # PairTask per key, for match jobs
        db.write_pair_records(records)                  # PairRecords into their pairs rows
        db.get_pair(key), db.find_pair(path_a, path_b), db.pairs_of(path)   # PairRow
        # the control network (tiepoint.db.network, tiepoint.db.registration; tiepoint.network uses them)
        db.network_pairs_to_add(), db.write_network(new, pairs)   # NewNetwork rows, in bulk
        db.network_table(point_columns, measure_columns)          # NetworkTable: column arrays
        db.images_to_register(), db.registration_tasks(paths), db.write_registrations(records)
        db.refresh_points(ids), db.drop_stale_measures(), db.apply_network_import(...)
        db.execute_sql("SELECT name FROM images WHERE lines > :n", {"n": 1000})

From SQL: tables ``images`` (geometry column ``footprint``, lon 0-360 east / planetocentric lat
in degrees, SRID = the body's: 49902, the IAU 2015 Mars ellipsoid, planetocentric), ``cameras``,
``keypoints``, ``pairs`` (geometry column ``overlap``: one row per overlapping image pair, with its
area, status and match result), ``points`` (geometry column ``geom``: the control points' lon/lat)
and ``measures`` (one per image of a point), ``jobs``, ``job_attempts``, ``dispatchers``. From QGIS:
open the ``.gpkg`` file (layers ``images``, ``pairs`` and ``points``) or add the PostGIS tables.
"""

from __future__ import annotations

from tiepoint.db.database import Database
from tiepoint.db.errors import DatabaseError, DatabaseUnavailableError, InvalidQueryError, PairNotFoundError
from tiepoint.db.models import (
    ATTEMPT_STATES,
    FAILED,
    JOB_STATES,
    PAIR_STATES,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Base,
    Camera,
    Dispatcher,
    ImageRow,
    Job,
    JobAttempt,
    KeypointSet,
    MeasureRow,
    PairRow,
    PointRow,
)
from tiepoint.db.overlaps import OverlapUpdate

__all__ = [
    "ATTEMPT_STATES",
    "FAILED",
    "JOB_STATES",
    "PAIR_STATES",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "Base",
    "Camera",
    "Database",
    "DatabaseError",
    "DatabaseUnavailableError",
    "Dispatcher",
    "ImageRow",
    "InvalidQueryError",
    "Job",
    "JobAttempt",
    "KeypointSet",
    "MeasureRow",
    "OverlapUpdate",
    "PairNotFoundError",
    "PairRow",
    "PointRow",
]
