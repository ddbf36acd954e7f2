"""The scheduler (ops/scheduler.py) on SQLite and PostgreSQL: a job runs once per period, a
restarted service does not run it again, a failure is recorded and tried again later, and two nodes
sharing the database never run the same job at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from centrex.ops import job_runs
from centrex.ops.periods import Daily, Every, Monthly
from centrex.ops.scheduler import Job, JobContext, JobReport, Registry, Scheduler, run_job
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.jobs import JobRun


def test_periods() -> None:
    at = datetime(2026, 12, 6, 2, 59, tzinfo=UTC)
    assert Daily(3).latest(at) == ("2026-12-05", datetime(2026, 12, 5, 3, tzinfo=UTC))
    assert Daily(3).latest(at + timedelta(minutes=1)) == ("2026-12-06", datetime(2026, 12, 6, 3, tzinfo=UTC))
    assert Daily(3).next_start(at) == datetime(2026, 12, 6, 3, tzinfo=UTC)
    assert Monthly(1, 2).latest(datetime(2027, 1, 1, 1, tzinfo=UTC))[0] == "2026-12"  # before 02:00
    assert Monthly(1, 2).latest(datetime(2027, 1, 1, 2, tzinfo=UTC))[0] == "2027-01"
    assert Monthly(28).next_start(datetime(2027, 1, 30, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Every(60).latest(datetime(2026, 12, 6, 12, 0, 59, tzinfo=UTC))[0] == "2026-12-06T12:00:00"
    with pytest.raises(ValueError, match="day 1-28"):
        Monthly(31)
    with pytest.raises(ValueError, match="naive"):
        Daily().latest(datetime(2026, 12, 6))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def counting_job(name: str, calls: list[JobContext], *, fail_first: int = 0, sleep_s: float = 0.0) -> Job:
    def run(ctx: JobContext) -> JobReport:
        calls.append(ctx)
        if sleep_s:
            time.sleep(sleep_s)
        if len(calls) <= fail_first:
            raise RuntimeError("the disk is full")
        return JobReport(f"ran for {ctx.period}", {"things": len(calls)})

    return Job(name, Daily(3), run, "a test job")


def runs(sessions: Any, job: str) -> list[tuple[str, str, str, bool]]:
    with sessions() as s:
        stmt = select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at)
        return [(r.period, r.trigger, r.status, r.dry_run) for r in s.scalars(stmt)]


def test_once_per_period_and_not_again_after_a_restart(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    calls: list[JobContext] = []
    registry = Registry([counting_job("sweep", calls)])
    clock = Clock(datetime(2026, 12, 6, 3, 0, 5, tzinfo=UTC))
    first = Scheduler(sessions, registry, clock=clock)
    assert [o.status for o in first.run_due()] == ["ok"]
    assert first.run_due() == []  # the same period: nothing to do
    # A restarted service (a new scheduler, a new node name) finds the period done.
    assert Scheduler(sessions, registry, clock=clock).run_due() == []
    clock.now += timedelta(days=1)
    (outcome,) = first.run_due()
    assert (
        outcome.status == "ok"
        and outcome.report is not None
        and outcome.report.summary == "ran for 2026-12-07"
    )
    assert [c.period for c in calls] == ["2026-12-06", "2026-12-07"]
    assert calls[0].now == datetime(2026, 12, 6, 3, 0, 5, tzinfo=UTC) and not calls[0].dry_run
    assert runs(sessions, "sweep") == [
        ("2026-12-06", "schedule", "ok", False),
        ("2026-12-07", "schedule", "ok", False),
    ]
    with sessions() as s:
        row = s.scalars(select(JobRun).where(JobRun.period == "2026-12-07")).one()
    assert row.report == {"summary": "ran for 2026-12-07", "counts": {"things": 2}, "rows": []}
    assert row.finished_at is not None and row.finished_at >= row.started_at
    engine.dispose()


def test_a_dry_run_does_not_mark_the_period_done(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    calls: list[JobContext] = []
    job = counting_job("sweep", calls)
    now = datetime(2026, 12, 6, 4, tzinfo=UTC)
    assert run_job(sessions, job, now, dry_run=True).status == "ok"
    assert calls[-1].dry_run and not job_runs.done(sessions, "sweep", "2026-12-06")
    assert [o.status for o in Scheduler(sessions, Registry([job]), clock=Clock(now)).run_due()] == ["ok"]
    assert runs(sessions, "sweep") == [
        ("2026-12-06", "manual", "ok", True),
        ("2026-12-06", "schedule", "ok", False),
    ]
    engine.dispose()


def test_a_failure_is_recorded_and_tried_again_later(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    calls: list[JobContext] = []
    registry = Registry([counting_job("sweep", calls, fail_first=1)])
    clock = Clock(datetime(2026, 12, 6, 3, 30, tzinfo=UTC))
    scheduler = Scheduler(sessions, registry, clock=clock, retry_s=3600)
    (outcome,) = scheduler.run_due()
    assert outcome.status == "failed" and outcome.error == "RuntimeError: the disk is full"
    assert "job.failed job=sweep period=2026-12-06" in caplog.text
    assert scheduler.run_due() == []  # not before retry_s
    impatient = Scheduler(sessions, registry, clock=clock, retry_s=0)
    assert [o.status for o in impatient.run_due()] == ["ok"]
    assert runs(sessions, "sweep") == [
        ("2026-12-06", "schedule", "failed", False),
        ("2026-12-06", "schedule", "ok", False),
    ]
    with sessions() as s:
        failed = s.scalars(select(JobRun).where(JobRun.status == "failed")).one()
    assert failed.error == "RuntimeError: the disk is full" and failed.report is None
    engine.dispose()


def test_two_nodes_never_run_a_job_at_once(db_url: str) -> None:
    """Two schedulers (two nodes) sharing the database, passing at the same moment, many times: each
    period runs exactly once, and never on both nodes together."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    running = 0
    overlaps = 0
    periods: list[str] = []
    lock = threading.Lock()

    def run(ctx: JobContext) -> JobReport:
        nonlocal running, overlaps
        with lock:
            running += 1
            overlaps += running > 1
        time.sleep(0.05)
        with lock:
            running -= 1
            periods.append(ctx.period)
        return JobReport("ok")

    registry = Registry([Job("tick", Every(60), run, "a test job")])
    clock = Clock(datetime(2026, 12, 6, 12, tzinfo=UTC))
    nodes = [Scheduler(sessions, registry, clock=clock, node=f"node-{i}") for i in (1, 2)]
    outcomes: list[str] = []
    for _ in range(10):
        start = threading.Barrier(2)

        def pass_of(node: Scheduler, start: threading.Barrier = start) -> None:
            start.wait()
            outcomes.extend(o.status for o in node.run_due())

        threads = [threading.Thread(target=pass_of, args=(n,)) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        clock.now += timedelta(seconds=60)
    assert overlaps == 0
    assert sorted(periods) == [f"2026-12-06T12:{m:02d}:00" for m in range(10)]
    assert outcomes.count("ok") == 10  # the other node found it busy or done
    assert set(outcomes) <= {"ok", "busy", "done"}
    engine.dispose()


def test_a_lock_left_by_a_dead_node_is_overtaken_after_its_lease(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    assert job_runs.claim(sessions, "sweep", "dead-node", lease_s=0.2)
    assert not job_runs.claim(sessions, "sweep", "live-node", lease_s=60)
    time.sleep(0.3)
    assert job_runs.claim(sessions, "sweep", "live-node", lease_s=60)
    assert not job_runs.claim(sessions, "sweep", "dead-node", lease_s=60)
    job_runs.release(sessions, "sweep", "live-node")
    assert job_runs.claim(sessions, "sweep", "dead-node", lease_s=60)
    engine.dispose()


async def test_the_service_task_runs_due_jobs_and_stops_when_cancelled(sqlite_url: str) -> None:
    import asyncio

    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    calls: list[JobContext] = []
    scheduler = Scheduler(sessions, Registry([counting_job("sweep", calls)]), tick_s=0.05)
    task = asyncio.create_task(scheduler.run_forever())
    for _ in range(100):
        if calls:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # several more passes: still once for today
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(calls) == 1
    engine.dispose()


def test_a_node_can_leave_jobs_out() -> None:
    from centrex.config import load_settings
    from centrex.ops.jobs import builtin_registry
    from centrex.ops.scheduler import UnknownJob

    skip = load_settings(jobs_skip=" billing-run, collections ").jobs_skip
    assert skip == ("billing-run", "collections")
    assert [j.name for j in builtin_registry().without(skip)] == [
        "recording-retention",
        "cdr-retention",
        "alarm-clocks",
        "fraud-spikes",
        "voicemail-retention",
        "inactive-accounts",
        "tenant-deletion",
        "idempotency-keys",
        "webhook-retention",
        "cpaas-recording-retention",
        "message-retention",
        "flow-retention",
        "campaign-engagement-retention",
        "insights-retention",
        "portal-tasks",
    ]
    with pytest.raises(UnknownJob, match=r"no job 'billing' \(jobs: recording-retention, cdr-retention"):
        builtin_registry().without(("billing",))
    with pytest.raises(ValueError, match="registered twice"):
        Registry([counting_job("sweep", []), counting_job("sweep", [])])


async def test_stopping_the_service_stops_a_job_between_batches(sqlite_url: str) -> None:
    import asyncio

    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    batches: list[int] = []

    def long_sweep(ctx: JobContext) -> JobReport:
        for i in range(200):  # 200 batches of 20 ms: 4 s if nobody stops it
            time.sleep(0.02)
            batches.append(i)
            ctx.check_stop()
        return JobReport("all done")

    scheduler = Scheduler(sessions, Registry([Job("sweep", Daily(3), long_sweep, "a long job")]), tick_s=0.05)
    task = asyncio.create_task(scheduler.run_forever())
    while not batches:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # the worker thread notices at its next batch
        if runs(sessions, "sweep") and runs(sessions, "sweep")[0][2] != "running":
            break
        await asyncio.sleep(0.02)
    with sessions() as s:
        run = s.scalars(select(JobRun)).one()
    assert (run.status, run.error) == ("failed", "Stopped: the service is stopping"), len(batches)
    assert len(batches) < 20  # stopped, not run to the end
    engine.dispose()


def test_a_long_job_keeps_its_lock_past_the_lease(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    others: list[bool] = []

    def long_sweep(ctx: JobContext) -> JobReport:
        # 3.2 s, more than twice the lease; a lease of 1.5 s leaves a loaded machine (CI runs two
        # workers) most of a second to renew it (a lease of 0.3 s was overtaken there).
        for _ in range(16):
            time.sleep(0.2)
            ctx.check_stop()
            others.append(job_runs.claim(sessions, "sweep", "other-node", 60))
        return JobReport("done")

    outcome = run_job(sessions, Job("sweep", Daily(3), long_sweep, "long", lease_s=1.5), datetime.now(UTC))
    assert outcome.status == "ok" and others == [False] * 16  # the other node never got in
    assert job_runs.claim(sessions, "sweep", "other-node", 60)  # released at the end
    engine.dispose()
