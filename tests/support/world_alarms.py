"""World rows of the alarms family (issue 19 part 2): per tenant of the world one open alarm of that
tenant and one ticket its office administrator reported."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from centrex.store.models.alarms import AlarmRow, TicketRow
from centrex.store.types import utcnow
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    now = utcnow()
    alarm = AlarmRow(
        key=f"trunk:{tw.id}",
        open_key=f"trunk:{tw.id}",
        component="trunk",
        priority=2,
        summary="IP-PBX trunk unreachable",
        tenant_id=tw.id,
        raised_at=now,
        last_seen_at=now,
        due_at=now + timedelta(days=3),
    )
    session.add(alarm)
    session.flush()
    ticket = TicketRow(
        tenant_id=tw.id,
        priority=2,
        subject="Lobby phone dead",
        opened_by=f"user:2001@{tw.domain}",
        opened_at=now,
        due_at=now + timedelta(days=3),
    )
    session.add(ticket)
    session.flush()
    tw.ids["alarm"] = alarm.id
    tw.ids["ticket"] = ticket.id
