"""Alarms on a real database (SQLite and PostgreSQL): one open alarm per condition, its ticket, the
response clock and its escalation on the business calendar (hosted-pbx.txt Monitoring 2), the
outage that billing credits (liability 1), and the notices delivered to a real SMTP server and a
real webhook receiver, signed as Standard Webhooks specifies. Every instant is fixed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.billing.outage_service import outage_qualifying_days
from centrex.config import Settings
from centrex.ops.alarm_policy import AlarmPolicy, configure
from centrex.ops.alarms import acknowledge_alarm, check_clocks, clear_alarm, open_alarm, raise_alarm
from centrex.ops.business_hours import parse_zone
from centrex.ops.mailer import Mailer, SmtpConfig
from centrex.ops.notify import Notifier, new_secret, verify
from centrex.ops.tickets import acknowledge_ticket, open_ticket
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import AuditEntry, OutageRow, Tenant, TenantStatus
from centrex.store.models.alarms import AlarmNotificationRow, AlarmRow, TicketRow
from tests.e911_store.servers import smtp_server
from tests.ops_alarms.receivers import webhook_receiver

NY = parse_zone("America/New_York")


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


@dataclass
class Db:
    sessions: sessionmaker[Session]
    tenants: dict[str, Any]
    policy: AlarmPolicy


@pytest.fixture
def db(db_url: str) -> Iterator[Db]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        tenants = {
            name: Tenant(name=name, sip_domain=f"{name}.example.com", status=status)
            for name, status in (
                ("alpha", TenantStatus.ACTIVE),
                ("beta", TenantStatus.SUSPENDED),
                ("gone", TenantStatus.TERMINATED),
            )
        }
        s.add_all(tenants.values())
        s.flush()
        ids = {k: t.id for k, t in tenants.items()}
    policy = AlarmPolicy.from_settings(
        Settings(alarm_notify="noc@provider.example", alarm_escalate="duty-manager@provider.example")
    )
    configure(policy)
    yield Db(sessions, ids, policy)
    configure(None)
    engine.dispose()


def notices(s: Session, event: str) -> list[AlarmNotificationRow]:
    stmt = select(AlarmNotificationRow).where(AlarmNotificationRow.event == event)
    return list(s.scalars(stmt.order_by(AlarmNotificationRow.created_at)))


def test_a_condition_has_one_open_alarm_and_one_ticket(db: Db) -> None:
    t0 = et(2026, 12, 7, 10)
    with transaction(db.sessions) as s:
        first = raise_alarm(s, key="disk:/var", component="disk", priority=2, summary="8% free", now=t0)
        again = raise_alarm(
            s, key="disk:/var", component="disk", priority=2, summary="7% free", now=et(2026, 12, 7, 11)
        )
        assert again.id == first.id
    with transaction(db.sessions) as s:
        alarm = s.scalars(select(AlarmRow)).one()
        assert (alarm.occurrences, alarm.priority, alarm.due_at) == (2, 2, et(2026, 12, 9, 16))
        ticket = s.scalars(select(TicketRow)).one()
        assert (ticket.alarm_id, ticket.priority, ticket.due_at, ticket.opened_by) == (
            alarm.id,
            2,
            alarm.due_at,
            "monitor",
        )
        assert [n.address for n in notices(s, "alarm.raised")] == ["noc@provider.example"]
        # Seen as more urgent: priority 1 and the 8-hour clock from the first alert.
        raise_alarm(
            s, key="disk:/var", component="disk", priority=1, summary="1% free", now=et(2026, 12, 7, 12)
        )
    with transaction(db.sessions) as s:
        alarm = s.scalars(select(AlarmRow)).one()
        assert (alarm.priority, alarm.summary, alarm.due_at) == (1, "1% free", et(2026, 12, 7, 18))
        assert clear_alarm(s, "disk:/var", now=et(2026, 12, 7, 13)) is not None
        assert clear_alarm(s, "disk:/var", now=et(2026, 12, 7, 13)) is None  # nothing open
        assert open_alarm(s, "disk:/var") is None
    with transaction(db.sessions) as s:  # the condition returns: a new incident, a new ticket
        raise_alarm(
            s, key="disk:/var", component="disk", priority=2, summary="9% free", now=et(2026, 12, 8, 9)
        )
        assert len(s.scalars(select(AlarmRow)).all()) == 2
        assert len(s.scalars(select(TicketRow)).all()) == 2
        assert [n.event for n in notices(s, "alarm.cleared")] == ["alarm.cleared"]


def test_a_priority_2_clock_runs_out_over_the_weekend_and_escalates_once(db: Db) -> None:
    raised = et(2026, 12, 4, 16)  # Friday 16:00: due Wednesday 13:00 (24 business hours)
    with transaction(db.sessions) as s:
        raise_alarm(s, key="carrier:gw1", component="carrier", priority=2, summary="gw1 down", now=raised)
        raise_alarm(s, key="carrier:gw2", component="carrier", priority=2, summary="gw2 down", now=raised)
    with transaction(db.sessions) as s:
        acknowledge_alarm(
            s, open_alarm(s, "carrier:gw2"), by="operator:olive@provider.example", now=et(2026, 12, 7, 9)
        )  # type: ignore[arg-type]
    with transaction(db.sessions) as s:
        # Monday morning is 64 wall-clock hours later, but only 2 business hours: nothing is due.
        assert check_clocks(s, et(2026, 12, 7, 9), db.policy) == []
        assert check_clocks(s, et(2026, 12, 9, 12, 59), db.policy) == []
    with transaction(db.sessions) as s:
        assert check_clocks(s, et(2026, 12, 9, 13), db.policy) == ["alarm carrier:gw1"]
    with transaction(db.sessions) as s:
        assert check_clocks(s, et(2026, 12, 9, 14), db.policy) == []  # recorded: once
        gw1 = s.scalars(select(AlarmRow).where(AlarmRow.key == "carrier:gw1")).one()
        assert (gw1.escalated_at, gw1.escalation_level) == (et(2026, 12, 9, 13), 1)
        escalations = notices(s, "alarm.escalated")
        assert [(n.address, n.level) for n in escalations] == [("duty-manager@provider.example", 1)]
        audit = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(gw1.id))).all()
        assert "alarm.escalate" in audit
        gw2 = s.scalars(select(AlarmRow).where(AlarmRow.key == "carrier:gw2")).one()
        assert gw2.escalated_at is None and gw2.acknowledged_by == "operator:olive@provider.example"
        # The alarm's ticket was acknowledged with it.
        ticket = s.scalars(select(TicketRow).where(TicketRow.alarm_id == gw2.id)).one()
        assert (ticket.status, ticket.acknowledged_at) == ("acknowledged", et(2026, 12, 7, 9))


def test_a_priority_1_clock_is_eight_hours_of_a_holiday_too(db: Db) -> None:
    raised = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)  # Christmas night
    with transaction(db.sessions) as s:
        raise_alarm(s, key="database", component="database", priority=1, summary="unreachable", now=raised)
    with transaction(db.sessions) as s:
        assert check_clocks(s, datetime(2026, 12, 25, 9, 59, tzinfo=UTC), db.policy) == []
        assert check_clocks(s, datetime(2026, 12, 25, 10, 0, tzinfo=UTC), db.policy) == ["alarm database"]


def test_a_cleared_alarm_does_not_escalate(db: Db) -> None:
    with transaction(db.sessions) as s:
        raise_alarm(
            s, key="rtpengine", component="rtpengine", priority=1, summary="no ping", now=et(2026, 12, 7, 1)
        )
        clear_alarm(s, "rtpengine", now=et(2026, 12, 7, 1, 5))
    with transaction(db.sessions) as s:
        assert check_clocks(s, et(2026, 12, 8), db.policy) == []


def test_a_tenant_ticket_has_its_own_clock_and_escalates(db: Db) -> None:
    opened = et(2026, 12, 24, 9)  # Thursday before Christmas: due Tuesday 29 Dec 15:00
    with transaction(db.sessions) as s:
        ticket = open_ticket(
            s,
            subject="Phones in the lobby cannot dial out",
            opened_by="user:2001@alpha.example.com",
            tenant_id=db.tenants["alpha"],
            now=opened,
        )
        other = open_ticket(
            s, subject="Voicemail light stuck", opened_by="user:2002@alpha.example.com", now=opened
        )
        assert ticket.due_at == et(2026, 12, 29, 15)
        assert [n.event for n in notices(s, "ticket.opened")] == ["ticket.opened", "ticket.opened"]
        acknowledge_ticket(s, other, by="operator:olive@provider.example", now=et(2026, 12, 28, 9))
    with transaction(db.sessions) as s:
        assert check_clocks(s, et(2026, 12, 29, 14, 59), db.policy) == []
        assert check_clocks(s, et(2026, 12, 29, 15), db.policy) == [f"ticket {ticket.id}"]


def test_a_service_affecting_alarm_leaves_an_outage_that_billing_credits(db: Db) -> None:
    start, end = datetime(2026, 12, 7, 6, 0, tzinfo=UTC), datetime(2026, 12, 7, 20, 30, tzinfo=UTC)
    with transaction(db.sessions) as s:
        raise_alarm(
            s,
            key="sip:udp",
            component="sip",
            priority=1,
            summary="no answer to OPTIONS",
            service_affecting=True,
            now=start,
        )
        raise_alarm(s, key="carrier:gw9", component="carrier", priority=2, summary="gw9 down", now=start)
    with transaction(db.sessions) as s:
        alarm = clear_alarm(s, "sip:udp", now=end)
        assert alarm is not None and alarm.outages_recorded == 2  # alpha and beta; not the terminated one
        clear_alarm(s, "carrier:gw9", now=end)  # not service-affecting: no outage
    with transaction(db.sessions) as s:
        outages = s.scalars(select(OutageRow).order_by(OutageRow.tenant_id)).all()
        assert sorted(o.tenant_id for o in outages) == sorted([db.tenants["alpha"], db.tenants["beta"]])
        for outage in outages:
            assert (outage.start, outage.end, outage.provider_fault) == (start, end, True)
            assert outage.description.startswith("monitoring: sip alarm sip:udp")
            # 14.5 continuous hours on 7 December: a day of credit (hosted-pbx.txt liability 1).
            assert outage_qualifying_days(outage) == [date(2026, 12, 7)]
            assert outage.credited_invoice_id is None  # the next invoice takes it
        recorded = s.scalars(select(AuditEntry).where(AuditEntry.action == "billing.outage.record")).all()
        assert {e.tenant_id for e in recorded} == {db.tenants["alpha"], db.tenants["beta"]}


def test_a_tenant_alarm_affects_only_its_tenant(db: Db) -> None:
    with transaction(db.sessions) as s:
        raise_alarm(
            s,
            key=f"trunk:{db.tenants['alpha']}",
            component="trunk",
            priority=2,
            summary="IP-PBX trunk unreachable",
            tenant_id=db.tenants["alpha"],
            service_affecting=True,
            now=et(2026, 12, 7, 1),
        )
        clear_alarm(s, f"trunk:{db.tenants['alpha']}", now=et(2026, 12, 7, 2))
    with transaction(db.sessions) as s:
        assert [o.tenant_id for o in s.scalars(select(OutageRow))] == [db.tenants["alpha"]]
        ticket = s.scalars(select(TicketRow)).one()
        assert ticket.tenant_id == db.tenants["alpha"]


def test_notices_reach_a_real_mail_server_and_a_signed_webhook(db: Db) -> None:
    secret = new_secret()
    with smtp_server() as (mail, smtp_port), webhook_receiver([503]) as hook:
        policy = replace(
            db.policy, notify=("noc@provider.example", hook.url()), escalate=("duty@provider.example",)
        )
        configure(policy)
        raised = et(2026, 12, 7, 10)
        with transaction(db.sessions) as s:
            raise_alarm(
                s,
                key="database",
                component="database",
                priority=1,
                summary="unreachable",
                now=raised,
                details={"error": "refused"},
            )
        mailer = Mailer(SmtpConfig("127.0.0.1", smtp_port, "alarms@provider.example"))
        notifier = Notifier(db.sessions, mailer, secret)
        first = notifier.deliver_due(raised)
        assert (first.sent, first.retried, first.failed) == (1, 1, 0)  # the webhook answered 503
        assert notifier.deliver_due(raised).sent == 0  # not due again yet: a minute later
        second = notifier.deliver_due(et(2026, 12, 7, 10, 1))
        assert second.sent == 1
        # The mail: one, to the NOC, saying what and when it is due.
        assert len(mail.messages) == 1
        msg = mail.messages[0]
        assert msg["To"] == "noc@provider.example" and msg["From"] == "alarms@provider.example"
        assert msg["Subject"] == "[Centrex P1] alarm raised: unreachable"
        body = msg.get_content()
        assert f"due_at: {et(2026, 12, 7, 18).isoformat()}" in body and '"error": "refused"' in body
        # The webhook: twice (503, then 200), the same id, signed, verifiable with the secret.
        assert len(hook.requests) == 2
        (path1, h1, b1), (_path2, h2, b2) = hook.requests
        assert path1 == "/alarms" and h1["webhook-id"] == h2["webhook-id"] and b1 == b2
        assert h2["webhook-signature"].startswith("v1,")
        assert verify(secret, h2, b2, now=int(et(2026, 12, 7, 10, 1).timestamp()))
        assert not verify(secret, h2, b2 + b" ", now=int(et(2026, 12, 7, 10, 1).timestamp()))
        assert not verify(new_secret(), h2, b2, now=int(et(2026, 12, 7, 10, 1).timestamp()))
        payload = json.loads(b2)
        assert payload["type"] == "alarm.raised" and payload["data"]["key"] == "database"
        # The clock runs out: the escalation contact is mailed, once.
        with transaction(db.sessions) as s:
            assert check_clocks(s, et(2026, 12, 7, 18), policy) == ["alarm database"]
        assert notifier.deliver_due(et(2026, 12, 7, 18)).sent == 1
        assert notifier.deliver_due(et(2026, 12, 7, 19)).sent == 0
        escalation = mail.messages[-1]
        assert escalation["To"] == "duty@provider.example"
        assert escalation.get_content().startswith("ESCALATION: the response clock ran out unacknowledged.")
        with transaction(db.sessions) as s:
            rows = s.scalars(select(AlarmNotificationRow)).all()
            assert {(r.status, r.channel) for r in rows} == {("sent", "email"), ("sent", "webhook")}


def test_an_undeliverable_notice_is_retried_then_marked_failed(db: Db) -> None:
    with webhook_receiver([410]) as hook:
        configure(replace(db.policy, notify=("nobody@provider.example", hook.url())))
        t0 = et(2026, 12, 7, 10)
        with transaction(db.sessions) as s:
            raise_alarm(s, key="disk:/", component="disk", priority=2, summary="5% free", now=t0)
        with smtp_server() as (_mail, smtp_port):  # refuses nobody@: a 5xx, final
            notifier = Notifier(db.sessions, Mailer(SmtpConfig("127.0.0.1", smtp_port)), new_secret())
            outcome = notifier.deliver_due(t0)
        assert (outcome.sent, outcome.failed) == (0, 2)  # 550 for the mail, 410 Gone for the hook
        with transaction(db.sessions) as s:
            details = sorted(r.detail for r in s.scalars(select(AlarmNotificationRow)))
            assert details[0] == "HTTP 410" and details[1].startswith("recipient refused: 550")
    # No mailer configured: an e-mail waits, with the reason, and is not lost.
    configure(replace(db.policy, notify=("noc@provider.example",)))
    with transaction(db.sessions) as s:
        raise_alarm(s, key="disk:/data", component="disk", priority=2, summary="5% free", now=t0)
    outcome = Notifier(db.sessions, None).deliver_due(t0)
    assert outcome.retried == 1
    with transaction(db.sessions) as s:
        waiting = s.scalars(
            select(AlarmNotificationRow).where(AlarmNotificationRow.status == "pending")
        ).one()
        assert waiting.detail == "no mailer: set CENTREX_SMTP_HOST" and waiting.next_try_at > t0
