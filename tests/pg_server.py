"""A throwaway PostgreSQL + PostGIS server for the test suite (or an existing one named by a URL).

:class:`LocalPostgres` runs ``initdb`` and ``pg_ctl`` (as the ``postgres`` system user when the
tests run as root, since initdb refuses root) on a data folder in a temporary directory, listening
only on 127.0.0.1 at a free port chosen at run time and on a Unix socket in that directory.
:class:`ExternalPostgres` uses the server ``$TIEPOINT_TEST_DATABASE_URL`` points to (its role needs
CREATEDB, and PostGIS must be installable there). Both hand out fresh databases with
:meth:`new_database`, cloned from a template that already has PostGIS.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ENV_URL = "TIEPOINT_TEST_DATABASE_URL"
ENV_BINDIR = "TIEPOINT_PG_BINDIR"
TEMPLATE = "tiepoint_test_template"


def find_bindir() -> Path:
    """The PostgreSQL server binaries: ``$TIEPOINT_PG_BINDIR``, the newest Debian install, or PATH."""
    if os.environ.get(ENV_BINDIR):
        return Path(os.environ[ENV_BINDIR])
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    if debian:
        return debian[0].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 and "
        f"postgresql-15-postgis-3, set {ENV_BINDIR}, or set {ENV_URL} to an existing server"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """What both server kinds share: URLs and fresh databases from a PostGIS template."""

    def url(self, dbname: str) -> str:
        raise NotImplementedError

    def _admin(self) -> psycopg.Connection:
        conninfo = make_url(self.url(self.admin_db)).set(drivername="postgresql")
        return psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)

    admin_db = "postgres"
    _created: list[str]

    def _ensure_template(self) -> None:
        with self._admin() as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone():
                return
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
            self._created.append(TEMPLATE)
        conninfo = make_url(self.url(TEMPLATE)).set(drivername="postgresql")
        with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def new_database(self, prefix: str = "tiepoint_test") -> str:
        """Create an empty database with PostGIS installed and return its SQLAlchemy URL."""
        self._ensure_template()
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        self._created.append(name)
        return self.url(name)

    def drop_databases(self) -> None:
        """Drop the databases this object created (newest first)."""
        with self._admin() as conn:
            for name in reversed(self._created):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()


class ExternalPostgres(_Server):
    """An existing server; databases are created beside the URL's database and dropped at the end."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self.admin_db = self._url.database or "postgres"
        self._created = []

    def url(self, dbname: str) -> str:
        return self._url.set(drivername="postgresql+psycopg", database=dbname).render_as_string(
            hide_password=False
        )

    def start(self) -> None:
        with self._admin() as conn:
            conn.execute("SELECT 1")

    def stop(self) -> None:
        self.drop_databases()


class LocalPostgres(_Server):
    """A private PostgreSQL server in a temporary folder, started and stopped by the caller."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="tiepoint-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port: int | None = None
        self._created = []
        self._as_root = os.geteuid() == 0
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._initdb()

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, check=False)
        if check and result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}\n{log}")
        return result

    def _initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self, port: int | None = None, attempts: int = 3) -> None:
        """Start the server (on *port*, default a free one; another free one if that is taken)."""
        for attempt in range(attempts):
            self.port = port if (port is not None and attempt == 0) else free_port()
            options = (
                f"-c port={self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories='{self.root}' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=100"
            )
            result = self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                "-o", options, check=False,
            )  # fmt: skip
            if result.returncode == 0:
                return
        raise RuntimeError(
            f"PostgreSQL did not start:\n{result.stderr}\n{self.log.read_text(errors='replace')[-3000:]}"
        )

    def stop(self, remove: bool = False, mode: str = "fast") -> None:
        """Stop the server (*mode*: fast, or immediate = like a crash); with *remove*, delete its folder.

        Removing implies an immediate stop, since nothing in the folder is kept.
        """
        if (self.data / "postmaster.pid").exists():
            mode = "immediate" if remove else mode
            self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data), check=False)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def server_for_tests() -> _Server:
    """The server the tests use: ``$TIEPOINT_TEST_DATABASE_URL`` or a new :class:`LocalPostgres`."""
    if os.environ.get(ENV_URL):
        server: _Server = ExternalPostgres(os.environ[ENV_URL])
    else:
        server = LocalPostgres()
    if isinstance(server, LocalPostgres):
        # Also stopped if the test process ends without running the fixture's teardown.
        atexit.register(server.stop, remove=True)
    try:
        server.start()  # type: ignore[attr-defined]
    except BaseException:
        if isinstance(server, LocalPostgres):
            with contextlib.suppress(Exception):
                server.stop(remove=True)
        raise
    return server
