"""An on-disk spool of job outcomes the database could not take yet.

When the database is unavailable as a result arrives, the dispatcher keeps the outcome here (one
pickle file per attempt, written atomically) and replays it when the database is back, so that no
result is lost even if the dispatcher dies meanwhile: a new dispatcher on the same database replays
the same spool.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tiepoint.dispatch.attempt import AttemptOutcome


@dataclass(slots=True)
class SpooledOutcome:
    """An attempt outcome waiting for the database."""

    job_id: int
    number: int
    outcome: AttemptOutcome
    kind: str = "ingest"
    """The job kind: only a dispatcher of that kind replays it (the spool is per database)."""


def _kind_of(item: SpooledOutcome) -> str:
    return getattr(item, "kind", "ingest")  # outcomes spooled before job kinds existed were ingests


def default_spool_dir(database_url: str) -> Path:
    """Where the spool of a database lives.

    Parameters
    ----------
    database_url : str
        The ``database.url`` setting.

    Returns
    -------
    Path
        ``<dir of the sqlite file>/.tiepoint/spool/<file name>/`` for SQLite, otherwise
        ``~/.cache/tiepoint/spool/<hash of the URL without password>/``.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database).resolve()
        return db.parent / ".tiepoint" / "spool" / db.name
    key = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "tiepoint" / "spool" / digest


class Spool:
    """Outcomes kept on disk until the database takes them.

    Parameters
    ----------
    directory : Path
        The spool folder (created when the first outcome is kept).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._seq = 0

    def _name(self, item: SpooledOutcome) -> str:
        self._seq += 1
        return f"{item.job_id:012d}-{item.number:04d}-{os.getpid()}-{self._seq}.pkl"

    def put(self, item: SpooledOutcome) -> Path:
        """Write *item* to the spool and return its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / self._name(item)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(item, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    def items(self, kind: str | None = None) -> Iterator[tuple[Path, SpooledOutcome]]:
        """The spooled outcomes (of *kind*, or all), oldest job first, with their files (unreadable
        files are skipped)."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.pkl")):
            try:
                with open(path, "rb") as f:
                    item = pickle.load(f)
            except (OSError, EOFError, pickle.UnpicklingError):
                continue
            if kind is None or _kind_of(item) == kind:
                yield path, item

    def count(self, kind: str | None = None) -> int:
        """How many outcomes (of *kind*, or all) wait in the spool."""
        if kind is None:
            return len(self)
        return sum(1 for _ in self.items(kind))

    def remove(self, path: Path) -> None:
        """Forget a spooled outcome once the database holds it."""
        path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(list(self.directory.glob("*.pkl"))) if self.directory.is_dir() else 0
