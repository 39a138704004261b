"""PostGIS plumbing for the PostgreSQL backend: the extension and the body's spatial_ref_sys row."""

from __future__ import annotations

from sqlalchemy import Connection, text

from tiepoint.config import BodyConfig
from tiepoint.db.crs import body_crs


def ensure_postgis(conn: Connection) -> None:
    """Create the PostGIS extension if it is not there (needs a role allowed to create it)."""
    installed = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if installed is None:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")


def ensure_body_srid(conn: Connection, body: BodyConfig) -> None:
    """Insert the body's geographic CRS into ``spatial_ref_sys`` under ``body.srid`` if it is absent."""
    crs = body_crs(body)
    conn.execute(
        text(
            "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
            "VALUES (:srid, :org, :srid, :wkt, :proj4) ON CONFLICT (srid) DO NOTHING"
        ),
        {"srid": body.srid, "org": crs.organization, "wkt": crs.wkt, "proj4": crs.proj4},
    )
