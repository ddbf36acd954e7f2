"""campaign-engagement-retention (cpaas.txt §2.4.2 (ii): engagement history "for no longer than one
(1) year"): recipients older than 365 days are deleted, younger ones and the campaign kept; a dry
run changes nothing; a second run finds nothing (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, Tenant
from centrex.store.models.campaigns import Campaign, CampaignRecipient, ContactList

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def test_engagement_older_than_a_year_is_deleted_once(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as s:
            tenant = Tenant(name="Engage Co", sip_domain="engage.example.com")
            s.add(tenant)
            s.flush()
            lst = ContactList(tenant_id=tenant.id, name="All")
            s.add(lst)
            s.flush()
            old_campaign = Campaign(
                tenant_id=tenant.id,
                name="Last winter",
                channel="sms",
                purpose="marketing",
                list_id=lst.id,
                from_number="+12175550100",
                body="hi",
                status="completed",
                scheduled_at=NOW - timedelta(days=400),
            )
            s.add(old_campaign)
            s.flush()

            def engagement(number: str, age: timedelta) -> CampaignRecipient:
                when = NOW - age
                return CampaignRecipient(
                    tenant_id=tenant.id,
                    campaign_id=old_campaign.id,
                    number=number,
                    status="sent",
                    created_at=when,
                    updated_at=when,
                )

            s.add_all(
                [
                    engagement("+16175550001", timedelta(days=366)),
                    engagement("+16175550002", timedelta(days=400)),
                    engagement("+16175550003", timedelta(days=364)),
                ]
            )
        job = builtin_registry().get("campaign-engagement-retention")
        dry = job.run(JobContext(sessions=sessions, now=NOW, dry_run=True))
        assert dry.counts == {"engagements": 2}
        with sessions() as s:
            assert len(s.scalars(select(CampaignRecipient)).all()) == 3  # the dry run changed nothing
        report = job.run(JobContext(sessions=sessions, now=NOW))
        assert report.counts == {"engagements": 2}
        with sessions() as s:
            assert [r.number for r in s.scalars(select(CampaignRecipient))] == ["+16175550003"]
            assert s.get(Campaign, old_campaign.id) is not None  # the campaign itself stays
            audit = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.tenant_id == tenant.id,
                    AuditEntry.action == "campaign.engagement_retention_delete",
                )
            ).all()
            assert len(audit) == 1 and "§2.4.2 (ii)" in str(audit[0].after)
        again = job.run(JobContext(sessions=sessions, now=NOW))
        assert again.counts == {"engagements": 0}
    finally:
        engine.dispose()
