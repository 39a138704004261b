"""The spatial database: a GeoPackage (SQLite) file or PostgreSQL + PostGIS, behind one URL.

>>> from tiepoint.db import Database  # doctest: +SKIP
>>> db = Database("sqlite:///ctx.gpkg")  # doctest: +SKIP
"""

from __future__ import annotations

from tiepoint.db.database import Database
from tiepoint.db.errors import DatabaseError, DatabaseUnavailableError
from tiepoint.db.models import ATTEMPT_STATES, JOB_STATES, Base, Camera, Image, Job, JobAttempt, KeypointSet

__all__ = [
    "ATTEMPT_STATES",
    "JOB_STATES",
    "Base",
    "Camera",
    "Database",
    "DatabaseError",
    "DatabaseUnavailableError",
    "Image",
    "Job",
    "JobAttempt",
    "KeypointSet",
]
