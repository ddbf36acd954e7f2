"""message-retention (cpaas.txt §2.4.2): bodies erased after 30 days, records deleted after 3 years,
one tenant's rows only as old as they are; a dry run changes nothing and a second run finds nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from centrex.cpaas.sids import sid_of
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, Tenant
from centrex.store.models.messaging import SmsCarrierId, SmsMessage

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def _message(tenant_id: uuid.UUID, age: timedelta, body: str) -> SmsMessage:
    row_id = uuid.uuid4()
    when = NOW - age
    return SmsMessage(
        id=row_id,
        sid=sid_of("SM", row_id),
        tenant_id=tenant_id,
        direction="outbound-api",
        from_number="+12175550100",
        to_number="+16175551234",
        body=body,
        status="delivered",
        created_at=when,
        updated_at=when,
    )


def test_bodies_after_30_days_records_after_3_years(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as s:
            tenant = Tenant(name="Retain Co", sip_domain="retain.example.com")
            s.add(tenant)
            s.flush()
            fresh = _message(tenant.id, timedelta(days=29), "fresh")
            month = _message(tenant.id, timedelta(days=31), "a month old")
            old = _message(tenant.id, timedelta(days=3 * 366 + 2), "three years old")
            s.add_all([fresh, month, old])
            s.flush()
            s.add(SmsCarrierId(tenant_id=tenant.id, message_id=old.id, carrier_id="42", part=1))
        job = builtin_registry().get("message-retention")
        dry = job.run(JobContext(sessions=sessions, now=NOW, dry_run=True))
        assert dry.counts == {"records": 1, "bodies": 2}
        report = job.run(JobContext(sessions=sessions, now=NOW))
        assert report.counts == {"records": 1, "bodies": 1}
        with sessions() as s:
            rows = {r.sid: r for r in s.scalars(select(SmsMessage))}
            assert set(rows) == {fresh.sid, month.sid}
            assert rows[fresh.sid].body == "fresh" and rows[fresh.sid].body_erased_at is None
            assert rows[month.sid].body == "" and rows[month.sid].body_erased_at is not None
            assert s.scalars(select(SmsCarrierId)).all() == []
            actions = {
                a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant.id))
            }
            assert {"message.body_erased", "message.retention_delete"} <= actions
        again = job.run(JobContext(sessions=sessions, now=NOW))
        assert again.counts == {"records": 0, "bodies": 0}
    finally:
        engine.dispose()
