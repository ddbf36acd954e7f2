"""Alarms, trouble tickets and their notifications (ops/alarms.py, ops/tickets.py, ops/notify.py).

- ``alarms``: one row per incident of a monitored condition (hosted-pbx.txt Monitoring 1: "monitoring
  of critical IP-PBX system components through intermittent polling"). ``key`` names the condition
  ("database", "carrier:<gateway>"); ``open_key`` is the key while the alarm is open and NULL once
  cleared, under a unique constraint, so a condition has at most one open alarm even when several
  nodes raise it at once. ``due_at`` is the response clock (Monitoring 2), stopped by
  ``acknowledged_at``; ``escalated_at`` records that it ran out first.
- ``tickets``: trouble tickets, opened from an alarm or by a tenant's office administrator or
  back-up (hosted-pbx.txt, MACs: "one Office Administrator and one Office Administrator back-up that
  will contact CNI-Independents to report issues"); the same clock fields.
- ``alarm_notifications``: the outbox of e-mails and webhooks, written in the transaction that
  raised, escalated or cleared, delivered (and retried) after it commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row
from centrex.store.types import UTCDateTime


class ClockColumns:
    """The response clock of an alarm or a ticket."""

    priority: Mapped[int] = mapped_column(Integer)  # 1 or 2 (hosted-pbx.txt Monitoring 2.a, 2.b)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)


class AlarmRow(Base, Row, ClockColumns):
    __tablename__ = "alarms"
    key: Mapped[str] = mapped_column(String(200), index=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    component: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    # Service unavailable while open: on clearing, an outage is recorded for billing's credit.
    service_affecting: Mapped[bool] = mapped_column(Boolean, default=False)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cleared_by: Mapped[str | None] = mapped_column(String(200), default=None)
    outages_recorded: Mapped[int] = mapped_column(Integer, default=0)


class TicketRow(Base, Row, ClockColumns):
    __tablename__ = "tickets"
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    alarm_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("alarms.id", ondelete="SET NULL"), index=True, default=None
    )
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / acknowledged / resolved
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")


class AlarmNotificationRow(Base, Row):
    __tablename__ = "alarm_notifications"
    alarm_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("alarms.id", ondelete="CASCADE"), index=True, default=None
    )
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tickets.id", ondelete="CASCADE"), index=True, default=None
    )
    event: Mapped[str] = mapped_column(String(32))  # alarm.raised, alarm.escalated, ticket.opened, ...
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0: alarm_notify; 1: alarm_escalate
    channel: Mapped[str] = mapped_column(String(8))  # email / webhook
    address: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)  # pending/sent/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    detail: Mapped[str] = mapped_column(String(500), default="")
