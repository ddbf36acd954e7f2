"""Trouble tickets: opened from an alarm (ops/alarms.py opens one per new alarm) or by a tenant's
office administrator or back-up (hosted-pbx.txt, MACs: "Customer must designate one Office
Administrator and one Office Administrator back-up that will contact CNI-Independents to report
issues"; store/policy.py Resource.TICKET lets no other tenant user open one), acknowledged and
resolved by the operator.

A ticket has the response clock of its priority (ops/business_hours.py response_due): for a ticket
opened from an alarm it is the alarm's (hosted-pbx.txt Monitoring 2 measures it "from the time ...
notified via monitoring system alarm"), and acknowledging either acknowledges both. For a ticket a
customer reports, the contract says only "respond to any reported fault ... as soon as reasonably
practicable during CNI-Independents' normal working hours" (hosted-pbx.txt, Service description);
we apply the same two intervals by the priority the reporter chose (default 2, business hours).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from centrex.ops.alarm_policy import AlarmPolicy, audit, current_policy, queue
from centrex.ops.business_hours import PRIORITIES, response_due
from centrex.store.errors import Conflict, Invalid
from centrex.store.models.alarms import AlarmRow, TicketRow
from centrex.store.types import utcnow

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"


def ticket_data(ticket: TicketRow) -> dict[str, Any]:
    return {
        "ticket_id": str(ticket.id),
        "tenant_id": str(ticket.tenant_id) if ticket.tenant_id else None,
        "alarm_id": str(ticket.alarm_id) if ticket.alarm_id else None,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "status": ticket.status,
        "opened_by": ticket.opened_by,
        "opened_at": ticket.opened_at.isoformat(),
        "due_at": ticket.due_at.isoformat(),
    }


def open_ticket(
    session: Session,
    *,
    subject: str,
    opened_by: str,
    priority: int = 2,
    description: str = "",
    tenant_id: uuid.UUID | None = None,
    alarm: AlarmRow | None = None,
    now: datetime | None = None,
    policy: AlarmPolicy | None = None,
) -> TicketRow:
    if priority not in PRIORITIES:
        raise Invalid(f"priority must be 1 or 2, got {priority}", field="priority", rule="priority")
    now = now or utcnow()
    policy = policy or current_policy()
    ticket = TicketRow(
        tenant_id=tenant_id,
        alarm_id=alarm.id if alarm is not None else None,
        priority=priority,
        subject=subject[:200],
        description=description,
        status=OPEN,
        opened_by=opened_by[:200],
        opened_at=now,
        due_at=alarm.due_at if alarm is not None else response_due(priority, now, policy.hours),
    )
    session.add(ticket)
    session.flush()
    if alarm is None:  # an alarm's own notice already told the same people
        queue(session, policy.notify, "ticket.opened", ticket_data(ticket), now, ticket_id=ticket.id)
    audit(
        session, "ticket.open", "tickets", ticket.id, ticket_data(ticket), tenant_id, actor=opened_by, now=now
    )
    return ticket


def acknowledge_ticket(
    session: Session, ticket: TicketRow, *, by: str, now: datetime | None = None
) -> TicketRow:
    """The operator responds: the clock stops (and the alarm's, for a ticket opened from one)."""
    now = now or utcnow()
    if ticket.status == RESOLVED:
        raise Conflict("the ticket is resolved", field="status", rule="ticket_resolved")
    if ticket.acknowledged_at is None:
        ticket.acknowledged_at, ticket.acknowledged_by, ticket.status = now, by[:200], ACKNOWLEDGED
        alarm = session.get(AlarmRow, ticket.alarm_id) if ticket.alarm_id else None
        if alarm is not None and alarm.acknowledged_at is None:
            alarm.acknowledged_at, alarm.acknowledged_by = now, by[:200]
        audit(
            session,
            "ticket.acknowledge",
            "tickets",
            ticket.id,
            {"by": by},
            ticket.tenant_id,
            actor=by,
            now=now,
        )
    session.flush()
    return ticket


def resolve_ticket(
    session: Session, ticket: TicketRow, *, by: str, resolution: str, now: datetime | None = None
) -> TicketRow:
    now = now or utcnow()
    if ticket.status == RESOLVED:
        raise Conflict("the ticket is already resolved", field="status", rule="ticket_resolved")
    if ticket.acknowledged_at is None:  # resolving is a response too
        ticket.acknowledged_at, ticket.acknowledged_by = now, by[:200]
    ticket.status, ticket.resolved_at, ticket.resolution = RESOLVED, now, resolution
    session.flush()
    audit(
        session,
        "ticket.resolve",
        "tickets",
        ticket.id,
        {"resolution": resolution},
        ticket.tenant_id,
        actor=by,
        now=now,
    )
    return ticket
