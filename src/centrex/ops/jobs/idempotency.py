"""idempotency-keys: delete the Idempotency-Key answers older than 24 hours (api/idempotency.py
ignores them already; this keeps the table small)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.db import transaction
from centrex.store.models import IdempotencyRecord

TTL = timedelta(hours=24)  # api/idempotency.py TTL_SECONDS


def sweep(factory: sessionmaker[Session], now: datetime) -> int:
    """Delete the answers stored before `now` - 24 h; how many."""
    with transaction(factory) as session:
        stale = delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - TTL)
        result: Any = session.execute(stale)
        return int(result.rowcount or 0)


def idempotency_keys(ctx: JobContext) -> JobReport:
    if ctx.dry_run:
        return JobReport("dry run: Idempotency-Key answers older than 24 h would be deleted")
    deleted = sweep(ctx.sessions, ctx.now)
    return JobReport(f"{deleted} Idempotency-Key answers older than 24 h deleted", {"deleted": deleted})
