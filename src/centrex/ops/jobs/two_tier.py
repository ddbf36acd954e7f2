"""The shape of the CPaaS retention jobs with two periods (cpaas.txt §2.4.2): a record's content is
erased after 30 days (i) and the record itself deleted after 3 years (iv) — messages, flow
executions. Each job says what it counts and how a batch of one tenant is erased or deleted (each
batch its own transaction, with its audit row); this runs them tenant by tenant, dry or not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.scheduler import JobContext, JobReport

Batch = Callable[[sessionmaker[Session], uuid.UUID, datetime], int]  # rows done (0: none left)


def run_two_tier(
    ctx: JobContext,
    *,
    what: str,  # "message records", "flow executions"
    content: str,  # "bodies", "contents"
    to_erase: dict[uuid.UUID, int],
    to_delete: dict[uuid.UUID, int],
    content_cutoff: datetime,
    record_cutoff: datetime,
    delete_batch: Batch,
    erase_batch: Callable[[sessionmaker[Session], uuid.UUID, datetime, datetime], int],
) -> JobReport:
    tenants = sorted(set(to_erase) | set(to_delete))
    rows = [
        {"tenant": str(t), content: str(to_erase.get(t, 0)), "records": str(to_delete.get(t, 0))}
        for t in tenants
    ]
    if ctx.dry_run:
        return JobReport(
            f"{sum(to_delete.values())} {what} would be deleted, {sum(to_erase.values())} {content} erased",
            {"records": sum(to_delete.values()), content: sum(to_erase.values())},
            rows,
        )
    deleted = erased = 0
    for tenant_id in tenants:
        while n := delete_batch(ctx.sessions, tenant_id, record_cutoff):
            deleted += n
            ctx.check_stop()
        while n := erase_batch(ctx.sessions, tenant_id, content_cutoff, ctx.now):
            erased += n
            ctx.check_stop()
    return JobReport(
        f"{deleted} {what} deleted (before {record_cutoff:%Y-%m-%d}), "
        f"{erased} {content} erased (before {content_cutoff:%Y-%m-%d})",
        {"records": deleted, content: erased},
        rows,
    )
