"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TIEPOINT_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared data folder (../shared beside the repository)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED}; set TIEPOINT_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def ctx_isd_dir(shared_dir: Path) -> Path:
    """Folder of the real CTX ISDs."""
    return shared_dir / "data" / "isd" / "ctx"


@pytest.fixture(scope="session")
def cube_dir(shared_dir: Path) -> Path:
    """Folder of the real ISIS3 cubes."""
    return shared_dir / "data" / "cubes"


# -- databases (tiepoint.db) -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL + PostGIS server for the whole session (started here, or $TIEPOINT_TEST_DATABASE_URL).

    ``postgres_server.new_database()`` returns the URL of a new empty database with PostGIS.
    """
    from pg_server import LocalPostgres, server_for_tests

    try:
        server = server_for_tests()
    except RuntimeError as exc:
        pytest.fail(f"cannot start the test PostgreSQL server: {exc}")
    yield server
    if isinstance(server, LocalPostgres):
        server.stop(remove=True)
    else:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """URL (``postgresql+psycopg://...``) of a fresh, empty PostGIS database for one test."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> str:
    """A fresh database URL, once for a GeoPackage file and once for a PostGIS database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tiepoint.gpkg'}"
    return request.getfixturevalue("postgres_url")
