"""The :class:`Database`: one URL, two backends (GeoPackage/SQLite file or PostgreSQL + PostGIS)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from os import PathLike, fspath
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Row, event, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, selectinload

from tiepoint.config import BodyConfig, Config, DatabaseConfig
from tiepoint.db import queries
from tiepoint.db.engine import WRITE_OPTION, display_url, make_engine, normalize_url, translated
from tiepoint.db.errors import DatabaseError, InvalidQueryError
from tiepoint.db.models import SRID_INFO_KEY, ImageRow
from tiepoint.db.writer import write_records
from tiepoint.records import ImageRecord

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK_KEY = 0x7469_6570_6F69  # pg advisory lock id ("tiepoi")


def _text(value: str, what: str) -> str:
    """A text query argument, the same on both backends: a str without NUL bytes (no path or name has
    one; SQLite would cut the text there, PostgreSQL refuses it)."""
    if isinstance(value, PathLike):
        value = fspath(value)
    if not isinstance(value, str):
        raise InvalidQueryError(f"{what} must be a str, not {type(value).__name__}: {value!r}")
    if "\0" in value:
        raise InvalidQueryError(
            f"{what} {value!r} contains a NUL byte (\\x00), which no image name or path has"
        )
    return value


class Database:
    """The tiepoint database, created or migrated to the newest schema when opened.

    Parameters
    ----------
    url : str
        ``sqlite:///path/to/file.gpkg`` (a GeoPackage; created if missing) or
        ``postgresql://user@host/dbname`` (PostGIS is created in it if missing; psycopg 3 is used).
        SQLite URLs accept ``?timeout=<s>`` (lock wait, default 30 s), ``?journal_mode=wal`` and
        ``?synchronous=normal`` (much faster one-row commits on a local disk; not for NFS/Lustre).
    body : BodyConfig, optional
        The target body. A new database is created for it (default: Mars, IAU_2015:49902); an
        existing one must have been created for the same body.

    Raises
    ------
    DatabaseUnavailableError
        The server cannot be reached or the SQLite file is locked; try again later.
    DatabaseError
        Bad URL, missing folder, a database for another body, or a failed migration.

    Examples
    --------
    >>> with Database("sqlite:///ctx.gpkg") as db:  # doctest: +SKIP
    ...     image_id = db.write_image(record)
    ...     db.overlapping_pairs()
    """

    def __init__(self, url: str | URL, body: BodyConfig | None = None) -> None:
        self.url: URL = normalize_url(url)
        self.engine = make_engine(self.url)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        event.listen(self.engine, "checkout", self._on_checkout)
        try:
            self.body: BodyConfig = self._open(body)
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def from_config(cls, config: DatabaseConfig | Config) -> Database:
        """Open the database a :class:`~tiepoint.config.Config` (or its ``database`` section) names."""
        section = config.database if isinstance(config, Config) else config
        return cls(section.url, section.body)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({display_url(self.url)!r})"

    def _on_checkout(self, dbapi_connection, connection_record, connection_proxy) -> None:
        body = getattr(self, "body", None)
        if body is not None:  # ORM writes of footprints without an SRID get the body's
            connection_record.info[SRID_INFO_KEY] = body.srid

    def _open(self, body: BodyConfig | None) -> BodyConfig:
        with translated("opening the database", self.url), self._write_engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            self._migrate(conn, body or BodyConfig())
            stored = conn.execute(
                text("SELECT name, srid, semimajor, semiminor FROM tiepoint_body WHERE id = 1")
            ).one()
        stored_body = BodyConfig(name=stored[0], srid=stored[1], semimajor=stored[2], semiminor=stored[3])
        if body is not None and (body.srid, body.semimajor, body.semiminor) != (
            stored_body.srid,
            stored_body.semimajor,
            stored_body.semiminor,
        ):

            def describe(b: BodyConfig) -> str:
                return f"{b.name} (SRID {b.srid}, a={b.semimajor}, b={b.semiminor})"

            raise DatabaseError(
                f"database {display_url(self.url)} was created for {describe(stored_body)}, "
                f"not {describe(body)}"
            )
        return stored_body

    @staticmethod
    def _migrate(conn: Connection, body: BodyConfig) -> None:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        cfg.attributes["body"] = body
        command.upgrade(cfg, "head")

    def close(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A Session inside one transaction: committed on normal exit, rolled back on an exception.

        Objects stay usable (not expired) after the block. SQLAlchemy errors are raised as
        :class:`DatabaseError` / :class:`DatabaseUnavailableError`.
        """
        with (
            translated("a database transaction", self.url),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with (
            translated("a database query", self.url),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    # -- writes ----------------------------------------------------------------------------------

    def write_image(self, record: ImageRecord, force: bool = False) -> int:
        """Store an image with its camera and keypoints in one transaction; return the image id.

        If the path is already stored and not *force*, nothing changes and the existing id is
        returned; with *force* the image, camera and keypoints rows are replaced.
        """
        return self.write_images([record], force=force)[0]

    def write_images(self, records: Sequence[ImageRecord], force: bool = False) -> list[int]:
        """Store many records in one transaction (all or none); return their image ids in order."""
        with translated("writing images", self.url), self._write_engine.begin() as conn:
            return write_records(conn, records, self.body, force=force)

    def delete_image(self, path: str) -> bool:
        """Delete an image and its camera and keypoints rows; True if it existed."""
        path = _text(path, "image path")
        with self.session() as session:
            image = session.scalars(select(ImageRow).where(ImageRow.path == path)).one_or_none()
            if image is None:
                return False
            session.delete(image)
            return True

    # -- reads -----------------------------------------------------------------------------------

    def has_image(self, path: str) -> bool:
        """True if *path* is stored."""
        path = _text(path, "image path")
        with self._read() as session:
            return session.scalar(select(ImageRow.id).where(ImageRow.path == path)) is not None

    def ingested_paths(self) -> set[str]:
        """All stored image paths."""
        with self._read() as session:
            return set(session.scalars(select(ImageRow.path)))

    def get_image(self, path: str) -> ImageRow | None:
        """The stored image with its ``camera`` and ``keypoints`` loaded, or None."""
        path = _text(path, "image path")
        with self._read() as session:
            stmt = (
                select(ImageRow)
                .where(ImageRow.path == path)
                .options(selectinload(ImageRow.camera), selectinload(ImageRow.keypoints))
            )
            return session.scalars(stmt).one_or_none()

    def images_intersecting(self, geom: BaseGeometry) -> list[ImageRow]:
        """Images whose lat/lon footprint intersects *geom* (exact test), sorted by path.

        *geom* is in the footprints' longitude domain (0-360 east by default). Returned images have
        their columns loaded; use :meth:`get_image` for camera and keypoints.
        """
        with self._read() as session:
            return queries.images_intersecting(session, geom, self.body.srid)

    def overlapping_pairs(self, paths: Iterable[str] | None = None) -> list[tuple[str, str, MultiPolygon]]:
        """Every pair of images whose footprints overlap in area, with the intersection.

        Parameters
        ----------
        paths : iterable of str, optional
            Only pairs involving at least one of these images (e.g. the ones just ingested);
            unknown paths are ignored. All pairs if None.

        Returns
        -------
        list of (path_a, path_b, intersection)
            ``path_a < path_b``, sorted; the intersection is a MultiPolygon in lon/lat degrees.
        """
        with self._read() as session:
            among = None
            if paths is not None:
                wanted = [_text(p, "image path") for p in dict.fromkeys(paths)]
                among = []
                for k in range(0, len(wanted), 500):
                    chunk = wanted[k : k + 500]
                    among += session.scalars(select(ImageRow.id).where(ImageRow.path.in_(chunk))).all()
            return queries.overlapping_pairs(session, among)

    def images_by_name(self, pattern: str, ignore_case: bool = False) -> list[ImageRow]:
        """Images whose name matches a shell pattern (``*``, ``?``), sorted by path.

        Raises
        ------
        InvalidQueryError
            The pattern is not a str or has a NUL byte (on both backends).
        """
        pattern = _text(pattern, "image name pattern")
        with self._read() as session:
            return queries.images_by_name(session, pattern, ignore_case=ignore_case)

    def execute_sql(
        self, sql: str, params: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None
    ) -> list[Row]:
        """Run any SQL (``:name`` parameters) in its own transaction and return the rows, if any.

        This is a power-user passthrough: the statement runs with the database user's rights and
        writes are committed. Geometry columns come back in the backend's own encoding
        (GeoPackage blobs on SQLite, hex EWKB on PostGIS).
        """
        with translated("executing SQL", self.url), self.engine.begin() as conn:  # SQLite: deferred BEGIN
            if params is not None and not isinstance(params, Mapping):
                params = list(params)
            result = conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
