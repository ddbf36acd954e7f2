"""Alarms: raised and cleared by monitoring (ops/monitor.py) or by any module that detects trouble
(the fraud-spike detector, ...), with the response clocks of hosted-pbx.txt Monitoring 2 and their
escalation, a trouble ticket per alarm, and the outage credit of billing fed from what monitoring saw.

The public functions take the caller's session and never commit: the alarm, its ticket and its
notifications commit with the caller's transaction, or not at all::

    raise_alarm(session, key="fraud:<tenant>", component="fraud", priority=2,
                summary="international spend spike", tenant_id=tenant.id, details={...})
    clear_alarm(session, "fraud:<tenant>")

``key`` names the condition: raising it again while it is open only counts another occurrence (and
raises its priority if the new one is more urgent); clearing an unknown or cleared key does nothing.

hosted-pbx.txt Monitoring 1: "monitoring of critical IP-PBX system components through intermittent
polling". Monitoring 2: the response is due "(8) hours" (priority 1) or "(24) CNI-Independents'
business hours" (priority 2) after the alert (ops/business_hours.py response_due). An operator's
acknowledgement is the response and stops the clock; a clock that runs out unacknowledged escalates:
``check_clocks`` tells the escalation contacts (settings ``alarm_escalate``) and records when.
Liability 1: an alarm of a service-affecting component (``service_affecting``: SIP listeners, the
database, the media relay) is an outage of the service "attributable entirely due to the fault of"
the provider; when it clears, an outage from raising to clearing is recorded for every tenant it
affected (its tenant, or all tenants in service), which billing/outage_service.py credits on the
next invoice when it covers 12 continuous hours of a day.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from centrex.ops.alarm_policy import MONITOR, AlarmPolicy, audit, current_policy, queue
from centrex.ops.business_hours import PRIORITIES, response_due
from centrex.ops.tickets import OPEN, open_ticket, ticket_data
from centrex.store.errors import Invalid
from centrex.store.models.alarms import AlarmRow, TicketRow
from centrex.store.models.billing import OutageRow
from centrex.store.models.enums import TenantStatus
from centrex.store.models.tenancy import Tenant
from centrex.store.types import utcnow

__all__ = ["acknowledge_alarm", "alarm_data", "check_clocks", "clear_alarm", "open_alarm", "raise_alarm"]


def alarm_data(alarm: AlarmRow) -> dict[str, Any]:
    return {
        "alarm_id": str(alarm.id),
        "key": alarm.key,
        "component": alarm.component,
        "priority": alarm.priority,
        "summary": alarm.summary,
        "tenant_id": str(alarm.tenant_id) if alarm.tenant_id else None,
        "service_affecting": alarm.service_affecting,
        "raised_at": alarm.raised_at.isoformat(),
        "due_at": alarm.due_at.isoformat(),
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
        "details": alarm.details,
    }


def open_alarm(session: Session, key: str) -> AlarmRow | None:
    return session.scalar(select(AlarmRow).where(AlarmRow.open_key == key))


def raise_alarm(
    session: Session,
    *,
    key: str,
    component: str,
    priority: int,
    summary: str,
    tenant_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    service_affecting: bool = False,
    now: datetime | None = None,
    policy: AlarmPolicy | None = None,
) -> AlarmRow:
    """The open alarm of ``key``, raised now (with its ticket and notices) unless it already is."""
    if priority not in PRIORITIES:
        raise Invalid(f"priority must be 1 or 2, got {priority}", field="priority", rule="priority")
    if not key or len(key) > 200:
        raise Invalid("key: 1 to 200 characters", field="key", rule="alarm_key")
    now = now or utcnow()
    policy = policy or current_policy()
    existing = open_alarm(session, key)
    if existing is not None:
        return _again(existing, priority, summary, details, now, policy)
    values = {
        "id": uuid.uuid4(),
        "key": key,
        "open_key": key,
        "component": component[:40],
        "priority": priority,
        "summary": summary[:500],
        "details": details,
        "tenant_id": tenant_id,
        "service_affecting": service_affecting,
        "raised_at": now,
        "last_seen_at": now,
        "due_at": response_due(priority, now, policy.hours),
        "occurrences": 1,
        "escalation_level": 0,
        "outages_recorded": 0,
        "created_at": now,
        "updated_at": now,
    }
    # INSERT ... ON CONFLICT DO NOTHING on the open key: when another node raised the same
    # condition a moment ago, theirs is the alarm and the caller's transaction goes on unharmed.
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(AlarmRow).values(**values).on_conflict_do_nothing(index_elements=["open_key"])
    inserted = session.execute(stmt.returning(AlarmRow.id)).scalar()
    if inserted is None:
        existing = open_alarm(session, key)
        assert existing is not None
        return _again(existing, priority, summary, details, now, policy)
    alarm = session.get_one(AlarmRow, inserted)
    data = alarm_data(alarm)
    queue(session, policy.notify, "alarm.raised", data, now, alarm_id=alarm.id)
    audit(session, "alarm.raise", "alarms", alarm.id, data, tenant_id, now=now)
    open_ticket(
        session,
        subject=f"P{priority} {component}: {summary}"[:200],
        description=f"Opened from alarm {key} raised at {now.isoformat()}.",
        opened_by=MONITOR,
        priority=priority,
        tenant_id=tenant_id,
        alarm=alarm,
        now=now,
        policy=policy,
    )
    return alarm


def _again(
    alarm: AlarmRow,
    priority: int,
    summary: str,
    details: dict[str, Any] | None,
    now: datetime,
    policy: AlarmPolicy,
) -> AlarmRow:
    """The condition is seen again while its alarm is open: one alarm, counted; a more urgent
    priority shortens the clock (never lengthens it)."""
    alarm.occurrences += 1
    alarm.last_seen_at = max(alarm.last_seen_at, now)
    if details is not None:
        alarm.details = details
    if priority < alarm.priority:
        alarm.priority = priority
        alarm.summary = summary[:500]
        alarm.due_at = min(alarm.due_at, response_due(priority, alarm.raised_at, policy.hours))
    return alarm


def clear_alarm(
    session: Session,
    key: str,
    *,
    now: datetime | None = None,
    by: str = MONITOR,
    policy: AlarmPolicy | None = None,
) -> AlarmRow | None:
    """The condition is over: the alarm closes, its clock stops, the contacts hear of it, and a
    service-affecting one leaves its outage for billing (hosted-pbx.txt liability 1)."""
    alarm = open_alarm(session, key)
    if alarm is None:
        return None
    now = now or utcnow()
    policy = policy or current_policy()
    alarm.cleared_at, alarm.cleared_by, alarm.open_key = now, by[:200], None
    session.flush()
    if alarm.service_affecting:
        alarm.outages_recorded = record_outages(session, alarm)
    data = alarm_data(alarm)
    queue(session, policy.notify, "alarm.cleared", data, now, alarm_id=alarm.id)
    audit(session, "alarm.clear", "alarms", alarm.id, data, alarm.tenant_id, actor=by, now=now)
    return alarm


def acknowledge_alarm(session: Session, alarm: AlarmRow, *, by: str, now: datetime | None = None) -> AlarmRow:
    """The operator responds (hosted-pbx.txt Monitoring 2): the clock stops, for the alarm's tickets too."""
    now = now or utcnow()
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by = now, by[:200]
        for ticket in session.scalars(
            select(TicketRow).where(TicketRow.alarm_id == alarm.id, TicketRow.acknowledged_at.is_(None))
        ):
            ticket.acknowledged_at, ticket.acknowledged_by = now, by[:200]
            if ticket.status == OPEN:
                ticket.status = "acknowledged"
        audit(
            session, "alarm.acknowledge", "alarms", alarm.id, {"by": by}, alarm.tenant_id, actor=by, now=now
        )
    session.flush()
    return alarm


def record_outages(session: Session, alarm: AlarmRow) -> int:
    """Outages from raising to clearing for the tenants the alarm affected (hosted-pbx.txt
    liability 1: billing/outage_service.py credits the days of 12 continuous hours or more)."""
    assert alarm.cleared_at is not None
    if alarm.cleared_at <= alarm.raised_at:
        return 0
    if alarm.tenant_id is not None:
        tenants = [alarm.tenant_id]
    else:
        tenants = list(
            session.scalars(
                select(Tenant.id).where(Tenant.status != TenantStatus.TERMINATED).order_by(Tenant.id)
            )
        )
    description = f"monitoring: {alarm.component} alarm {alarm.key}: {alarm.summary}"[:500]
    for tenant_id in tenants:
        outage = OutageRow(
            tenant_id=tenant_id,
            start=alarm.raised_at,
            end=alarm.cleared_at,
            provider_fault=True,  # our own component: "attributable entirely" to the provider
            description=description,
        )
        session.add(outage)
        session.flush()
        audit(
            session,
            "billing.outage.record",
            "outages",
            outage.id,
            {
                "start": alarm.raised_at.isoformat(),
                "end": alarm.cleared_at.isoformat(),
                "alarm_id": str(alarm.id),
            },
            tenant_id,
            now=alarm.cleared_at,
        )
    return len(tenants)


def check_clocks(session: Session, now: datetime, policy: AlarmPolicy | None = None) -> list[str]:
    """Escalate every open alarm, and every ticket not opened from one, whose response is overdue
    and unacknowledged: the escalation contacts are told and ``escalated_at`` records it. Once per
    alarm or ticket. Returns what was escalated ("alarm <key>", "ticket <id>")."""
    policy = policy or current_policy()
    escalated: list[str] = []
    alarms = session.scalars(
        select(AlarmRow)
        .where(
            AlarmRow.cleared_at.is_(None),
            AlarmRow.acknowledged_at.is_(None),
            AlarmRow.escalated_at.is_(None),
            AlarmRow.due_at <= now,
        )
        .order_by(AlarmRow.due_at)
    )
    for alarm in alarms:
        alarm.escalated_at, alarm.escalation_level = now, alarm.escalation_level + 1
        data = {**alarm_data(alarm), "escalated_at": now.isoformat()}
        queue(session, policy.escalate, "alarm.escalated", data, now, level=1, alarm_id=alarm.id)
        audit(session, "alarm.escalate", "alarms", alarm.id, data, alarm.tenant_id, now=now)
        escalated.append(f"alarm {alarm.key}")
    tickets = session.scalars(
        select(TicketRow)
        .where(
            TicketRow.alarm_id.is_(None),
            TicketRow.status == OPEN,
            TicketRow.acknowledged_at.is_(None),
            TicketRow.escalated_at.is_(None),
            TicketRow.due_at <= now,
        )
        .order_by(TicketRow.due_at)
    )
    for ticket in tickets:
        ticket.escalated_at, ticket.escalation_level = now, ticket.escalation_level + 1
        data = {**ticket_data(ticket), "escalated_at": now.isoformat()}
        queue(session, policy.escalate, "ticket.escalated", data, now, level=1, ticket_id=ticket.id)
        audit(session, "ticket.escalate", "tickets", ticket.id, data, ticket.tenant_id, now=now)
        escalated.append(f"ticket {ticket.id}")
    session.flush()
    return escalated
