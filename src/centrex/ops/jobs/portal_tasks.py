"""portal-tasks: delete the portal's task rows (ops/portal_tasks.py: a rate-deck import's, a billing
run's progress) 30 days after they finished. What a task made — the deck version, the invoices, the
job run — is kept elsewhere; the row only told the page how far it got. A task whose process
stopped never finishes: it counts as ended when it was started (ops/portal_tasks.py STALE_AFTER
shows it as interrupted long before)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select

from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.db import transaction
from centrex.store.models.portal_tasks import PortalTask

KEEP = timedelta(days=30)
RUNNING = "running"  # ops/portal_tasks.py RUNNING (that module imports the job registry)


def _ended_before(cutoff: datetime) -> Any:
    return or_(
        PortalTask.finished_at < cutoff,
        (PortalTask.status == RUNNING) & PortalTask.finished_at.is_(None) & (PortalTask.created_at < cutoff),
    )


def portal_tasks(ctx: JobContext) -> JobReport:
    """One transaction: the rows listed in the report are exactly the rows deleted."""
    cutoff = ctx.now - KEEP
    with transaction(ctx.sessions) as session:
        found = session.execute(
            select(PortalTask.id, PortalTask.kind, PortalTask.status, PortalTask.actor, PortalTask.created_at)
            .where(_ended_before(cutoff))
            .order_by(PortalTask.created_at)
        ).all()
        rows = [
            {"task": str(t.id), "kind": t.kind, "status": t.status, "actor": t.actor}
            | {"started": str(t.created_at)}
            for t in found
        ]
        if ctx.dry_run:
            summary = f"dry run: {len(rows)} portal tasks ended before {cutoff:%Y-%m-%d} would be deleted"
            return JobReport(summary, {"tasks": len(rows)}, rows)
        if found:
            session.execute(delete(PortalTask).where(PortalTask.id.in_([t.id for t in found])))
    summary = f"{len(rows)} portal tasks ended before {cutoff:%Y-%m-%d} deleted"
    return JobReport(summary, {"tasks": len(rows)}, rows)
