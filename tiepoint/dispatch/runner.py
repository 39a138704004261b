"""The :class:`JobRunner`: run jobs of one :class:`~tiepoint.dispatch.kinds.JobKind` on a Dask cluster
and keep their ledger.

One job per key runs the kind's function on a worker and returns a result record. A single
dispatcher thread owns every database access: it creates jobs, opens an attempt per submission,
and, as futures finish (their done-callbacks only put them on a queue), records each attempt,
writes the results with the kind's writer, and resubmits failed jobs until ``cluster.maxfailures``
attempts have failed. Workers never touch the database and never see its URL: they are sent the
stage settings only (:meth:`tiepoint.config.Config.for_jobs`). Outcomes that arrive while the
database is unavailable go to an on-disk :class:`~tiepoint.dispatch.spool.Spool` and are written
when it is back.

Each runner registers a row in ``dispatchers`` and its thread refreshes the row's heartbeat every
:data:`HEARTBEAT_SECONDS`. A new runner of the same kind on the same database, on any host, resumes
the jobs of a dispatcher that is gone (see :func:`dispatcher_is_alive`); runners of other kinds
leave them alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import logging
import os
import queue
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from tiepoint.config import Config, load_config, redact_url
from tiepoint.db import SUCCEEDED, Database, DatabaseUnavailableError, Dispatcher
from tiepoint.dispatch.attempt import AttemptOutcome, accepts_force, outcome_from_exception, run_attempt
from tiepoint.dispatch.cluster import dashboard_link, start_cluster
from tiepoint.dispatch.kinds import JobKind
from tiepoint.dispatch.ledger import JobRef, Ledger
from tiepoint.dispatch.spool import Spool, SpooledOutcome, default_spool_dir
from tiepoint.errors import DatabaseError, TiepointError

logger = logging.getLogger(__name__)

SPOOL_RETRY_SECONDS = 2.0
"""How often the dispatcher tries to write spooled outcomes while the database is unavailable."""

SUBMIT_CHUNK = 5000
"""Jobs submitted at a time; the dispatcher beats between chunks of a large batch."""

HEARTBEAT_SECONDS = 10.0
"""How often a dispatcher refreshes its heartbeat (default of the runner's ``heartbeat``)."""

STALE_HEARTBEATS = 3.0
"""A dispatcher silent for this many heartbeat intervals is presumed dead (default of the runner's
``stale_after``, in units of its ``heartbeat``)."""

RECENT_FAILURES = 5
"""Failed jobs listed in a runner's HTML repr."""

_LIVE_TOKENS: set[str] = set()
"""Tokens of the runners alive in this process."""


def dispatcher_is_alive(dispatcher: Dispatcher, now: datetime, stale_after: float) -> bool:
    """Whether a dispatcher may still be alive, judged from its ``dispatchers`` row.

    It is gone if it is closed, if its heartbeat is more than *stale_after* seconds older than
    *now* (wherever it runs), or if it runs on this host and its process has exited (in this very
    process: if its runner is gone).
    """
    if dispatcher.closed is not None:
        return False
    if (now - dispatcher.heartbeat).total_seconds() > stale_after:
        return False
    if dispatcher.host != socket.gethostname():
        return True
    if dispatcher.pid == os.getpid():
        return dispatcher.token in _LIVE_TOKENS
    import psutil

    return psutil.pid_exists(dispatcher.pid)


def _or_none(get: Callable[[], Any]) -> Any:
    """``get()``, or None if it fails (a closed client has no scheduler to ask)."""
    try:
        return get()
    except Exception:
        return None


class JobRunner:
    """Run jobs of one kind on a Dask cluster, keep their ledger in the database, write their results.

    Stage classes (:class:`~tiepoint.dispatch.adder.ImageAdder`, the pair matcher, ...) are thin
    subclasses that set :attr:`kind` and turn their users' arguments into keys.

    Parameters
    ----------
    config : path, dict, Config or None
        The configuration (see :func:`tiepoint.config.load_config`); None reads
        ``$TIEPOINT_CONFIG``, then ``./tiepoint.yml``, then the defaults.
    job : callable, optional
        Run this on the workers instead of the kind's function (``job(payload, config)``, taking a
        ``force`` keyword if it redoes cached work when forced). It must be importable by the workers.
    client : distributed.Client, optional
        Use this client instead of starting the configured cluster (it is not closed by
        :meth:`close`).
    spool_dir : path, optional
        Where outcomes wait while the database is unavailable (default: ``database.spool_dir``
        from the configuration, else :func:`~tiepoint.dispatch.spool.default_spool_dir`).
    resume : bool
        Resubmit the jobs of this kind a dead dispatcher left queued or running (default True).
    heartbeat : float, optional
        Seconds between heartbeats (default :data:`HEARTBEAT_SECONDS`).
    stale_after : float, optional
        Seconds without a heartbeat after which another dispatcher is presumed dead and its jobs
        are resumed (default :data:`STALE_HEARTBEATS` x *heartbeat*). Give every runner on one
        database the same value.
    """

    kind: JobKind
    """What the jobs are; set by each subclass."""

    def __init__(
        self,
        config: str | os.PathLike[str] | dict[str, Any] | Config | None = None,
        *,
        job: Callable[..., Any] | None = None,
        client: Any = None,
        spool_dir: str | os.PathLike[str] | None = None,
        resume: bool = True,
        heartbeat: float | None = None,
        stale_after: float | None = None,
    ) -> None:
        self.config = load_config(config)
        if job is not None:
            self.kind = dataclasses.replace(self.kind, run=job)
        self._job_config_json = self.config.for_jobs().model_dump_json()
        self._job_takes_force = accepts_force(self.kind.run)
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else float(heartbeat)
        self.stale_after = STALE_HEARTBEATS * self.heartbeat if stale_after is None else float(stale_after)
        if not (self.heartbeat > 0 and self.stale_after > 0):
            raise TiepointError(f"heartbeat ({heartbeat}) and stale_after ({stale_after}) must be > 0 s")
        self.db = Database.from_config(self.config)
        self.ledger = Ledger(self.db)
        self.spool = Spool(
            spool_dir or self.config.database.spool_dir or default_spool_dir(self.config.database.url)
        )
        self._token = uuid.uuid4().hex
        self.dispatcher_id: int | None = None
        self._last_beat = 0.0
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._futures: dict[str, tuple[int, int, Any]] = {}  # Dask key -> (job id, attempt, future)
        self._known: dict[int, str] = {}  # job id -> key, jobs this runner took on
        self._force: dict[int, bool] = {}  # job id -> force, of the same jobs
        self._finished: set[int] = set()
        self.rejected: list[str] = []
        """Keys recorded as failed without running (not files, ...), in the order they came."""
        self._spool_pending = False
        self._last_spool_try = 0.0
        self._closed = False
        self._client = client
        self._cluster = None
        self._own_client = client is None
        if client is None:
            try:
                self._client, self._cluster = start_cluster(self.config.cluster)
            except BaseException:
                self.db.close()
                raise
        _LIVE_TOKENS.add(self._token)
        self._thread = threading.Thread(
            target=self._loop, name=f"tiepoint-{self.kind.name}-dispatcher-{self._token[:12]}", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._register)
            self._call(self._replay_spool)
            if resume:
                self._call(self._resume)
        except BaseException:
            self.close()
            raise
        link = self.dashboard_link
        logger.info(
            "%s on %s; dashboard: %s", type(self).__name__, self.scheduler_address, link or "not available"
        )

    # ------------------------------------------------------------------ public API

    @property
    def client(self) -> Any:
        """The :class:`distributed.Client` jobs are submitted with."""
        return self._client

    @property
    def scheduler_address(self) -> str:
        """The Dask scheduler's address."""
        return self._client.scheduler.address

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard URL, or None when it is off or bokeh is not installed."""
        return dashboard_link(self._client)

    @property
    def database_url(self) -> str:
        """The database URL with its password hidden (safe to print or log)."""
        return redact_url(self.config.database.url)

    def submit(self, keys: Iterable[str], force: bool = False) -> list[str]:
        """Queue a job for each key; returns at once.

        Keys whose results the database holds are skipped unless *force*; so are keys this runner
        is already working on (unless *force* and that job is not forced).

        Returns
        -------
        list of str
            The keys queued.
        """
        return self._call(self._add, list(dict.fromkeys(keys)), force)

    @property
    def job_status(self) -> dict[Any, bool | int]:
        """``{key: True}`` for a job that succeeded, else ``{key: failed attempts so far}``.

        Covers the newest job of every key of this kind in the ledger (all dispatchers, all sessions).
        """
        latest = self._call(self.ledger.latest, self.kind.name)
        public = self._public_keys(list(latest))
        return {
            p: True if state == SUCCEEDED else n
            for p, (state, n) in zip(public, latest.values(), strict=True)
        }

    @property
    def failed_jobs(self) -> list[Any]:
        """Keys whose newest job exhausted ``maxfailures``."""
        return self._public_keys([ref.key for ref in self._call(self.ledger.newest_failed, self.kind.name)])

    def failed_here(self) -> list[Any]:
        """The jobs this runner took on (or rejected) whose newest job failed for good, as
        :attr:`failed_jobs` gives them."""
        with self._cond:
            mine = set(self._known.values()) | set(self.rejected)
        keys = [ref.key for ref in self._call(self.ledger.newest_failed, self.kind.name) if ref.key in mine]
        return self._public_keys(keys)

    def inspect_key(self, key: str) -> list[dict[str, Any]]:
        """Every attempt at the job of *key*, oldest first.

        Returns
        -------
        list of dict
            Keys ``job``, ``kind``, ``key``, ``attempt``, ``state``, ``force``, ``dispatcher``,
            ``host``, ``worker``, ``started``, ``finished``, ``error`` (``"Type: message"`` or None),
            ``error_type``, ``error_message``, ``traceback``, ``log``.
        """
        return self._call(self.ledger.attempts, self.kind.name, key)

    def rerun_failed(self) -> list[Any]:
        """Queue again every key whose newest job failed, with ``maxfailures`` more attempts.

        Returns
        -------
        list
            The keys queued.
        """
        return self._public_keys(self._call(self._rerun_failed))

    def wait(self, timeout: float | None = None, progress: bool | str = False) -> bool:
        """Block until every job of this runner has finished and its outcome is recorded.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most.
        progress : bool or str
            Show a progress bar: in Jupyter an ipywidgets bar (or an HTML one without ipywidgets), in
            a terminal a rich bar. A string chooses the bar (``"widget"``, ``"html"``, ``"rich"``,
            ``"auto"``; see :mod:`tiepoint.dispatch.progress`).

        Returns
        -------
        bool
            True if all jobs finished and every outcome is in the database; False on timeout or
            when outcomes are still spooled because the database is unavailable.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        if progress:
            from tiepoint.dispatch.progress import make_bar

            bar = make_bar(self.kind.label, None if progress is True else str(progress))
        final = "stopped"
        try:
            while True:
                with self._cond:
                    busy = bool(self._futures)
                    if busy:
                        self._cond.wait(0.25)
                    busy = bool(self._futures)
                if bar is not None:
                    bar.update(self._progress_counts())
                if not busy:
                    final = "done"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                if not self._thread.is_alive():
                    raise TiepointError("the dispatcher thread has stopped")
        finally:
            if bar is not None:
                bar.finish(self._progress_counts(), final)
        self._call(self._replay_spool)
        return self.spool.count(self.kind.name) == 0

    def progress(self, interval: float = 0.5, mode: str | None = None) -> Any:
        """Show a progress bar of this runner's jobs that keeps updating while you go on working.

        Returns at once. A daemon thread updates the bar from the runner's counters (it never
        touches the database) every *interval* seconds, and stops when no job is left running or
        the runner is closed. In Jupyter the bar is an ipywidgets bar (an HTML one without
        ipywidgets); in a terminal a rich bar. Jobs queued later are counted while it runs.

        Parameters
        ----------
        interval : float
            Seconds between updates.
        mode : str, optional
            ``"widget"``, ``"html"``, ``"rich"`` or ``"auto"`` (default: ``$TIEPOINT_PROGRESS``,
            else ``"auto"``).

        Returns
        -------
        tiepoint.dispatch.progress.LiveProgress
            ``.running``, ``.join(timeout)``, ``.stop()``.
        """
        from tiepoint.dispatch.progress import LiveProgress, make_bar

        return LiveProgress(self._progress_counts, make_bar(self.kind.label, mode), interval)

    @property
    def n_finished(self) -> int:
        """How many of this runner's jobs have finished (succeeded, failed, or outcome spooled)."""
        with self._cond:
            return len(self._finished)

    @property
    def n_jobs(self) -> int:
        """How many jobs this runner has taken on."""
        with self._cond:
            return len(self._known)

    @property
    def n_running(self) -> int:
        """How many of this runner's jobs are on the cluster now."""
        with self._cond:
            return len(self._futures)

    def close(self) -> None:
        """Stop: jobs still running are cancelled and go back to ``queued`` in the ledger (a later
        runner of this kind resumes them), spooled outcomes are written if the database is back, the
        dispatcher is marked closed, and the cluster started here is shut down."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            try:
                self._call(self._shutdown)
            except Exception as exc:  # e.g. the database is unavailable: a later runner resumes
                logger.warning("closing without updating the job ledger: %s", exc)
            self._queue.put(("stop",))
            self._thread.join(timeout=30)
        _LIVE_TOKENS.discard(self._token)
        self.db.close()
        if self._own_client:
            try:
                self._client.close()
            finally:
                if self._cluster is not None:
                    self._cluster.close()

    def __enter__(self) -> JobRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = (
            "closed" if self._closed else f"{self.n_running} running, {self.n_finished}/{self.n_jobs} done"
        )
        return (
            f"<{type(self).__name__} {self.database_url} on {self.config.cluster.kind} cluster "
            f"{self.scheduler_address}; dashboard {self.dashboard_link or 'not available'}; {state}>"
        )

    def _repr_html_(self) -> str:
        """This runner in Jupyter: settings, its jobs, the ledger's counts for its kind, the last
        failures (see :mod:`tiepoint.dispatch.reprs`; two queries, on the dispatcher thread)."""
        from tiepoint.dispatch.reprs import FailureView, RunnerView, runner_html

        counts, failures, unavailable = None, [], None
        if self._closed or not self._thread.is_alive():
            unavailable = f"this {type(self).__name__} is closed"
        else:
            try:
                summary, names = self._call(self._display_summary)
                counts = summary.counts
                failures = [
                    FailureView(name, f.key, f.attempts, f.error, f.updated)
                    for f, name in zip(summary.recent_failures, names, strict=True)
                ]
            except Exception as exc:  # e.g. the database is unavailable: show the rest
                unavailable = redact_url(f"{type(exc).__name__}: {exc}")
        view = RunnerView(
            title=type(self).__name__,
            kind=self.kind.name,
            database=self.database_url,
            cluster=self.config.cluster.kind,
            scheduler=_or_none(lambda: self.scheduler_address),
            dashboard=_or_none(lambda: self.dashboard_link),
            closed=self._closed,
            jobs=self.n_jobs,
            running=self.n_running,
            finished=self.n_finished,
            counts=counts,
            failures=failures,
            unavailable=unavailable,
        )
        return runner_html(view)

    # ------------------------------------------------------------------ for subclasses

    def _key_names(self, keys: Sequence[str]) -> list[str]:
        """How keys are named in tables (runs on the dispatcher thread, so it may query the
        database): the file name of a path, else the key itself."""
        return [os.path.basename(k) if os.path.isabs(k) else k for k in keys]

    def _progress_counts(self) -> Any:
        """The counters progress bars show (read on any thread: no database access)."""
        from tiepoint.dispatch.progress import Counts

        with self._cond:
            return Counts(len(self._finished), len(self._known), len(self._futures), self._closed)

    def _display_summary(self) -> tuple[Any, list[str]]:
        """The ledger's summary for this kind and the names of its recent failures (dispatcher thread)."""
        summary = self.ledger.summary(self.kind.name, RECENT_FAILURES)
        return summary, self._key_names([f.key for f in summary.recent_failures])

    def _public_keys(self, keys: Sequence[str]) -> list[Any]:
        """How keys are given to users (``job_status``, ``failed_jobs``, ...); the keys themselves by
        default (a pair matcher gives ``(path_a, path_b)``)."""
        return list(keys)

    def _record_rejected(self, rejected: Sequence[tuple[str, str, str]]) -> list[str]:
        """Record keys that cannot even be submitted as failed jobs: ``(key, error type, message)``.

        Runs on the dispatcher thread (through :meth:`_call`); returns the keys recorded.
        """
        if not rejected:
            return []
        self.ledger.create_failed(self.kind.name, rejected, self.dispatcher_id)
        for key, error_type, message in rejected:
            logger.warning("%s not queued: %s: %s", key, error_type, message)
        keys = [key for key, _, _ in rejected]
        self.rejected.extend(keys)
        return keys

    # ------------------------------------------------------------------ dispatcher thread

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run *fn* on the dispatcher thread and return its result (or raise its exception)."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        if not self._thread.is_alive():
            raise TiepointError(f"this {type(self).__name__} is closed")
        done: cf.Future[Any] = cf.Future()
        self._queue.put(("call", fn, args, done))
        return done.result()

    def _on_done(self, future: Any) -> None:  # runs on Dask's callback thread: never block
        self._queue.put(("done", future))

    def _loop(self) -> None:
        while True:
            try:
                items = [self._queue.get(timeout=min(SPOOL_RETRY_SECONDS / 2, self.heartbeat))]
            except queue.Empty:
                items = []
            while len(items) < 1000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            done: list[Any] = []
            for item in items:
                if item[0] == "done":
                    done.append(item[1])
                    continue
                if done:
                    self._safely(self._handle_done, done)
                    done = []
                if item[0] == "stop":
                    return
                _, fn, args, result = item
                try:
                    result.set_result(fn(*args))
                except BaseException as exc:
                    result.set_exception(exc)
            if done:
                self._safely(self._handle_done, done)
            if self._spool_pending and time.monotonic() - self._last_spool_try >= SPOOL_RETRY_SECONDS:
                self._safely(self._replay_spool)
            self._beat_if_due()
            with self._cond:
                self._cond.notify_all()

    def _safely(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # the dispatcher must survive anything; the error is in the log
            logger.exception("dispatcher error in %s", getattr(fn, "__name__", fn))

    def _add(self, keys: list[str], force: bool) -> list[str]:
        active = self._active_keys()
        if not force:
            done = self.kind.done(self.db, keys)
            keys = [k for k in keys if k not in done]
        # a key already being worked on is not queued twice, unless forcing over a plain job
        keys = [k for k in keys if k not in active or (force and not active[k])]
        if not keys:
            return []
        jobs = self.ledger.create(
            self.kind.name, keys, force, self.config.cluster.maxfailures, self.dispatcher_id
        )
        self._submit(jobs)
        return [j.key for j in jobs]

    def _active_keys(self) -> dict[str, bool]:
        """``{key: force}`` of the jobs this runner has on the cluster."""
        with self._cond:
            ids = {job_id for job_id, _, _ in self._futures.values()}
            return {self._known[i]: self._force[i] for i in ids}

    def _beat_if_due(self) -> None:
        if self.dispatcher_id is None or time.monotonic() - self._last_beat < self.heartbeat:
            return
        self._last_beat = time.monotonic()  # also after a failure: try again one interval later
        try:
            self.ledger.heartbeat(self.dispatcher_id)
        except DatabaseError as exc:
            logger.warning("heartbeat not recorded: %s", exc)

    def _submit(self, jobs: list[JobRef]) -> None:
        """Open attempts and submit them, in chunks with heartbeats between (large batches)."""
        for start in range(0, len(jobs), SUBMIT_CHUNK):
            self._beat_if_due()
            self._submit_chunk(jobs[start : start + SUBMIT_CHUNK])

    def _submit_chunk(self, jobs: list[JobRef]) -> None:
        payloads = self.kind.payloads(self.db, [j.key for j in jobs], self.config)
        gone = [(j, p) for j, p in zip(jobs, payloads, strict=True) if isinstance(p, BaseException)]
        if gone:
            self._fail_unrunnable(gone)
            kept = [(j, p) for j, p in zip(jobs, payloads, strict=True) if not isinstance(p, BaseException)]
            jobs, payloads = [j for j, _ in kept], [p for _, p in kept]
            if not jobs:
                return
        numbers = self.ledger.begin_attempts(jobs, self.dispatcher_id)
        keys = [f"tiepoint-{self.kind.name}-{j.id}-{numbers[j.id]}-{self._token}" for j in jobs]
        n = len(jobs)
        futures = self._client.map(
            run_attempt,
            [self.kind.run] * n,
            payloads,
            [self._job_config_json] * n,
            [j.force and self._job_takes_force for j in jobs],
            [self.kind.subject(p) for p in payloads],
            key=keys,
            pure=False,
        )
        with self._cond:
            for job, key, fut in zip(jobs, keys, futures, strict=True):
                self._known[job.id] = job.key
                self._force[job.id] = job.force
                self._finished.discard(job.id)
                self._futures[key] = (job.id, numbers[job.id], fut)
        for fut in futures:
            fut.add_done_callback(self._on_done)

    def _fail_unrunnable(self, gone: list[tuple[JobRef, BaseException]]) -> None:
        """Jobs whose subject is gone (their payload is the error): failed for good, never submitted."""
        self.ledger.fail_for_good(
            [(job.id, type(exc).__name__, str(exc)) for job, exc in gone], self.dispatcher_id
        )
        with self._cond:
            for job, _ in gone:
                self._known[job.id] = job.key
                self._force[job.id] = job.force
                self._finished.add(job.id)
        for job, exc in gone:
            logger.warning("%s job %s cannot run: %s", self.kind.name, job.key, exc)

    def _handle_done(self, futures: list[Any]) -> None:
        # Futures leave self._futures only after their retries are submitted, so wait() never
        # sees an empty table while a job still has attempts to go.
        mine = []
        for fut in futures:
            with self._cond:
                entry = self._futures.get(fut.key)
            if entry is not None and entry[2] is fut:
                mine.append((fut, entry))
        keys = [fut.key for fut, _ in mine]
        outcomes = self._outcomes([fut for fut, _ in mine])
        items = [
            SpooledOutcome(job_id, number, o, self.kind.name)
            for (_, (job_id, number, _)), o in zip(mine, outcomes, strict=True)
        ]
        retry: list[JobRef] = []
        try:
            for item, rec in zip(items, self._record_or_spool(items), strict=True):
                if rec is not None and rec.retry:
                    retry.append(rec.job)
                else:  # succeeded, failed for good, spooled, or a duplicate outcome
                    with self._cond:
                        self._finished.add(item.job_id)
            try:
                self._submit(retry)
            except DatabaseUnavailableError:
                logger.warning("database unavailable: %d jobs will be resubmitted on resume", len(retry))
        finally:
            with self._cond:
                for key in keys:
                    entry = self._futures.pop(key, None)
                    if entry is not None:
                        entry[2].release()

    def _outcomes(self, futures: list[Any]) -> list[AttemptOutcome]:
        """The outcomes of finished futures: results gathered in one round trip to the scheduler."""
        done = [f for f in futures if f.status == "finished"]
        try:
            gathered = dict(zip([f.key for f in done], self._client.gather(done), strict=True))
        except Exception:  # a result was lost meanwhile: ask one by one
            gathered = {}
        out = []
        for fut in futures:
            outcome = gathered.get(fut.key)
            if outcome is None:
                try:
                    outcome = fut.result()
                except BaseException as exc:  # KilledWorker, CancelledError, an unpicklable result, ...
                    outcome = outcome_from_exception(exc)
            if not isinstance(outcome, AttemptOutcome):  # pragma: no cover - only run_attempt is submitted
                outcome = AttemptOutcome(
                    ok=False, error_type="TypeError", error_message=f"unexpected {outcome!r}"
                )
            out.append(outcome)
        return out

    def _record_or_spool(self, items: list[SpooledOutcome]) -> list[Any]:
        """Record *items*; if the database is unavailable keep them in the spool (result None)."""
        if not items:
            return []
        if not self._spool_pending:
            try:
                return self._record(items)
            except DatabaseUnavailableError as exc:
                logger.warning("database unavailable, %d outcomes spooled: %s", len(items), exc)
                self._spool_pending = True
                self._last_spool_try = time.monotonic()
            except Exception:  # an unexpected failure: keep the outcomes and retry later
                logger.exception("recording %d outcomes failed; they are spooled", len(items))
                self._spool_pending = True
                self._last_spool_try = time.monotonic()
        for item in items:
            self.spool.put(item)
        return [None] * len(items)

    def _record(self, items: list[SpooledOutcome]) -> list[Any]:
        """Write the results and record the attempts of *items*: one transaction for each."""
        outcomes = [item.outcome for item in items]
        result_ids: list[Any] = [None] * len(items)
        ok = [i for i, o in enumerate(outcomes) if o.ok]
        unknown = {items[i].job_id for i in ok} - self._force.keys()
        force = {**self._force, **self.ledger.force_of_many(unknown)} if unknown else self._force
        for flag in (False, True):
            group = [i for i in ok if force.get(items[i].job_id, False) == flag]
            if not group:
                continue
            try:
                ids = self.kind.write(self.db, [outcomes[i].result for i in group], flag)
            except DatabaseUnavailableError:
                raise
            except Exception:  # one bad result fails the batch: write one by one to find it
                ids = [self._write_one(outcomes, i, flag) for i in group]
            for i, result_id in zip(group, ids, strict=True):
                result_ids[i] = result_id
        entries = [
            (it.job_id, it.number, o, rid) for it, o, rid in zip(items, outcomes, result_ids, strict=True)
        ]
        return self.ledger.finish_many(entries)

    def _write_one(self, outcomes: list[AttemptOutcome], i: int, force: bool) -> Any:
        """Write one result; a rejected one turns its outcome into a failure (returns None).

        Anything but :class:`DatabaseUnavailableError` (re-raised) means the result is bad: its
        attempt is recorded as failed with that error.
        """
        outcome = outcomes[i]
        try:
            return self.kind.write(self.db, [outcome.result], force)[0]
        except DatabaseUnavailableError:
            raise
        except Exception as exc:
            outcomes[i] = AttemptOutcome(
                ok=False,
                host=outcome.host,
                worker=outcome.worker,
                started=outcome.started,
                finished=outcome.finished,
                error_type=type(exc).__name__,
                error_message=f"writing the result failed: {exc}",
                traceback="".join(traceback.format_exception(exc)),
                log=outcome.log,
            )
            return None

    def _replay_spool(self) -> None:
        self._last_spool_try = time.monotonic()
        retry: list[JobRef] = []
        pending = False
        for path, item in self.spool.items(self.kind.name):
            try:
                (rec,) = self._record([item])
            except DatabaseUnavailableError:
                pending = True
                break
            except Exception:  # keep it for a later try; the others may go through
                logger.exception("spooled outcome %s could not be recorded", path)
                pending = True
                continue
            self.spool.remove(path)
            if rec is not None and rec.retry:
                retry.append(rec.job)
        self._spool_pending = pending
        if retry:
            self._submit(retry)

    def _register(self) -> None:
        self.dispatcher_id = self.ledger.register(self._token, socket.gethostname(), os.getpid())
        self._last_beat = time.monotonic()

    def _resume(self) -> None:
        def alive(dispatcher: Dispatcher, now: datetime) -> bool:
            return dispatcher_is_alive(dispatcher, now, self.stale_after)

        jobs = self.ledger.take_over(self.kind.name, self.dispatcher_id, alive)  # type: ignore[arg-type]
        if not jobs:
            return
        done = self.kind.done(self.db, [j.key for j in jobs if not j.force])
        finished = [j for j in jobs if j.key in done and not j.force]
        self.ledger.mark_succeeded_without_run(finished)
        rest = [j for j in jobs if j not in finished]
        logger.info(
            "resuming %d unfinished %s jobs (%d already done)", len(rest), self.kind.name, len(finished)
        )
        self._submit(rest)

    def _rerun_failed(self) -> list[str]:
        active = self._active_keys()
        jobs = [j for j in self.ledger.newest_failed(self.kind.name) if j.key not in active]
        self.ledger.requeue(jobs, self.config.cluster.maxfailures, self.dispatcher_id)
        self._submit(jobs)
        return [j.key for j in jobs]

    def _shutdown(self) -> None:
        with self._cond:
            entries = list(self._futures.values())
            self._futures.clear()
        if entries:
            self._client.cancel([fut for _, _, fut in entries])
            self.ledger.abandon(
                [job_id for job_id, _, _ in entries], f"cancelled: the {type(self).__name__} was closed"
            )
        try:
            self._replay_spool()
        except DatabaseError as exc:  # pragma: no cover - reported, the spool stays on disk
            logger.warning("spooled outcomes stay in %s: %s", self.spool.directory, exc)
        if self.dispatcher_id is not None:
            self.ledger.close_dispatcher(self.dispatcher_id)


__all__ = ["HEARTBEAT_SECONDS", "RECENT_FAILURES", "STALE_HEARTBEATS", "JobRunner", "dispatcher_is_alive"]
