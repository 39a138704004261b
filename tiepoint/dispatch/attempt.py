"""One attempt of one job: run on a worker, with what the dispatcher needs to record it.

The wrapper :func:`run_attempt` never raises for an error of the job itself: it returns an
:class:`AttemptOutcome` carrying the error, its traceback, the host, the worker, the times and the
``tiepoint`` log lines emitted during the job. Only a worker that dies (or a cancelled job) leaves
no outcome; the dispatcher then builds one with :func:`outcome_from_exception`.
"""

from __future__ import annotations

import functools
import inspect
import io
import logging
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOG_LIMIT = 20_000
"""Characters of captured log kept per attempt (the tail)."""


@dataclass(slots=True)
class AttemptOutcome:
    """What one attempt produced; picklable, sent from the worker to the dispatcher."""

    ok: bool
    result: Any = None
    host: str | None = None
    worker: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    log: str = ""


class _ThreadFilter(logging.Filter):
    """Keep only records emitted by one thread (a worker may run several jobs at once)."""

    def __init__(self, ident: int) -> None:
        super().__init__()
        self.ident = ident

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.ident


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not running inside a Dask worker
        return None


@functools.lru_cache(maxsize=8)
def _config_from_json(text: str) -> Any:
    from tiepoint.config import JobConfig

    return JobConfig.model_validate_json(text)


def describe_error(exc: BaseException, subject: str | None) -> str:
    """The message recorded for a failed job: it always names the job's file(s).

    A :class:`~tiepoint.errors.TiepointError` that names its file says enough; any other error (a
    ``RecursionError`` from deep inside a parser, a ``KeyError``, ...) is prefixed with the
    *subject* and said to be unexpected; its traceback keeps the details.
    """
    from tiepoint.errors import TiepointError

    message = str(exc) or repr(exc)
    if not subject or (isinstance(exc, TiepointError) and exc.path is not None):
        return message
    if isinstance(exc, TiepointError):
        return f"{subject}: {message}"
    return f"{subject}: unexpected {type(exc).__name__}: {message}"


def accepts_force(job: Callable[..., Any]) -> bool:
    """Whether *job* takes a ``force`` keyword (then forced jobs redo cached work, e.g. keypoints)."""
    try:
        return "force" in inspect.signature(job).parameters
    except (TypeError, ValueError):
        return False


def run_attempt(
    job: Callable[..., Any], payload: Any, config: Any, force: bool = False, subject: str | None = None
) -> AttemptOutcome:
    """Run ``job(payload, config)`` (with ``force=True`` when asked) and describe how it went.

    Parameters
    ----------
    job : callable
        The job function, e.g. :func:`tiepoint.ingest.ingest_image`.
    payload : object
        What the job works on: an image path for ingest, a :class:`~tiepoint.records.PairTask` for
        pair matching.
    config : JobConfig or str
        The stage settings passed through to the job; a JSON string (as the dispatcher sends it, to
        keep each task small) is parsed once per worker process.
    force : bool
        Pass ``force=True`` to the job (only for jobs that accept it).
    subject : str, optional
        The file(s) the job is about, named in its error message if the error does not (default:
        the payload itself when it is a string).

    Returns
    -------
    AttemptOutcome
        ``ok`` with the job's return value in ``result``, or the error's type, message and
        traceback. Host, worker address, start/finish times and the ``tiepoint`` log are always set.
    """
    if isinstance(config, str):
        config = _config_from_json(config)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ThreadFilter(threading.get_ident()))
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("tiepoint")
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    outcome = AttemptOutcome(ok=False, host=socket.gethostname(), worker=_worker_address())
    outcome.started = datetime.now(UTC)
    if subject is None and isinstance(payload, str):
        subject = payload
    try:
        outcome.result = job(payload, config, force=True) if force else job(payload, config)
        outcome.ok = True
    except Exception as exc:
        outcome.error_type = type(exc).__name__
        outcome.error_message = describe_error(exc, subject)
        outcome.traceback = traceback.format_exc()
        logger.error("job failed: %s: %s", outcome.error_type, outcome.error_message)
    finally:
        outcome.finished = datetime.now(UTC)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        outcome.log = buffer.getvalue()[-LOG_LIMIT:]
    return outcome


def outcome_from_exception(exc: BaseException) -> AttemptOutcome:
    """Describe an attempt that left no outcome: its worker died, or it was cancelled.

    Parameters
    ----------
    exc : BaseException
        What ``future.result()`` raised (``KilledWorker``, ``CancelledError``, ...).

    Returns
    -------
    AttemptOutcome
        A failed outcome; for ``KilledWorker`` the last worker's address and host are filled in.
    """
    worker = host = None
    last = getattr(exc, "last_worker", None)
    if last is not None:
        worker = getattr(last, "address", None)
        host = getattr(last, "host", None)
    now = datetime.now(UTC)
    message = str(exc) or repr(exc)
    if type(exc).__name__ == "KilledWorker":
        message = f"the worker running this job died ({message})"
    return AttemptOutcome(
        ok=False,
        host=host,
        worker=worker,
        finished=now,
        error_type=type(exc).__name__,
        error_message=message,
        traceback="".join(traceback.format_exception(exc)),
    )
