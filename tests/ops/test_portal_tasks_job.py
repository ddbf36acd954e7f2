"""The portal-tasks job: the portal's task rows (a deck import's, a billing run's progress) go 30 days
after they ended — finished ones by when they finished, ones whose process stopped by when they
started — with a dry run that changes nothing, an audit row per task, and nothing more on a second
run. Through the scheduler's own `run_job`, as `centrex jobs run portal-tasks` runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import run_job
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models.portal_tasks import PortalTask

NOW = datetime(2026, 12, 7, 3, 55, tzinfo=UTC)


def test_ended_tasks_go_after_30_days_dry_run_first(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    days = timedelta(days=1)
    seeded = {  # kind: (status, started, finished)
        "old-done": ("done", NOW - 40 * days, NOW - 31 * days),
        "old-failed": ("failed", NOW - 35 * days, NOW - 34 * days),
        "recent-done": ("done", NOW - 40 * days, NOW - 29 * days),  # long, but ended 29 days ago
        "stopped-long-ago": ("running", NOW - 31 * days, None),  # its process stopped
        "running-now": ("running", NOW - timedelta(minutes=5), None),
    }
    with transaction(sessions) as s:
        for kind, (status, started, finished) in seeded.items():
            s.add(PortalTask(kind=kind, status=status, actor="ops", created_at=started, finished_at=finished))

    def kinds() -> set[str]:
        with sessions() as s:
            return set(s.scalars(select(PortalTask.kind)))

    job = builtin_registry().get("portal-tasks")
    gone = {"old-done", "old-failed", "stopped-long-ago"}
    dry = run_job(sessions, job, NOW, dry_run=True)
    assert dry.report is not None
    assert dry.report.counts == {"tasks": 3}
    assert dry.report.summary == "dry run: 3 portal tasks ended before 2026-11-07 would be deleted"
    assert {row["kind"] for row in dry.report.rows} == gone
    assert kinds() == set(seeded)  # nothing changed

    real = run_job(sessions, job, NOW)
    assert real.report is not None and real.report.counts == {"tasks": 3}
    assert {row["kind"] for row in real.report.rows} == gone  # the audit: what was deleted
    assert kinds() == {"recent-done", "running-now"}

    again = run_job(sessions, job, NOW + timedelta(days=1))
    assert again.report is not None and again.report.counts == {"tasks": 0}
    assert kinds() == {"recent-done", "running-now"}
    engine.dispose()
