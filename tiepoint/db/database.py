"""The :class:`Database`: one URL, two backends (GeoPackage/SQLite file or PostgreSQL + PostGIS)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from os import PathLike, fspath
from pathlib import Path
from typing import Any

import numpy as np
from alembic import command
from alembic.config import Config as AlembicConfig
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Row, event, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, selectinload

from tiepoint.config import BodyConfig, Config, DatabaseConfig, PairsConfig, config_section
from tiepoint.db import network, overlaps, pairs, queries, registration
from tiepoint.db.batches import chunks
from tiepoint.db.engine import WRITE_OPTION, display_url, make_engine, normalize_url, translated
from tiepoint.db.errors import DatabaseError, InvalidQueryError
from tiepoint.db.models import PAIR_STATES, SRID_INFO_KEY, ImageRow, PairRow
from tiepoint.db.overlaps import OverlapUpdate
from tiepoint.db.writer import write_records
from tiepoint.records import (
    ImageRecord,
    PairRecord,
    PairTask,
    RegistrationRecord,
    RegistrationTask,
    pair_key,
    split_pair_key,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK_KEY = 0x7469_6570_6F69  # pg advisory lock id ("tiepoi")
_OVERLAPS_LOCK_KEY = 0x7469_6570_6F70  # pg advisory lock id of overlap updates ("tiepop")
OVERLAP_BATCH = 2000
"""Images per transaction of :meth:`Database.update_overlaps` on SQLite (bounds the write lock)."""


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
        section = config_section(config, "database", DatabaseConfig)
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
        """Delete an image and its camera, keypoints and pairs rows; True if it existed."""
        path = _text(path, "image path")
        with self.session() as session:
            image = session.scalars(select(ImageRow).where(ImageRow.path == path)).one_or_none()
            if image is None:
                return False
            session.delete(image)
            return True

    # -- the overlap graph (pairs) ---------------------------------------------------------------

    def update_overlaps(
        self,
        paths: Iterable[str] | None = None,
        config: PairsConfig | None = None,
        *,
        force: bool = False,
        batch: int = OVERLAP_BATCH,
    ) -> OverlapUpdate:
        """Bring the ``pairs`` table up to date for new and re-ingested images, incrementally.

        An image's overlapping images come from the spatial index and only its own pairs are
        computed; images whose pairs are current are not touched, so running it twice adds
        nothing. A re-ingested image (``write_images(..., force=True)``) loses its old pairs, match
        results included, and gets new ``pending`` ones. See :mod:`tiepoint.db.overlaps`.

        Parameters
        ----------
        paths : iterable of str, optional
            The images to update; default: every image whose pairs are not current. Pairs with
            images not updated yet are added when those are.
        config : PairsConfig, optional
            ``matching.pairs``: overlaps below ``min_overlap_km2`` are not stored. With
            ``max_neighbours`` k, each image keeps its k largest overlaps: a pair kept by either
            of its images is ``pending``, one kept by neither ``skipped`` (so no image is left with
            fewer than min(k, its overlaps), and one that is among the largest overlaps of many
            neighbours may have more than k). Matched pairs keep their status. Default:
            ``PairsConfig()``.
        force : bool
            Recompute the pairs of *paths* (all images if None) even if current, e.g. after
            changing *config*; rows of pairs that still qualify keep their match results.
        batch : int
            Images per transaction on SQLite, so that other writers are not locked out for long;
            PostgreSQL does it in one transaction.

        Returns
        -------
        OverlapUpdate
            ``images`` processed, pairs ``added`` and ``removed``, kept pairs whose overlap
            ``changed`` (force, after footprints were rewritten without a re-ingest).

        Raises
        ------
        DatabaseError
            Naming paths that are not in the database.

        Notes
        -----
        The ranks are refreshed for the images whose pairs change in the call. Deleting an image
        removes its pairs (``ON DELETE CASCADE``) without re-ranking its neighbours' other pairs;
        ``update_overlaps(neighbour_paths, config, force=True)`` does it and keeps match results.
        Changing *config* applies to the images updated from then on; ``force=True`` (all images)
        applies it everywhere.
        """
        cfg = config if config is not None else PairsConfig()
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        with self._read() as session:
            conn = session.connection()
            if paths is None:
                targets = overlaps.all_ids(conn) if force else overlaps.stale_ids(conn)
            else:
                targets = self._ids_of_paths(session, paths)
        if self.dialect == "postgresql":
            batch = max(len(targets), 1)
        total = OverlapUpdate()
        for k in range(0, len(targets), batch):
            with translated("updating the overlap graph", self.url), self._write_engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _OVERLAPS_LOCK_KEY})
                total += overlaps.update_batch(
                    conn, targets[k : k + batch], self.body, cfg, force=force, later=targets[k + batch :]
                )
        return total

    def _ids_of_paths(self, session: Session, paths: Iterable[str]) -> np.ndarray:
        wanted = list(dict.fromkeys(paths))
        found: dict[str, int] = {}
        for chunk in chunks(wanted):
            found.update(
                session.execute(select(ImageRow.path, ImageRow.id).where(ImageRow.path.in_(chunk))).all()
            )
        missing = [p for p in wanted if p not in found]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise DatabaseError(f"not in the database: {', '.join(missing[:3])}{more}")
        return np.sort(np.array(list(found.values()), dtype=np.int64))

    def pairs_to_match(self, force: bool = False) -> list[str]:
        """Keys of the pairs to match: ``pending`` ones, or with *force* every pair not ``skipped``."""
        statuses = ("pending", *pairs.RESULT_STATES) if force else ("pending",)
        with self._read() as session:
            return pairs.pair_keys_with_status(session.connection(), statuses)

    def matched_pair_keys(self) -> set[str]:
        """Keys of the pairs that have a match result (``matched`` or ``no_matches``)."""
        with self._read() as session:
            return set(pairs.pair_keys_with_status(session.connection(), pairs.RESULT_STATES))

    def pair_tasks(
        self, keys: Sequence[str], output_for: Callable[[PairTask], str] | None = None
    ) -> list[PairTask]:
        """The :class:`~tiepoint.records.PairTask` of each key (see :func:`tiepoint.db.pairs.pair_tasks`).

        *output_for* gives the match file of a task (``PairTask.output``, "" without it). Unknown
        keys raise :class:`~tiepoint.db.PairNotFoundError` naming them.
        """
        with self._read() as session:
            return pairs.pair_tasks(session.connection(), keys, output_for)

    def write_pair_records(self, records: Sequence[PairRecord]) -> list[int | None]:
        """Store match results in their pairs rows in one transaction (all or none); idempotent.

        Returns the pair ids in order (None for a record older than its pair's overlap). A record
        whose pair is gone raises :class:`~tiepoint.db.PairNotFoundError` naming its key; see
        :func:`tiepoint.db.pairs.write_pair_records`.
        """
        with translated("writing pair results", self.url), self._write_engine.begin() as conn:
            return pairs.write_pair_records(conn, records)

    def pair_counts(self) -> dict[str, int]:
        """Number of pairs in each status (every status of :data:`~tiepoint.db.PAIR_STATES`)."""
        with self._read() as session:
            counts = dict(
                session.execute(select(PairRow.status, func.count()).group_by(PairRow.status)).all()
            )
        return {state: int(counts.get(state, 0)) for state in PAIR_STATES}

    def get_pair(self, key: str) -> PairRow | None:
        """The pair with this :func:`~tiepoint.records.pair_key`, its two images loaded, or None."""
        with self._read() as session:
            stmt = select(PairRow).where(PairRow.key == key).options(*self._pair_images())
            return session.scalars(stmt).one_or_none()

    def pair_paths(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``{key: (path_a, path_b)}`` of pair keys whose two images are in the database (whether or
        not the pair is still in the ``pairs`` table); other keys are left out."""
        ids: dict[str, tuple[int, int]] = {}
        for key in keys:
            try:
                ids[key] = split_pair_key(key)
            except ValueError:
                continue
        wanted = sorted({i for pair in ids.values() for i in pair})
        paths: dict[int, str] = {}
        with self._read() as session:
            for chunk in chunks(wanted):
                paths.update(
                    session.execute(select(ImageRow.id, ImageRow.path).where(ImageRow.id.in_(chunk))).all()
                )
        return {k: (paths[a], paths[b]) for k, (a, b) in ids.items() if a in paths and b in paths}

    def find_pair(self, path_a: str, path_b: str) -> PairRow | None:
        """The pair of two image paths (either order), its two images loaded, or None."""
        with self._read() as session:
            ids = dict(
                session.execute(
                    select(ImageRow.path, ImageRow.id).where(ImageRow.path.in_([path_a, path_b]))
                ).all()
            )
            if path_a == path_b or len(ids) != 2:
                return None
            key = pair_key(ids[path_a], ids[path_b])
            stmt = select(PairRow).where(PairRow.key == key).options(*self._pair_images())
            return session.scalars(stmt).one_or_none()

    def pairs_of(self, path: str) -> list[PairRow]:
        """The pairs of one image, largest overlap first, their images loaded ([] if unknown)."""
        with self._read() as session:
            image_id = session.scalar(select(ImageRow.id).where(ImageRow.path == path))
            if image_id is None:
                return []
            stmt = (
                select(PairRow)
                .where((PairRow.image_a == image_id) | (PairRow.image_b == image_id))
                .order_by(PairRow.area_km2.desc(), PairRow.key)
                .options(*self._pair_images())
            )
            return list(session.scalars(stmt))

    @staticmethod
    def _pair_images() -> tuple:
        return (selectinload(PairRow.image_row_a), selectinload(PairRow.image_row_b))

    # -- the control network (points, measures) -------------------------------------------------

    def network_pairs_to_add(self) -> network.PairInputs:
        """Matched pairs whose current matches are not in the network yet (see
        :func:`tiepoint.db.network.pairs_to_add`)."""
        with self._read() as session:
            return network.pairs_to_add(session.connection())

    def network_images(self, image_ids: Iterable[int]) -> dict[int, network.NetworkImage]:
        """Path, name, keypoint file, camera state and serial number of images, by id."""
        with self._read() as session:
            return network.network_images(session.connection(), list(image_ids))

    def existing_measures(self, image_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(point row id, image id, keypoint row)`` of every measure in these images."""
        with self._read() as session:
            return network.existing_measures(session.connection(), list(image_ids))

    def network_points(self, point_ids: Iterable[int]) -> dict[str, np.ndarray]:
        """``id``, ``apriori_x/y/z``, ``height_m`` of points by row id (sorted by id)."""
        with self._read() as session:
            return network.network_points(session.connection(), list(point_ids))

    def write_network(self, new: network.NewNetwork, pairs_added: network.PairInputs) -> network.InsertResult:
        """Insert new points and measures and mark their pairs as added, in one transaction.

        The unique constraints refuse a keypoint used twice and two measures of a point in one image
        (:class:`DatabaseError`); see :func:`tiepoint.db.network.insert_network`.
        """
        with translated("writing the network", self.url), self._write_engine.begin() as conn:
            return network.insert_network(conn, new, pairs_added, self.body.srid, datetime.now(UTC))

    def drop_stale_measures(self) -> int:
        """Delete measures of images re-ingested since they were made; returns how many."""
        with translated("updating the network", self.url), self._write_engine.begin() as conn:
            return network.drop_stale_measures(conn, datetime.now(UTC))

    def refresh_points(self, point_ids: Iterable[int] | None = None) -> None:
        """Depth, reference measure and ``ignore`` of points (all if None); see
        :func:`tiepoint.db.network.refresh_points`."""
        ids = None if point_ids is None else np.asarray(list(point_ids), dtype=np.int64)
        with translated("updating the network", self.url), self._write_engine.begin() as conn:
            network.refresh_points(conn, ids, datetime.now(UTC))

    def network_table(self, point_columns=network.POINT_COLUMNS, measure_columns=network.MEASURE_COLUMNS,
                      *, lonlat: bool = True) -> network.NetworkTable:  # fmt: skip
        """The points and measures as column arrays (see :func:`tiepoint.db.network.network_table`)."""
        with self._read() as session:
            return network.network_table(session.connection(), point_columns, measure_columns, lonlat=lonlat)

    def apply_network_import(
        self,
        points: dict[str, np.ndarray],
        adjusted: dict[str, np.ndarray],
        measures: dict[str, np.ndarray],
        ignored_measures: np.ndarray,
        reason: str,
    ) -> None:
        """Store an imported network's flags, adjusted points and residuals in one transaction (see
        :func:`tiepoint.db.network.apply_import`; :func:`tiepoint.network.import_network` calls it)."""
        with translated("importing a network", self.url), self._write_engine.begin() as conn:
            network.apply_import(
                conn, points, adjusted, measures, ignored_measures, reason, self.body.srid, datetime.now(UTC)
            )

    def images_to_register(self, paths: Sequence[str] | None = None) -> list[str]:
        """Paths of the images with measures waiting for registration (among *paths* if given)."""
        with self._read() as session:
            return registration.images_to_register(session.connection(), paths)

    def registration_tasks(self, paths: Sequence[str]) -> list[RegistrationTask | DatabaseError]:
        """One :class:`~tiepoint.records.RegistrationTask` per image path (an error for unknown ones)."""
        with self._read() as session:
            return registration.registration_tasks(session.connection(), paths)

    def reset_registration(self, paths: Sequence[str] | None = None) -> int:
        """Registered measures of *paths* (all if None) back to ``pending``; returns how many."""
        with translated("resetting registrations", self.url), self._write_engine.begin() as conn:
            return registration.reset_registration(conn, paths)

    def write_registrations(self, records: Sequence[RegistrationRecord]) -> int:
        """Store registration results in one transaction (all or none); returns the measures written."""
        with translated("writing registrations", self.url), self._write_engine.begin() as conn:
            return registration.write_registrations(conn, records, datetime.now(UTC))

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
                for chunk in chunks(wanted):
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
