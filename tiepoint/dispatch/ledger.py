"""The job ledger: the ``jobs``, ``job_attempts`` and ``dispatchers`` tables, used by dispatchers only.

A job is one request to run a job of one kind on one key (``kind``, ``key``, ``force``): ``ingest``
an image path, ``match`` an image pair, ... Every query takes the kind, so dispatchers of different
kinds on one database never see, resume or run each other's jobs. A job's ``state`` goes
``queued -> running -> succeeded | failed``; every submission to the cluster is a
:class:`~tiepoint.db.JobAttempt` numbered from 1, ``running`` until its outcome is recorded. A job
fails once ``maxfailures`` attempts have failed. While queued or running, a job is owned by the
:class:`~tiepoint.db.Dispatcher` that created, submitted or took it over (``jobs.dispatcher_id``);
a dispatcher keeps its ``heartbeat`` fresh, and :meth:`Ledger.take_over` hands the jobs of a
dispatcher judged gone to another. All methods open their own short session.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from tiepoint.db import FAILED, QUEUED, RUNNING, SUCCEEDED, Database, Dispatcher, Job, JobAttempt
from tiepoint.db.batches import chunks
from tiepoint.dispatch.attempt import AttemptOutcome

CANCELLED, LOST = "Cancelled", "DispatcherLost"
"""``error_type`` of failed attempts that say nothing about the image: cancelled by their own
dispatcher as it closed, or lost with a dispatcher that died. They do not count as failures."""
NOT_FAILURES = (CANCELLED, LOST)
ACTIVE = (QUEUED, RUNNING)
ERROR_MESSAGE_LIMIT = 4000


@dataclass(slots=True, frozen=True)
class JobRef:
    """What the dispatcher needs to (re)submit a job."""

    id: int
    key: str
    force: bool


@dataclass(slots=True, frozen=True)
class Recorded:
    """A job's state after an outcome was recorded."""

    job: JobRef
    state: str
    failures: int
    retry: bool
    """True when the attempt failed and the job has attempts left."""


@dataclass(slots=True, frozen=True)
class FailedJob:
    """A job whose newest run failed for good, as status displays list it."""

    key: str
    attempts: int
    error: str | None
    """``"Type: message"`` of its last failed attempt."""
    updated: datetime


@dataclass(slots=True, frozen=True)
class Summary:
    """What the ledger holds for one kind, in two queries (see :meth:`Ledger.summary`)."""

    counts: dict[str, int]
    """``{state: number of keys}`` over the newest job of every key."""
    recent_failures: list[FailedJob]
    """The failed jobs updated last, newest first."""


def _counts_as_failure() -> Any:
    return (JobAttempt.state == FAILED) & (
        JobAttempt.error_type.is_(None) | JobAttempt.error_type.not_in(NOT_FAILURES)
    )


def _bulk_update(s: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """UPDATE by primary key, one executemany per set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        for chunk in chunks(group):
            s.execute(update(model), chunk)


def _now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """Job bookkeeping in the database.

    Parameters
    ----------
    db : Database
        The tiepoint database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def _clock(self, s: Any) -> datetime:
        """Now, for heartbeats: the server's clock on PostgreSQL, so that dispatchers on hosts whose
        clocks differ are compared on one clock; this host's clock on SQLite (keep hosts in NTP sync)."""
        if self.db.dialect == "postgresql":
            return s.execute(select(func.clock_timestamp())).scalar_one().astimezone(UTC)
        return _now()

    # -- dispatchers -------------------------------------------------------------------------------

    def register(self, token: str, host: str, pid: int) -> int:
        """Add a live dispatcher and return its id."""
        with self.db.session() as s:
            now = self._clock(s)
            row = {"token": token, "host": host, "pid": pid, "started": now, "heartbeat": now}
            return s.execute(insert(Dispatcher).returning(Dispatcher.id), [row]).scalar_one()

    def heartbeat(self, dispatcher_id: int) -> None:
        """Record that a dispatcher is alive now."""
        with self.db.session() as s:
            s.execute(
                update(Dispatcher).where(Dispatcher.id == dispatcher_id).values(heartbeat=self._clock(s))
            )

    def close_dispatcher(self, dispatcher_id: int) -> None:
        """Mark a dispatcher closed: its unfinished jobs may be taken over at once."""
        with self.db.session() as s:
            now = self._clock(s)
            s.execute(
                update(Dispatcher).where(Dispatcher.id == dispatcher_id).values(heartbeat=now, closed=now)
            )

    def take_over(
        self, kind: str, dispatcher_id: int, alive: Callable[[Dispatcher, datetime], bool]
    ) -> list[JobRef]:
        """Take the queued and running *kind* jobs of dispatchers that are gone; return them, oldest first.

        Their running attempts are closed as failed with :data:`LOST` (not counted as failures)
        and the jobs, now owned by *dispatcher_id*, are queued. A job is claimed only if its owner
        did not change meanwhile, so two dispatchers resuming at once never both take it.

        Parameters
        ----------
        kind : str
            Only jobs of this kind are taken.
        dispatcher_id : int
            The dispatcher taking over.
        alive : callable
            ``alive(dispatcher, now)``: whether an owner is still alive (see
            :func:`tiepoint.dispatch.adder.dispatcher_is_alive`); jobs without an owner are taken.
        """
        taken: list[int] = []
        with self.db.session() as s:
            now = self._clock(s)
            rows = s.execute(
                select(Job.id, Job.key, Job.force, Job.dispatcher_id).where(
                    Job.kind == kind, Job.state.in_(ACTIVE)
                )
            ).all()
            owners = sorted({r.dispatcher_id for r in rows if r.dispatcher_id not in (None, dispatcher_id)})
            live = {dispatcher_id}
            for chunk in chunks(owners):
                found = s.execute(select(Dispatcher).where(Dispatcher.id.in_(chunk))).scalars()
                live.update(d.id for d in found if alive(d, now))
            lost: dict[int | None, list[int]] = {}
            for r in rows:
                if r.dispatcher_id not in live:
                    lost.setdefault(r.dispatcher_id, []).append(r.id)
            for owner, ids in lost.items():
                same_owner = Job.dispatcher_id.is_(None) if owner is None else Job.dispatcher_id == owner
                for chunk in chunks(ids):
                    claim = (
                        update(Job)
                        .where(Job.id.in_(chunk), Job.state.in_(ACTIVE), same_owner)
                        .values(dispatcher_id=dispatcher_id, state=QUEUED, updated=now)
                        .returning(Job.id)
                        .execution_options(synchronize_session=False)
                    )
                    taken += s.execute(claim).scalars().all()
            for chunk in chunks(taken):
                s.execute(
                    update(JobAttempt)
                    .where(JobAttempt.job_id.in_(chunk), JobAttempt.state == RUNNING)
                    .values(state=FAILED, finished=now, error_type=LOST, error_message="dispatcher lost")
                    .execution_options(synchronize_session=False)
                )
        refs = {r.id: JobRef(r.id, r.key, bool(r.force)) for r in rows}
        return [refs[i] for i in sorted(taken)]

    # -- jobs --------------------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        keys: Sequence[str],
        force: bool,
        maxfailures: int,
        dispatcher_id: int | None = None,
    ) -> list[JobRef]:
        """Add one queued *kind* job per key, owned by *dispatcher_id*, and return them (in the order
        of *keys*)."""
        now = _now()
        rows = [
            {
                "kind": kind,
                "key": k,
                "force": force,
                "state": QUEUED,
                "attempts": 0,
                "maxfailures": maxfailures,
                "submitted": now,
                "updated": now,
                "dispatcher_id": dispatcher_id,
            }
            for k in keys
        ]
        refs: list[JobRef] = []
        with self.db.session() as s:
            for chunk in chunks(rows):
                stmt = insert(Job).returning(Job.id, Job.key, sort_by_parameter_order=True)
                refs += [JobRef(r.id, r.key, force) for r in s.execute(stmt, chunk)]
        return refs

    def create_failed(
        self, kind: str, rejected: Sequence[tuple[str, str, str]], dispatcher_id: int | None = None
    ) -> list[JobRef]:
        """Record keys that could not be submitted at all as failed jobs, each with one failed attempt.

        Parameters
        ----------
        kind : str
            The jobs' kind.
        rejected : sequence of (key, error type, message)
            What went wrong with each key (e.g. ``("/data/x.cub", "ImageError", "is a directory")``).
        dispatcher_id : int, optional
            The dispatcher recording them.
        """
        if not rejected:
            return []
        now = _now()
        rows = [
            {
                "kind": kind,
                "key": key,
                "force": False,
                "state": FAILED,
                "attempts": 1,
                "maxfailures": 1,
                "submitted": now,
                "updated": now,
                "dispatcher_id": dispatcher_id,
                "last_error": f"{etype}: {message}"[:ERROR_MESSAGE_LIMIT],
            }
            for key, etype, message in rejected
        ]
        refs: list[JobRef] = []
        with self.db.session() as s:
            for chunk in chunks(rows):
                stmt = insert(Job).returning(Job.id, Job.key, sort_by_parameter_order=True)
                refs += [JobRef(r.id, r.key, False) for r in s.execute(stmt, chunk)]
            attempts = [
                {
                    "job_id": ref.id,
                    "number": 1,
                    "state": FAILED,
                    "started": now,
                    "finished": now,
                    "host": socket.gethostname(),
                    "error_type": etype,
                    "error_message": f"{key}: {message}"[:ERROR_MESSAGE_LIMIT],
                }
                for ref, (key, etype, message) in zip(refs, rejected, strict=True)
            ]
            for chunk in chunks(attempts):
                s.execute(insert(JobAttempt), chunk)
        return refs

    def fail_for_good(
        self, failures: Sequence[tuple[int, str, str]], dispatcher_id: int | None = None
    ) -> None:
        """Fail jobs that cannot run any more (their subject is gone): one failed attempt each with
        ``(job id, error type, message)``, and the jobs ``failed`` whatever their ``maxfailures``."""
        if not failures:
            return
        now = _now()
        with self.db.session() as s:
            ids = [job_id for job_id, _, _ in failures]
            numbers: dict[int, int] = {}
            for chunk in chunks(ids):
                for job_id, attempts in s.execute(select(Job.id, Job.attempts).where(Job.id.in_(chunk))):
                    numbers[job_id] = (attempts or 0) + 1
            attempts = [
                {
                    "job_id": job_id,
                    "number": numbers[job_id],
                    "state": FAILED,
                    "started": now,
                    "finished": now,
                    "host": socket.gethostname(),
                    "error_type": etype,
                    "error_message": message[:ERROR_MESSAGE_LIMIT],
                }
                for job_id, etype, message in failures
                if job_id in numbers
            ]
            for chunk in chunks(attempts):
                s.execute(insert(JobAttempt), chunk)
            updates = [
                {
                    "id": job_id,
                    "attempts": numbers[job_id],
                    "state": FAILED,
                    "updated": now,
                    "dispatcher_id": dispatcher_id,
                    "last_error": f"{etype}: {message}"[:ERROR_MESSAGE_LIMIT],
                }
                for job_id, etype, message in failures
                if job_id in numbers
            ]
            _bulk_update(s, Job, updates)

    def begin_attempts(self, jobs: Sequence[JobRef], dispatcher_id: int | None = None) -> dict[int, int]:
        """Open a running attempt for each job, now owned by *dispatcher_id*; return
        ``{job id: attempt number}``."""
        if not jobs:
            return {}
        now = _now()
        numbers: dict[int, int] = {}
        with self.db.session() as s:
            for chunk in chunks([j.id for j in jobs]):
                for job_id, attempts in s.execute(select(Job.id, Job.attempts).where(Job.id.in_(chunk))):
                    numbers[job_id] = (attempts or 0) + 1
            updates = [
                {"id": i, "attempts": n, "state": RUNNING, "updated": now, "dispatcher_id": dispatcher_id}
                for i, n in numbers.items()
            ]
            new = [{"job_id": i, "number": n, "state": RUNNING, "started": now} for i, n in numbers.items()]
            for chunk in chunks(updates):
                s.execute(update(Job), chunk)
            for chunk in chunks(new):
                s.execute(insert(JobAttempt), chunk)
        return numbers

    def finish_many(self, items: Sequence[tuple[int, int, AttemptOutcome, Any]]) -> list[Recorded | None]:
        """Record many ``(job id, attempt number, outcome, image id)`` in one transaction.

        A failed attempt sends its job back to ``running`` for a retry while it has failed fewer
        than ``maxfailures`` times, else to ``failed``. Returns, per item, the job's new state, or
        None when that attempt was already closed (a replayed or duplicate outcome).
        """
        if not items:
            return []
        now = _now()
        ids = sorted({job_id for job_id, _, _, _ in items})
        jobs: dict[int, Any] = {}
        attempts: dict[tuple[int, int], int] = {}
        failures: dict[int, int] = dict.fromkeys(ids, 0)
        out: list[Recorded | None] = []
        job_updates: dict[int, dict[str, Any]] = {}
        attempt_updates: list[dict[str, Any]] = []
        with self.db.session() as s:
            for chunk in chunks(ids):
                cols = (Job.id, Job.key, Job.force, Job.state, Job.maxfailures)
                jobs.update({r.id: r for r in s.execute(select(*cols).where(Job.id.in_(chunk)))})
                running = select(JobAttempt.id, JobAttempt.job_id, JobAttempt.number).where(
                    JobAttempt.job_id.in_(chunk), JobAttempt.state == RUNNING
                )
                attempts.update({(r.job_id, r.number): r.id for r in s.execute(running)})
                counts = select(JobAttempt.job_id, func.count()).where(
                    JobAttempt.job_id.in_(chunk), _counts_as_failure()
                )
                failures.update({j: int(n) for j, n in s.execute(counts.group_by(JobAttempt.job_id))})
            state = {i: r.state for i, r in jobs.items()}
            for job_id, number, outcome, image_id in items:
                job, attempt_id = jobs.get(job_id), attempts.pop((job_id, number), None)
                if job is None or attempt_id is None:
                    out.append(None)
                    continue
                row: dict[str, Any] = {"id": attempt_id, "state": SUCCEEDED if outcome.ok else FAILED}
                row.update(
                    host=outcome.host,
                    worker=outcome.worker,
                    finished=outcome.finished or now,
                    error_type=outcome.error_type,
                    error_message=(outcome.error_message or "")[:ERROR_MESSAGE_LIMIT] or None,
                    traceback=outcome.traceback,
                    log=outcome.log or None,
                )
                if outcome.started is not None:
                    row["started"] = outcome.started
                attempt_updates.append(row)
                update_job = job_updates.setdefault(job_id, {"id": job_id, "updated": now})
                retry = False
                if outcome.ok:
                    state[job_id] = SUCCEEDED
                    update_job["image_id"] = image_id
                else:
                    failures[job_id] += 1
                    error = f"{outcome.error_type}: {outcome.error_message}"[:ERROR_MESSAGE_LIMIT]
                    update_job["last_error"] = error
                    retry = state[job_id] in ACTIVE and failures[job_id] < job.maxfailures
                    state[job_id] = RUNNING if retry else FAILED
                update_job["state"] = state[job_id]
                ref = JobRef(job_id, job.key, bool(job.force))
                out.append(Recorded(ref, state[job_id], failures[job_id], retry))
            _bulk_update(s, JobAttempt, attempt_updates)
            _bulk_update(s, Job, list(job_updates.values()))
        return out

    def force_of_many(self, job_ids: Iterable[int]) -> dict[int, bool]:
        """``{job id: force}``."""
        ids = sorted(set(job_ids))
        if not ids:
            return {}
        with self.db.session() as s:
            return {i: bool(f) for i, f in s.execute(select(Job.id, Job.force).where(Job.id.in_(ids)))}

    @staticmethod
    def _failures(s: Any, job_id: int) -> int:
        q = select(func.count()).where(JobAttempt.job_id == job_id, _counts_as_failure())
        return int(s.execute(q).scalar_one())

    def abandon(self, job_ids: Iterable[int], reason: str, error_type: str = CANCELLED) -> None:
        """Close the running attempts of jobs given up on as failed with *error_type*
        (:data:`CANCELLED` or :data:`LOST`, neither counted as a failure); the jobs go back to queued
        (and are taken over once their dispatcher is closed).
        """
        ids = list(job_ids)
        if not ids:
            return
        now = _now()
        with self.db.session() as s:
            s.execute(
                update(JobAttempt)
                .where(JobAttempt.job_id.in_(ids), JobAttempt.state == RUNNING)
                .values(state=FAILED, finished=now, error_type=error_type, error_message=reason)
            )
            s.execute(
                update(Job).where(Job.id.in_(ids), Job.state.in_(ACTIVE)).values(state=QUEUED, updated=now)
            )

    def mark_succeeded_without_run(self, jobs: Sequence[JobRef]) -> None:
        """Close jobs whose image is already in the database (resumed after its result was written)."""
        if not jobs:
            return
        with self.db.session() as s:
            s.execute(
                update(Job).where(Job.id.in_([j.id for j in jobs])).values(state=SUCCEEDED, updated=_now())
            )

    def latest(self, kind: str) -> dict[str, tuple[str, int]]:
        """``{key: (state, failed attempts)}`` of the newest *kind* job of every key."""
        with self.db.session() as s:
            newest = select(func.max(Job.id).label("id")).where(Job.kind == kind).group_by(Job.key).subquery()
            fails = (
                select(JobAttempt.job_id, func.count().label("n"))
                .where(_counts_as_failure())
                .group_by(JobAttempt.job_id)
                .subquery()
            )
            q = (
                select(Job.key, Job.state, func.coalesce(fails.c.n, 0))
                .join(newest, newest.c.id == Job.id)
                .outerjoin(fails, fails.c.job_id == Job.id)
                .order_by(Job.key)
            )
            return {key: (state, int(n)) for key, state, n in s.execute(q)}

    def summary(self, kind: str, recent: int = 5) -> Summary:
        """State counts over the newest *kind* job of every key, and the *recent* failed jobs that
        were updated last (two queries, whatever the size of the ledger)."""
        with self.db.session() as s:
            newest = select(func.max(Job.id).label("id")).where(Job.kind == kind).group_by(Job.key).subquery()
            by_state = select(Job.state, func.count()).join(newest, newest.c.id == Job.id).group_by(Job.state)
            counts = {state: int(n) for state, n in s.execute(by_state)}
            failed = (
                select(Job.key, Job.attempts, Job.last_error, Job.updated)
                .join(newest, newest.c.id == Job.id)
                .where(Job.state == FAILED)
                .order_by(Job.updated.desc(), Job.id.desc())
                .limit(max(int(recent), 0))
            )
            rows = [
                FailedJob(r.key, int(r.attempts or 0), r.last_error, r.updated) for r in s.execute(failed)
            ]
        return Summary(counts, rows)

    def newest_failed(self, kind: str) -> list[JobRef]:
        """The newest *kind* job of every key whose newest job failed."""
        with self.db.session() as s:
            newest = select(func.max(Job.id).label("id")).where(Job.kind == kind).group_by(Job.key).subquery()
            q = (
                select(Job.id, Job.key, Job.force)
                .join(newest, newest.c.id == Job.id)
                .where(Job.state == FAILED)
            )
            return [JobRef(r.id, r.key, bool(r.force)) for r in s.execute(q.order_by(Job.key))]

    def last_errors(self, kind: str, keys: Sequence[str]) -> dict[str, str | None]:
        """``{key: error of the newest attempt of the newest job}`` for *keys* (one query per chunk)."""
        out: dict[str, str | None] = {}
        with self.db.session() as s:
            for chunk in chunks(list(keys)):
                newest_job = (
                    select(func.max(Job.id).label("id"))
                    .where(Job.kind == kind, Job.key.in_(chunk))
                    .group_by(Job.key)
                    .subquery()
                )
                newest_attempt = (
                    select(JobAttempt.job_id, func.max(JobAttempt.number).label("number"))
                    .join(newest_job, newest_job.c.id == JobAttempt.job_id)
                    .group_by(JobAttempt.job_id)
                    .subquery()
                )
                q = (
                    select(Job.key, JobAttempt.error_type, JobAttempt.error_message)
                    .join(newest_attempt, newest_attempt.c.job_id == Job.id)
                    .join(
                        JobAttempt,
                        (JobAttempt.job_id == newest_attempt.c.job_id)
                        & (JobAttempt.number == newest_attempt.c.number),
                    )
                )
                for key, etype, message in s.execute(q):
                    out[key] = f"{etype}: {message}" if etype else None
        return out

    def requeue(self, jobs: Sequence[JobRef], extra_failures: int, dispatcher_id: int | None = None) -> None:
        """Give failed jobs ``extra_failures`` more attempts and queue them again, owned by
        *dispatcher_id*."""
        if not jobs:
            return
        with self.db.session() as s:
            for job in s.execute(select(Job).where(Job.id.in_([j.id for j in jobs]))).scalars():
                job.maxfailures = self._failures(s, job.id) + extra_failures
                job.state = QUEUED
                job.updated = _now()
                job.dispatcher_id = dispatcher_id

    def attempts(self, kind: str, key: str) -> list[dict[str, Any]]:
        """Every attempt of every *kind* job of *key*, oldest first, as plain dicts."""
        with self.db.session() as s:
            q = (
                select(Job, JobAttempt)
                .join(JobAttempt, JobAttempt.job_id == Job.id)
                .where(Job.kind == kind, Job.key == key)
                .order_by(Job.id, JobAttempt.number)
            )
            out = []
            for job, a in s.execute(q):
                error = f"{a.error_type}: {a.error_message}" if a.error_type else None
                out.append(
                    {
                        "job": job.id,
                        "kind": job.kind,
                        "key": job.key,
                        "attempt": a.number,
                        "state": a.state,
                        "force": bool(job.force),
                        "dispatcher": job.dispatcher_id,
                        "host": a.host,
                        "worker": a.worker,
                        "started": a.started,
                        "finished": a.finished,
                        "error": error,
                        "error_type": a.error_type,
                        "error_message": a.error_message,
                        "traceback": a.traceback,
                        "log": a.log,
                    }
                )
            return out
