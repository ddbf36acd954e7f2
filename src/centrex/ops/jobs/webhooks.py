"""webhook-retention: delete webhook deliveries and their attempts finished over 30 days ago
(cpaas/outbox.py ``sweep``; cpaas.txt §2.4.2 (i), content kept thirty days)."""

from __future__ import annotations

from centrex.cpaas.outbox import sweep
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.db import transaction


def webhook_retention(ctx: JobContext) -> JobReport:
    if ctx.dry_run:
        return JobReport("dry run: webhook deliveries finished over 30 days ago would be deleted")
    with transaction(ctx.sessions) as session:
        deleted = sweep(session, ctx.now)
    return JobReport(f"{deleted} webhook deliveries finished over 30 days ago deleted", {"deleted": deleted})
