"""idempotency-keys: delete the Idempotency-Key answers older than 24 hours (api/idempotency.py;
an answer past 24 h is already ignored, this keeps the table small)."""

from __future__ import annotations

from centrex.api.idempotency import sweep
from centrex.ops.scheduler import JobContext, JobReport


def idempotency_keys(ctx: JobContext) -> JobReport:
    if ctx.dry_run:
        return JobReport("dry run: Idempotency-Key answers older than 24 h would be deleted")
    deleted = sweep(ctx.sessions, ctx.now)
    return JobReport(f"{deleted} Idempotency-Key answers older than 24 h deleted", {"deleted": deleted})
