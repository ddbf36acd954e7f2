"""Retention jobs: call recordings past their tenant's period, and detail records past 3 years.

- recording-retention: hosted-pbx.txt, data protection 2.f ("all call records will be deleted on
  expiration of the retention period (i.e. default of 12 months)"); the work is
  ops/recording_retention.py purge_recordings.
- cdr-retention: cpaas.txt §2.4.2 (iv): the provider retains "the records for application detail,
  call detail, and message detail for no longer than three (3) years". A CDR whose call started
  more than 36 calendar months before the run is deleted with its legs and outcome (cdr_legs,
  cdr_outcomes). Each batch of a tenant's CDRs is one transaction with one audit entry naming the
  calls it deleted, so a crash leaves every batch either whole or untouched, and a second run finds
  nothing more to delete. Only call detail records exist so far; application and message detail
  records join this job when they are stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.recording_retention import add_months, purge_recordings
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import CallDetail, CdrLeg, CdrOutcome, Role, TokenKind

CDR_RETENTION_MONTHS = 36  # cpaas.txt §2.4.2 (iv): "no longer than three (3) years"
CDR_RULE = "cpaas.txt §2.4.2 (iv)"
BATCH = 500  # CDRs per transaction (and per audit entry)

SYSTEM = Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:cdr-retention")


def recording_retention(ctx: JobContext) -> JobReport:
    def progress(done: int, total: int) -> None:  # called after each committed batch
        ctx.progress(done, total)
        ctx.check_stop()

    report = purge_recordings(ctx.sessions, ctx.now, dry_run=ctx.dry_run, on_progress=progress)
    verb = "would be deleted" if ctx.dry_run else "deleted"
    deleted = sum(r.deleted for r in report)
    rows = [
        {
            "tenant": str(r.tenant_id),
            "retention_months": str(r.retention_months),
            "started_before": r.cutoff.isoformat(),
            "recordings": str(r.deleted),
            "files_missing": str(r.missing_files),
            "bytes": str(r.bytes_freed),
        }
        for r in report
    ]
    counts = {
        "recordings": deleted,
        "files_missing": sum(r.missing_files for r in report),
        "bytes": sum(r.bytes_freed for r in report),
    }
    return JobReport(f"{deleted} recordings {verb}", counts, rows)


def cdr_cutoff(now: datetime) -> datetime:
    """CDRs of calls started before this instant are past the retention schedule on ``now``."""
    return add_months(now.astimezone(UTC), -CDR_RETENTION_MONTHS)


def cdr_retention(ctx: JobContext) -> JobReport:
    cutoff = cdr_cutoff(ctx.now)
    with ctx.sessions() as s:
        stmt = (
            select(CallDetail.tenant_id, func.count(), func.min(CallDetail.start))
            .where(CallDetail.start < cutoff)
            .group_by(CallDetail.tenant_id)
            .order_by(CallDetail.tenant_id)
        )
        expired = [(t, n, oldest) for t, n, oldest in s.execute(stmt)]
    total = sum(n for _, n, _ in expired)
    rows = [
        {"tenant": str(t), "cdrs": str(n), "oldest": oldest.isoformat(), "started_before": cutoff.isoformat()}
        for t, n, oldest in expired
    ]
    if ctx.dry_run:
        return JobReport(
            f"{total} CDRs would be deleted (started before {cutoff:%Y-%m-%d})", {"cdrs": total}, rows
        )
    done = batches = 0
    for tenant_id, _, _ in expired:
        while deleted := _delete_batch(ctx.sessions, tenant_id, cutoff):
            done += deleted
            batches += 1
            ctx.progress(done, total)
            ctx.check_stop()
    return JobReport(
        f"{done} CDRs deleted (started before {cutoff:%Y-%m-%d})", {"cdrs": done, "batches": batches}, rows
    )


def _delete_batch(sessions: sessionmaker[Session], tenant_id: uuid.UUID, cutoff: datetime) -> int:
    """Delete one tenant's oldest expired CDRs (up to BATCH) with their legs, outcomes and an audit
    entry, in one transaction. Returns how many went (0: none left)."""
    with transaction(sessions) as s:
        found = s.execute(
            select(CallDetail.id, CallDetail.call_id, CallDetail.start)
            .where(CallDetail.tenant_id == tenant_id, CallDetail.start < cutoff)
            .order_by(CallDetail.start, CallDetail.id)
            .limit(BATCH)
        ).all()
        if not found:
            return 0
        ids = [row.id for row in found]
        for model in (CdrLeg, CdrOutcome):
            s.execute(delete(model).where(model.tenant_id == tenant_id, model.cdr_id.in_(ids)))
        s.execute(delete(CallDetail).where(CallDetail.tenant_id == tenant_id, CallDetail.id.in_(ids)))
        before: dict[str, Any] = {
            "count": len(found),
            "call_ids": [row.call_id for row in found],
            "first_start": found[0].start.isoformat(),
            "last_start": found[-1].start.isoformat(),
        }
        after = {"deleted_at": datetime.now(UTC).isoformat(), "cutoff": cutoff.isoformat(), "rule": CDR_RULE}
        AccessBase(s, SYSTEM).audit("cdr.retention_delete", "cdrs", None, before, after, tenant_id)
        return len(found)
