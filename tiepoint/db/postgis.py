"""PostGIS plumbing for the PostgreSQL backend: the extension and the body's spatial_ref_sys row.

A database's PostGIS is usually created by a superuser, who then owns ``spatial_ref_sys``; a normal role
reads it but may not add rows. The body's CRS is therefore only inserted when it is missing, and a role
that may not insert it gets an error saying what an administrator must run.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from tiepoint.config import BodyConfig
from tiepoint.db.crs import body_crs
from tiepoint.db.errors import DatabaseError

_INSUFFICIENT_PRIVILEGE = "42501"


def _denied(exc: ProgrammingError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE


def _who(conn: Connection) -> tuple[str, str]:
    user, database = conn.execute(text("SELECT current_user, current_database()")).one()
    return str(user), str(database)


def ensure_postgis(conn: Connection) -> None:
    """Create the PostGIS extension if it is not there (needs a role allowed to create it).

    Raises
    ------
    DatabaseError
        The role may not create it; the message says what an administrator must run.
    """
    installed = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if installed is not None:
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    except ProgrammingError as exc:
        if not _denied(exc):
            raise
        user, database = _who(conn)
        raise DatabaseError(
            f"PostGIS is not installed in database {database} and role {user} may not install it: "
            f"ask an administrator to run, in database {database}: CREATE EXTENSION postgis;"
        ) from None


def ensure_body_srid(conn: Connection, body: BodyConfig) -> None:
    """Insert the body's geographic CRS into ``spatial_ref_sys`` under ``body.srid`` if it is absent.

    Raises
    ------
    DatabaseError
        The row is missing and the role may not insert it (``spatial_ref_sys`` belongs to whoever created
        PostGIS); the message gives the ``GRANT`` an administrator must run.
    """
    present = conn.execute(
        text("SELECT 1 FROM spatial_ref_sys WHERE srid = :srid"), {"srid": body.srid}
    ).first()
    if present is not None:
        return
    crs = body_crs(body)
    try:
        with conn.begin_nested():
            conn.execute(
                text(
                    "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                    "VALUES (:srid, :org, :srid, :wkt, :proj4) ON CONFLICT (srid) DO NOTHING"
                ),
                {"srid": body.srid, "org": crs.organization, "wkt": crs.wkt, "proj4": crs.proj4},
            )
    except ProgrammingError as exc:
        if not _denied(exc):
            raise
        user, database = _who(conn)
        role = conn.dialect.identifier_preparer.quote(user)
        raise DatabaseError(
            f"role {user} may not register the CRS of {body.name} (SRID {body.srid}) in PostGIS's "
            f"spatial_ref_sys, which belongs to the role that created PostGIS: ask an administrator to run, "
            f"in database {database}: GRANT INSERT ON spatial_ref_sys TO {role};  (needed once: the grant "
            "may be revoked after the database has been opened)"
        ) from None
