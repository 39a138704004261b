"""Job kinds: what differs between dispatched stages, as small specs (the machinery is :class:`JobRunner`).

As dask-jobqueue's ``SLURMJob`` only names what differs from the generic ``Job``, a :class:`JobKind`
names what a stage's jobs are: how the ledger calls them, what runs on the workers, what a worker is
sent for a key, how results are written (by the dispatcher, in one transaction per batch) and which
keys are done already. :data:`INGEST` ingests an image, :data:`MATCH` matches an image pair,
:data:`REGISTER` registers the pending measures of one image (sub-pixel, to their points' references).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tiepoint.config import Config
    from tiepoint.db import Database


def _keys_as_payloads(db: Database, keys: Sequence[str], config: Config) -> list[Any]:
    return list(keys)


@dataclass(frozen=True)
class JobKind:
    """The spec of one kind of dispatched job.

    Attributes
    ----------
    name : str
        Stored in ``jobs.kind``; the ledger never mixes kinds.
    label : str
        Shown on progress bars (``"ingesting"``) and used in Dask task keys.
    run : callable
        ``run(payload, config[, force=True])``, executed on a worker: it must be importable there
        and open no database connection. ``config`` is a :class:`tiepoint.config.JobConfig`.
    write : callable
        ``write(db, results, force) -> ids``: stores a batch of results in one transaction,
        idempotently on their keys, and returns one id (or None) per result: ingest results give
        the image id recorded on the job.
    done : callable
        ``done(db, keys) -> set``: those of *keys* whose result the database already holds (they
        are not run again unless forced).
    payloads : callable
        ``payloads(db, keys, config) -> list``: what each job is sent (default: its key). Called on
        the dispatcher thread when jobs are submitted, retried or resumed. A key that cannot be run
        any more (its subject is gone from the database) gets an exception instead: its job then
        fails for good with that error, without a retry.
    subject : callable
        ``subject(payload) -> str``: the file(s) a job is about, named in its error messages.
    """

    name: str
    label: str
    run: Callable[..., Any]
    write: Callable[[Database, Sequence[Any], bool], list[Any]]
    done: Callable[[Database, Sequence[str]], set[str]]
    payloads: Callable[[Database, Sequence[str], Config], list[Any]] = _keys_as_payloads
    subject: Callable[[Any], str] = str


def _ingest_image(path: str, config: Any, force: bool = False) -> Any:
    """The ingest job (imported lazily so the dispatcher does not load the stages)."""
    from tiepoint.ingest import ingest_image

    return ingest_image(path, config, force=force)


def _write_images(db: Database, records: Sequence[Any], force: bool) -> list[Any]:
    return db.write_images(records, force=force)


def _ingested(db: Database, keys: Sequence[str]) -> set[str]:
    return db.ingested_paths().intersection(keys)


INGEST = JobKind(
    name="ingest",
    label="ingesting",
    run=_ingest_image,
    write=_write_images,
    done=_ingested,
)
"""Ingest one image (key: its absolute path) with :func:`tiepoint.ingest.ingest_image`."""


def _match_pair(task: Any, config: Any, force: bool = False) -> Any:
    """The pair-matching job (imported lazily so the dispatcher does not load the stages)."""
    from tiepoint.matching.job import match_pair

    return match_pair(task, config, force=force)


def _pair_tasks(db: Database, keys: Sequence[str], config: Config) -> list[Any]:
    """The :class:`~tiepoint.records.PairTask` of each key, or the error that makes it unrunnable."""
    from tiepoint.db import DatabaseUnavailableError
    from tiepoint.errors import TiepointError
    from tiepoint.matching import match_path

    def output(task: Any) -> str:
        return str(match_path(task.keypoints_a, task.keypoints_b, config.matching.match_dir))

    try:
        return db.pair_tasks(keys, output_for=output)
    except DatabaseUnavailableError:
        raise
    except TiepointError:  # a pair deleted meanwhile, an image without keypoints: find which
        out: list[Any] = []
        for key in keys:
            try:
                out += db.pair_tasks([key], output_for=output)
            except DatabaseUnavailableError:
                raise
            except TiepointError as exc:
                out.append(exc)
        return out


def _write_pairs(db: Database, records: Sequence[Any], force: bool) -> list[Any]:
    db.write_pair_records(records)
    return [None] * len(records)  # the result is found by its key: no image id to record


def _matched(db: Database, keys: Sequence[str]) -> set[str]:
    return db.matched_pair_keys().intersection(keys)


def _pair_subject(task: Any) -> str:
    return f"{task.image_a} and {task.image_b}"


MATCH = JobKind(
    name="match",
    label="matching",
    run=_match_pair,
    write=_write_pairs,
    done=_matched,
    payloads=_pair_tasks,
    subject=_pair_subject,
)
"""Match one overlapping pair (key: :func:`tiepoint.records.pair_key`) with
:func:`tiepoint.matching.job.match_pair`; results go to the ``pairs`` table."""


def _register_image(task: Any, config: Any) -> Any:
    """The registration job (imported lazily so the dispatcher does not load the stages)."""
    from tiepoint.network.job import register_image

    return register_image(task, config)


def _registration_tasks(db: Database, keys: Sequence[str], config: Config) -> list[Any]:
    """The :class:`~tiepoint.records.RegistrationTask` of each image path, or why it cannot run."""
    return db.registration_tasks(list(keys))


def _write_registrations(db: Database, records: Sequence[Any], force: bool) -> list[Any]:
    db.write_registrations(records)
    return [None] * len(records)  # results are found by their measures: no id to record


def _registered(db: Database, keys: Sequence[str]) -> set[str]:
    return set(keys) - set(db.images_to_register(list(keys)))


def _image_subject(task: Any) -> str:
    return str(task.image)


REGISTER = JobKind(
    name="register",
    label="registering",
    run=_register_image,
    write=_write_registrations,
    done=_registered,
    payloads=_registration_tasks,
    subject=_image_subject,
)
"""Register the pending measures of one image (key: its path) with
:func:`tiepoint.network.job.register_image`; results go to the ``measures`` table."""


__all__ = ["INGEST", "MATCH", "REGISTER", "JobKind"]
