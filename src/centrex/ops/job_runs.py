"""The scheduler's rows (store/models/jobs.py): the lock one node at a time holds to run a job, and
the record of each run. Each function is its own short transaction.

The lock is a lease row, claimed by one conditional UPDATE (or the first INSERT): atomic on SQLite
(one writer at a time) and on PostgreSQL (a second UPDATE waits for the first and re-reads the row),
so the same code serves one node on SQLite and several sharing PostgreSQL. A node that dies while
holding it is overtaken once the lease runs out; advisory locks would free it at once, but exist on
PostgreSQL only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.db import transaction
from centrex.store.models.jobs import JobLock, JobRun

RUNNING, OK, FAILED = "running", "ok", "failed"


def claim(sessions: sessionmaker[Session], job: str, node: str, lease_s: float) -> bool:
    """Take the job's lock for ``lease_s`` seconds; False when another node holds it."""
    now = datetime.now(UTC)
    until = now + timedelta(seconds=lease_s)
    try:
        with transaction(sessions) as s:
            taken = s.execute(
                update(JobLock)
                .where(JobLock.job == job, or_(JobLock.until < now, JobLock.node == node))
                .values(node=node, until=until)
                .execution_options(synchronize_session=False)
            )
            if getattr(taken, "rowcount", 0) == 1:
                return True
            if s.get(JobLock, job) is not None:
                return False
            s.add(JobLock(job=job, node=node, until=until))
    except IntegrityError:  # another node inserted the first lock row at the same moment
        return False
    return True


def release(sessions: sessionmaker[Session], job: str, node: str) -> None:
    with transaction(sessions) as s:
        s.execute(
            update(JobLock)
            .where(JobLock.job == job, JobLock.node == node)
            .values(until=datetime(1970, 1, 1, tzinfo=UTC))
            .execution_options(synchronize_session=False)
        )


def done(sessions: sessionmaker[Session], job: str, period: str) -> bool:
    """A run of ``job`` for ``period`` succeeded (dry runs do not count)."""
    with sessions() as s:
        return bool(
            s.scalar(
                select(
                    exists().where(
                        JobRun.job == job, JobRun.period == period, JobRun.status == OK, ~JobRun.dry_run
                    )
                )
            )
        )


def failed_since(sessions: sessionmaker[Session], job: str, period: str, since: datetime) -> bool:
    """A run of ``job`` for ``period`` failed after ``since`` (so the scheduler waits to try again)."""
    with sessions() as s:
        stmt = exists().where(
            JobRun.job == job, JobRun.period == period, JobRun.status == FAILED, JobRun.finished_at >= since
        )
        return bool(s.scalar(select(stmt)))


def start(
    sessions: sessionmaker[Session], job: str, period: str, trigger: str, dry_run: bool, node: str
) -> uuid.UUID:
    with transaction(sessions) as s:
        run = JobRun(
            job=job,
            period=period,
            trigger=trigger,
            dry_run=dry_run,
            node=node,
            status=RUNNING,
            started_at=datetime.now(UTC),
            error="",
        )
        s.add(run)
        s.flush()
        return run.id


def finish(
    sessions: sessionmaker[Session],
    run_id: uuid.UUID,
    status: str,
    report: dict[str, Any] | None = None,
    error: str = "",
) -> datetime:
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        run = s.get(JobRun, run_id)
        if run is not None:
            run.status, run.report, run.error, run.finished_at = status, report, error[:2000], now
    return now


def last_run(sessions: sessionmaker[Session], job: str) -> JobRun | None:
    runs = runs_of(sessions, job, limit=1)
    return runs[0] if runs else None


def runs_of(sessions: sessionmaker[Session], job: str, limit: int = 20) -> list[JobRun]:
    with sessions() as s:
        stmt = select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at.desc()).limit(limit)
        return list(s.scalars(stmt))
