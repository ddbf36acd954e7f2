"""insights-retention: cpaas.txt §2.4.2 (iii) "real-time Insights analytics for three (3) days,
hourly Insights analytics for fourteen (14) days, and daily Insights analytics for ninety (90)
days".

A bucket is deleted once it ended more than its tier's period before the run (a minute bucket that
started 3 days and 1 minute ago goes; one 2 days 23 hours old stays). Batches of BATCH rows per
tenant and tier are one transaction each, with one audit entry; a dry run reports the counts per
tenant and tier and changes nothing; a second run finds nothing more.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.insights.tiers import RETENTION, STEP, TIERS
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import AccessBase, Principal
from centrex.store.db import transaction
from centrex.store.models import Role, TokenKind
from centrex.store.models.insights import InsightsAggregate

BATCH = 5000
SYSTEM = Principal(
    TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:insights-retention"
)


def cutoff(now: datetime, tier: str) -> datetime:
    """Buckets starting before this are past their period (their end is before now - period)."""
    return now - RETENTION[tier] - STEP[tier]


def _delete_batch(sessions: sessionmaker[Session], tenant_id: uuid.UUID, tier: str, before: datetime) -> int:
    agg = InsightsAggregate
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                select(agg.id)
                .where(agg.tenant_id == tenant_id, agg.tier == tier, agg.bucket_start < before)
                .limit(BATCH)
            )
        )
        if not ids:
            return 0
        s.execute(delete(agg).where(agg.id.in_(ids)))
        AccessBase(s, SYSTEM).audit(
            "insights.retention_delete",
            "insights_aggregates",
            None,
            {"count": len(ids), "tier": tier},
            {"cutoff": before.isoformat(), "rule": "cpaas.txt §2.4.2 (iii)"},
            tenant_id,
        )
        return len(ids)


def insights_retention(ctx: JobContext) -> JobReport:
    agg = InsightsAggregate
    found: dict[tuple[uuid.UUID, str], int] = {}
    with ctx.sessions() as s:
        for tier in TIERS:
            for tenant_id, n in s.execute(
                select(agg.tenant_id, func.count())
                .where(agg.tier == tier, agg.bucket_start < cutoff(ctx.now, tier))
                .group_by(agg.tenant_id)
            ):
                found[(tenant_id, tier)] = n
    rows = [
        {
            "tenant": str(t),
            "tier": tier,
            "buckets": str(n),
            "before": f"{cutoff(ctx.now, tier):%Y-%m-%d %H:%M}",
        }
        for (t, tier), n in sorted(found.items(), key=lambda kv: (str(kv[0][0]), TIERS.index(kv[0][1])))
    ]
    per_tier = {tier: sum(n for (_, t), n in found.items() if t == tier) for tier in TIERS}
    if ctx.dry_run:
        return JobReport(
            "insights buckets that would be deleted: " + ", ".join(f"{per_tier[t]} {t}" for t in TIERS),
            per_tier,
            rows,
        )
    done = dict.fromkeys(TIERS, 0)
    for tenant_id, tier in sorted(found, key=lambda k: (str(k[0]), TIERS.index(k[1]))):
        while n := _delete_batch(ctx.sessions, tenant_id, tier, cutoff(ctx.now, tier)):
            done[tier] += n
            ctx.progress(sum(done.values()), sum(found.values()))
            ctx.check_stop()
    return JobReport(
        "insights buckets deleted: "
        + ", ".join(f"{done[t]} {t} (kept {RETENTION[t].days} days)" for t in TIERS),
        done,
        rows,
    )
