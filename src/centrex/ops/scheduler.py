"""Scheduled jobs: a registry that jobs plug into, and the scheduler that runs them inside
``centrex serve`` (``centrex jobs list|run`` from the command line).

A job is a name, a period (ops/periods.py: Daily, Monthly, Every) and a function that takes a
JobContext (the session factory, ``now``, ``dry_run``) and returns a JobReport::

    def purge_things(ctx: JobContext) -> JobReport:
        ...                                   # one transaction per batch; nothing when ctx.dry_run
        return JobReport(f"{n} things deleted", {"deleted": n})

    registry.add(Job("thing-retention", Daily(3), purge_things, "Delete things past 30 days"))

Each run takes the job's lock (ops/job_runs.py: one node at a time, on SQLite or shared
PostgreSQL), is recorded in ``job_runs`` (start, end, outcome, report), and a successful one marks
its period done, so a restarted service or a second node does not run it again. A failed run is
tried again ``retry_s`` later. Jobs run one after another in a worker thread: they use the
blocking database API, and the event loop (calls) never waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.ops import job_runs
from centrex.ops.periods import Period

log = logging.getLogger(__name__)

NODE = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class JobContext:
    sessions: sessionmaker[Session]
    now: datetime  # the time the job acts as of (UTC); the scheduler's clock, or --as-of
    dry_run: bool = False  # report what would be done; change nothing
    period: str = ""  # the key of the period this run is for ("2026-12-06")
    on_progress: Callable[[int, int | None], None] | None = None  # (done, total) for progress bars
    stop_requested: Callable[[], bool] = lambda: False  # the service is stopping
    keep_lock: Callable[[], bool] = lambda: True  # renews the job's lock; False once it is lost

    def progress(self, done: int, total: int | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)

    def check_stop(self) -> None:
        """Call between batches. Renews the job's lock (a long job keeps it past its lease) and
        raises Stopped when the service is stopping or the lock was lost (what is committed stays;
        the run is recorded as failed, so the period runs again later)."""
        if self.stop_requested():
            raise Stopped("the service is stopping")
        if not self.keep_lock():
            raise Stopped("the job's lock was taken by another node")


class Stopped(Exception):
    pass


@dataclass(frozen=True, slots=True)
class JobReport:
    """What a run did (or would do, in a dry run): one line, counts, and rows for a table. Stored as
    JSON in ``job_runs.report``, so values must be JSON-able (str() dates, UUIDs and Decimals)."""

    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    period: Period
    run: Callable[[JobContext], JobReport]
    description: str
    lease_s: float = 3600.0  # the lock is overtaken after this if its node died holding it


class UnknownJob(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class Registry:
    """The jobs of this service, by name, in the order they were added."""

    def __init__(self, jobs: list[Job] | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs or []:
            self.add(job)

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is registered twice")
        self._jobs[job.name] = job
        return job

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(f"no job {name!r} (jobs: {', '.join(self._jobs)})") from None

    def without(self, names: tuple[str, ...] | list[str]) -> Registry:
        """These jobs left out (settings ``jobs_skip``); UnknownJob names one that does not exist."""
        for name in names:
            self.get(name)
        return Registry([job for job in self if job.name not in names])

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    job: str
    period: str
    status: str  # ok / failed / busy (another node holds the lock) / done (the period already ran)
    report: JobReport | None = None
    error: str = ""
    run_id: uuid.UUID | None = None


def run_job(
    sessions: sessionmaker[Session],
    job: Job,
    now: datetime,
    *,
    dry_run: bool = False,
    trigger: str = "manual",
    node: str = NODE,
    only_if_due: bool = False,
    on_progress: Callable[[int, int | None], None] | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
) -> RunOutcome:
    """Run ``job`` as of ``now`` under its lock and record the run. ``only_if_due``: skip a period
    that already ran (the scheduler; checked again under the lock, as another node may have just
    finished it). Never raises for the job's own errors: they are recorded and returned."""
    period, _ = job.period.latest(now)
    if not job_runs.claim(sessions, job.name, node, job.lease_s):
        return RunOutcome(job.name, period, "busy")
    try:
        if only_if_due and job_runs.done(sessions, job.name, period):
            return RunOutcome(job.name, period, "done")
        run_id = job_runs.start(sessions, job.name, period, trigger, dry_run, node)
        ctx = JobContext(
            sessions, now, dry_run, period, on_progress, stop_requested, _renewer(sessions, job, node)
        )
        try:
            report = job.run(ctx)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, Stopped):
                log.warning("job.stopped job=%s period=%s: runs again later", job.name, period)
            else:
                log.exception("job.failed job=%s period=%s", job.name, period)
            job_runs.finish(sessions, run_id, job_runs.FAILED, error=error)
            return RunOutcome(job.name, period, "failed", error=error, run_id=run_id)
        job_runs.finish(sessions, run_id, job_runs.OK, report.as_json())
        log.info("job.done job=%s period=%s dry_run=%s %s", job.name, period, dry_run, report.summary)
        return RunOutcome(job.name, period, "ok", report, run_id=run_id)
    finally:
        job_runs.release(sessions, job.name, node)


def _renewer(sessions: sessionmaker[Session], job: Job, node: str) -> Callable[[], bool]:
    """Renews the lock once a third of its lease has passed (not at every batch: one write)."""
    renewed = time.monotonic()

    def keep_lock() -> bool:
        nonlocal renewed
        if time.monotonic() - renewed < job.lease_s / 3:
            return True
        renewed = time.monotonic()
        return job_runs.claim(sessions, job.name, node, job.lease_s)

    return keep_lock


class Scheduler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        node: str | None = None,
        tick_s: float = 30.0,
        retry_s: float = 900.0,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.clock = clock
        self.node = node or f"{NODE}:{uuid.uuid4().hex[:6]}"
        self.tick_s = tick_s
        self.retry_s = retry_s
        self._stopping = threading.Event()

    def due(self, job: Job, now: datetime) -> bool:
        period, _ = job.period.latest(now)
        if job_runs.done(self.sessions, job.name, period):
            return False
        since = datetime.now(UTC) - timedelta(seconds=self.retry_s)
        return not job_runs.failed_since(self.sessions, job.name, period, since)

    def run_due(self) -> list[RunOutcome]:
        """One pass: run every job whose current period has not run yet (blocking)."""
        outcomes = []
        for job in self.registry:
            if self._stopping.is_set():
                break
            now = self.clock()
            if self.due(job, now):
                outcome = run_job(
                    self.sessions,
                    job,
                    now,
                    trigger="schedule",
                    node=self.node,
                    only_if_due=True,
                    stop_requested=self._stopping.is_set,
                )
                outcomes.append(outcome)
        return outcomes

    async def run_forever(self, first_delay_s: float = 0.0) -> None:
        """The service's task: a pass every ``tick_s`` seconds in a worker thread, until cancelled.
        Cancelling asks a running job to stop at its next batch (JobContext.check_stop), so the
        worker thread, which the loop's shutdown waits for, ends soon. ``first_delay_s``: a node
        just started serves its phones first (a restart brings every phone's REGISTER at once,
        and a job's worker thread competes with the SIP loop for the interpreter)."""
        log.info("scheduler.started node=%s jobs=%s", self.node, ",".join(j.name for j in self.registry))
        try:
            await asyncio.sleep(first_delay_s)
            while True:
                try:
                    await asyncio.to_thread(self.run_due)
                except Exception:  # the database away for a moment: the next pass tries again
                    log.exception("scheduler.pass_failed node=%s", self.node)
                await asyncio.sleep(self.tick_s)
        finally:
            self._stopping.set()
