"""The spatial database: a GeoPackage (SQLite) file or PostgreSQL + PostGIS, behind one URL.

From Python::

    from tiepoint.db import Database
    with Database("sqlite:///ctx.gpkg") as db:          # or "postgresql://user@host/dbname"
        db.write_image(record)                          # idempotent; force=True replaces
        db.images_intersecting(shapely.box(226, -1, 227, 0))
        db.overlapping_pairs()                          # [(path_a, path_b, intersection), ...]
        db.execute_sql("SELECT name FROM images WHERE lines > :n", {"n": 1000})

From SQL: tables ``images`` (geometry column ``footprint``, lon 0-360 east / planetocentric lat
in degrees, SRID = the body's: 49902, the IAU 2015 Mars ellipsoid, planetocentric), ``cameras``,
``keypoints``, ``jobs``, ``job_attempts``, ``dispatchers``. From QGIS: open the ``.gpkg`` file
(layer ``images``) or add the PostGIS table.
"""

from __future__ import annotations

from tiepoint.db.database import Database
from tiepoint.db.errors import DatabaseError, DatabaseUnavailableError, InvalidQueryError
from tiepoint.db.models import (
    ATTEMPT_STATES,
    JOB_STATES,
    Base,
    Camera,
    Dispatcher,
    ImageRow,
    Job,
    JobAttempt,
    KeypointSet,
)

__all__ = [
    "ATTEMPT_STATES",
    "JOB_STATES",
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
]
