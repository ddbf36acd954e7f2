"""insights-retention keeps the tiers for cpaas.txt §2.4.2 (iii)'s periods: real-time 3 days,
hourly 14 days, daily 90 days. A dry run reports and deletes nothing; a run deletes exactly the
buckets past their period (and audits it per tenant and tier); a second run deletes nothing more.
Run through the scheduler's registry, as `centrex jobs run insights-retention` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import transaction
from centrex.store.models import AuditEntry
from centrex.store.models.insights import InsightsAggregate

from .conftest import World

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

# (tier, age of the bucket's start, kept?) — a bucket goes once its end is older than the period.
CASES = [
    ("minute", timedelta(days=3, minutes=2), False),
    ("minute", timedelta(days=3) + timedelta(seconds=30), True),  # ends 2 d 23 h 59.5 min ago
    ("minute", timedelta(days=2, hours=23), True),
    ("hour", timedelta(days=14, hours=2), False),
    ("hour", timedelta(days=13, hours=23), True),
    ("day", timedelta(days=92), False),
    ("day", timedelta(days=91, hours=1), False),  # ended 90 days and an hour ago: gone
    ("day", timedelta(days=89), True),
]


def seed(w: World) -> None:
    with transaction(w.sessions) as s:
        for tenant_id in (w.tenant_id, w.other_id):
            for i, (tier, age, _) in enumerate(CASES):
                s.add(
                    InsightsAggregate(
                        tenant_id=tenant_id,
                        tier=tier,
                        bucket_start=NOW - age,
                        metric="calls.started",
                        site="",
                        party_from=f"10{i:02d}",
                        party_to="",
                        count=1,
                        total=0,
                    )
                )


def kept(w: World) -> set[tuple[str, str]]:
    with w.sessions() as s:
        return {
            (r.tier, r.party_from)
            for r in s.scalars(select(InsightsAggregate).where(InsightsAggregate.tenant_id == w.tenant_id))
        }


def test_each_tier_is_kept_for_its_period_and_no_longer(world: World) -> None:
    seed(world)
    job = builtin_registry().get("insights-retention")
    everything = {(tier, f"10{i:02d}") for i, (tier, _, _) in enumerate(CASES)}
    expected = {(tier, f"10{i:02d}") for i, (tier, _, keep) in enumerate(CASES) if keep}

    dry = job.run(JobContext(world.sessions, NOW, dry_run=True))
    assert dry.counts == {"minute": 2, "hour": 2, "day": 4}  # both tenants
    assert "would be deleted" in dry.summary
    assert kept(world) == everything

    done = job.run(JobContext(world.sessions, NOW))
    assert done.counts == {"minute": 2, "hour": 2, "day": 4}
    assert kept(world) == expected
    with world.sessions() as s:
        audits = s.scalars(select(AuditEntry).where(AuditEntry.action == "insights.retention_delete")).all()
    assert sorted(
        (str(a.tenant_id), a.before["tier"], a.before["count"]) for a in audits if a.before
    ) == sorted(
        (str(t), tier, n)
        for t in (world.tenant_id, world.other_id)
        for tier, n in (("minute", 1), ("hour", 1), ("day", 2))
    )
    assert all(a.after and a.after["rule"] == "cpaas.txt §2.4.2 (iii)" for a in audits)

    again = job.run(JobContext(world.sessions, NOW))
    assert again.counts == {"minute": 0, "hour": 0, "day": 0}
    assert kept(world) == expected
