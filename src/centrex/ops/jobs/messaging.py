"""message-retention: cpaas.txt §2.4.2 for messages.

- (i) "any content of the communications in their entirety ... for thirty (30) days from successful
  processing": a message's body is erased 30 days after it was created (the row stays, body "" and
  ``body_erased_at`` set).
- (iv) "the records for ... message detail for no longer than three (3) years": a message row (its
  detail record: numbers, segments, status, price) is deleted 36 calendar months after creation,
  with the carrier ids of its parts.
Each batch is one transaction with one audit entry per tenant and batch; a second run finds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.recording_retention import add_months
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import Role, TokenKind
from centrex.store.models.cpaas_refusals import SmsRefusal
from centrex.store.models.messaging import SmsCarrierId, SmsMessage

CONTENT_DAYS = 30  # cpaas.txt §2.4.2 (i)
RECORD_MONTHS = 36  # cpaas.txt §2.4.2 (iv)
BATCH = 1000
SYSTEM = Principal(
    TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:message-retention"
)


def cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """(bodies created before this are erased, records created before this are deleted)."""
    now = now.astimezone(UTC)
    return now - timedelta(days=CONTENT_DAYS), add_months(now, -RECORD_MONTHS)


def _erase_batch(
    sessions: sessionmaker[Session], tenant_id: uuid.UUID, cutoff: datetime, now: datetime
) -> int:
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                select(SmsMessage.id)
                .where(
                    SmsMessage.tenant_id == tenant_id,
                    SmsMessage.created_at < cutoff,
                    SmsMessage.body_erased_at.is_(None),
                )
                .limit(BATCH)
            )
        )
        if not ids:
            return 0
        s.execute(update(SmsMessage).where(SmsMessage.id.in_(ids)).values(body="", body_erased_at=now))
        AccessBase(s, SYSTEM).audit(
            "message.body_erased",
            "sms_messages",
            None,
            {"count": len(ids)},
            {"cutoff": cutoff.isoformat(), "rule": "cpaas.txt §2.4.2 (i)"},
            tenant_id,
        )
        return len(ids)


def _delete_batch(sessions: sessionmaker[Session], tenant_id: uuid.UUID, cutoff: datetime) -> int:
    with transaction(sessions) as s:
        rows = s.execute(
            select(SmsMessage.id, SmsMessage.sid)
            .where(SmsMessage.tenant_id == tenant_id, SmsMessage.created_at < cutoff)
            .limit(BATCH)
        ).all()
        if not rows:
            return 0
        ids = [r.id for r in rows]
        s.execute(delete(SmsCarrierId).where(SmsCarrierId.message_id.in_(ids)))
        s.execute(delete(SmsMessage).where(SmsMessage.id.in_(ids)))
        AccessBase(s, SYSTEM).audit(
            "message.retention_delete",
            "sms_messages",
            None,
            {"count": len(ids), "sids": [r.sid for r in rows]},
            {"cutoff": cutoff.isoformat(), "rule": "cpaas.txt §2.4.2 (iv)"},
            tenant_id,
        )
        return len(ids)


def message_retention(ctx: JobContext) -> JobReport:
    body_cutoff, record_cutoff = cutoffs(ctx.now)
    with ctx.sessions() as s:
        to_erase: dict[uuid.UUID, int] = {
            t: n
            for t, n in s.execute(
                select(SmsMessage.tenant_id, func.count())
                .where(SmsMessage.created_at < body_cutoff, SmsMessage.body_erased_at.is_(None))
                .group_by(SmsMessage.tenant_id)
            )
        }
        to_delete: dict[uuid.UUID, int] = {
            t: n
            for t, n in s.execute(
                select(SmsMessage.tenant_id, func.count())
                .where(SmsMessage.created_at < record_cutoff)
                .group_by(SmsMessage.tenant_id)
            )
        }
    tenants = sorted(set(to_erase) | set(to_delete))
    rows = [
        {"tenant": str(t), "bodies": str(to_erase.get(t, 0)), "records": str(to_delete.get(t, 0))}
        for t in tenants
    ]
    if ctx.dry_run:
        return JobReport(
            f"{sum(to_delete.values())} message records would be deleted, "
            f"{sum(to_erase.values())} bodies erased",
            {"records": sum(to_delete.values()), "bodies": sum(to_erase.values())},
            rows,
        )
    deleted = erased = 0
    for tenant_id in tenants:
        while n := _delete_batch(ctx.sessions, tenant_id, record_cutoff):
            deleted += n
            ctx.check_stop()
        while n := _erase_batch(ctx.sessions, tenant_id, body_cutoff, ctx.now):
            erased += n
            ctx.check_stop()
    with transaction(ctx.sessions) as s:  # refused attempts (cpaas.txt §2.5 review): records too
        s.execute(delete(SmsRefusal).where(SmsRefusal.at < record_cutoff))
    return JobReport(
        f"{deleted} message records deleted (before {record_cutoff:%Y-%m-%d}), "
        f"{erased} bodies erased (before {body_cutoff:%Y-%m-%d})",
        {"records": deleted, "bodies": erased},
        rows,
    )
