"""A normal (non-superuser) role on a database whose PostGIS a superuser created: what works, and what the
error says when the body's CRS cannot be registered. Uses real roles on the suite's PostgreSQL server."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tiepoint.config import BodyConfig
from tiepoint.db import Database, DatabaseError
from tiepoint.db.postgis import ensure_body_srid

pytestmark = pytest.mark.postgres


def _admin(url: str) -> psycopg.Connection:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


@pytest.fixture
def plain_role(postgres_server) -> Iterator[tuple[str, str, str]]:
    """``(admin_url, role_url, role)``: a fresh PostGIS database (extension and spatial_ref_sys owned by
    the superuser) owned by a new LOGIN role that is not a superuser."""
    admin_url = postgres_server.new_database()
    role = f"TiePoint-plain-{uuid.uuid4().hex[:8]}"  # needs quoting in SQL
    dbname = make_url(admin_url).database
    with _admin(admin_url) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO "{role}"')  # may create tables in schema public
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'spatial_ref_sys'"
        ).fetchone()
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (owner[0],)).fetchone()
        assert superuser == (True,)
    role_url = make_url(admin_url).set(username=role).render_as_string(hide_password=False)
    yield admin_url, role_url, role
    with _admin(postgres_server.url("postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _registered(admin_url: str, srid: int) -> bool:
    with _admin(admin_url) as conn:
        return conn.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (srid,)).fetchone() is not None


def test_missing_body_crs_says_what_to_grant(plain_role):
    admin_url, role_url, role = plain_role
    body = BodyConfig()
    assert not _registered(admin_url, body.srid)
    with pytest.raises(DatabaseError) as err:
        Database(role_url)
    message = str(err.value)
    assert (
        "permission denied" not in message and f"role {role} " in message and f"SRID {body.srid}" in message
    )
    said = re.search(r"in database (\S+): (GRANT INSERT ON spatial_ref_sys TO .+?;)", message)
    assert said is not None, message
    assert said.group(1) == make_url(admin_url).database
    with _admin(admin_url) as conn:  # the administrator runs what the message says ...
        conn.execute(said.group(2))
    with Database(role_url) as db:  # ... and the normal role can open (and so create) the database
        assert db.body.srid == body.srid
        assert db.execute_sql("SELECT current_user")[0][0] == role
    assert _registered(admin_url, body.srid)


def test_body_crs_already_registered_needs_no_grant(plain_role):
    """An administrator registered the CRS (as the superuser that owns spatial_ref_sys): the normal role
    opens the database without any INSERT right on spatial_ref_sys."""
    admin_url, role_url, role = plain_role
    engine = create_engine(admin_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() != role
            ensure_body_srid(conn, BodyConfig())
    finally:
        engine.dispose()
    with Database(role_url) as db:
        assert db.execute_sql("SELECT count(*) FROM images")[0][0] == 0
        assert db.execute_sql("SELECT has_table_privilege('spatial_ref_sys', 'INSERT')")[0][0] is False


def test_missing_postgis_says_what_to_run(plain_role, postgres_server):
    _, role_url, role = plain_role
    bare = f"tiepoint_bare_{uuid.uuid4().hex[:8]}"
    with _admin(postgres_server.url("postgres")) as conn:
        conn.execute(f'CREATE DATABASE "{bare}" OWNER "{role}"')  # no PostGIS in it
    try:
        with pytest.raises(DatabaseError) as err:
            Database(make_url(role_url).set(database=bare))
        assert f"PostGIS is not installed in database {bare} and role {role} may not install it" in str(
            err.value
        )
        assert str(err.value).endswith(f"in database {bare}: CREATE EXTENSION postgis;")
    finally:
        with _admin(postgres_server.url("postgres")) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{bare}" WITH (FORCE)')
