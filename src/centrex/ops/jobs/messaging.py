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

from centrex.ops.jobs.two_tier import run_two_tier
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
    with transaction(ctx.sessions) as s:  # refused attempts (cpaas.txt §2.5 review): records too
        if not ctx.dry_run:
            s.execute(delete(SmsRefusal).where(SmsRefusal.at < record_cutoff))
    return run_two_tier(
        ctx,
        what="message records",
        content="bodies",
        to_erase=to_erase,
        to_delete=to_delete,
        content_cutoff=body_cutoff,
        record_cutoff=record_cutoff,
        delete_batch=_delete_batch,
        erase_batch=_erase_batch,
    )
