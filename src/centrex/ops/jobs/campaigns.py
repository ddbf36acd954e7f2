"""campaign-engagement-retention: cpaas.txt §2.4.2 (ii) — "any contact engagement history from
Engage for no longer than one (1) year".

The engagement history is the campaign recipients (who was sent what, when, skipped or deferred
and why, which message or call it became). A recipient row created more than 365 days before the
run is deleted; the campaign itself (its name, channel, list, schedule) stays, its report then
counts only what is kept. One transaction per batch with one audit entry per tenant and batch;
a dry run changes nothing, a second run finds nothing (idempotent).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import Role, TokenKind
from centrex.store.models.campaigns import CampaignRecipient

ENGAGEMENT_DAYS = 365  # cpaas.txt §2.4.2 (ii): no longer than one (1) year
BATCH = 1000
SYSTEM = Principal(
    TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:campaign-engagement-retention"
)


def cutoff(now: datetime) -> datetime:
    return now.astimezone(UTC) - timedelta(days=ENGAGEMENT_DAYS)


def _delete_batch(sessions: sessionmaker[Session], tenant_id: uuid.UUID, before: datetime) -> int:
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                select(CampaignRecipient.id)
                .where(CampaignRecipient.tenant_id == tenant_id, CampaignRecipient.created_at < before)
                .limit(BATCH)
            )
        )
        if not ids:
            return 0
        s.execute(delete(CampaignRecipient).where(CampaignRecipient.id.in_(ids)))
        AccessBase(s, SYSTEM).audit(
            "campaign.engagement_retention_delete",
            "campaign_recipients",
            None,
            {"count": len(ids)},
            {"cutoff": before.isoformat(), "rule": "cpaas.txt §2.4.2 (ii)"},
            tenant_id,
        )
        return len(ids)


def engagement_retention(ctx: JobContext) -> JobReport:
    before = cutoff(ctx.now)
    with ctx.sessions() as s:
        counts: dict[uuid.UUID, int] = {
            t: n
            for t, n in s.execute(
                select(CampaignRecipient.tenant_id, func.count())
                .where(CampaignRecipient.created_at < before)
                .group_by(CampaignRecipient.tenant_id)
            )
        }
    rows = [{"tenant": str(t), "engagements": str(n)} for t, n in sorted(counts.items())]
    if ctx.dry_run:
        total = sum(counts.values())
        return JobReport(f"{total} engagement records would be deleted", {"engagements": total}, rows)
    deleted = 0
    for tenant_id in sorted(counts):
        while n := _delete_batch(ctx.sessions, tenant_id, before):
            deleted += n
            ctx.check_stop()
    return JobReport(
        f"{deleted} engagement records deleted (created before {before:%Y-%m-%d})",
        {"engagements": deleted},
        rows,
    )
