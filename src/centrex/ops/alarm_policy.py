"""What alarms and tickets share: who is told (the policy), and the outbox rows that tell them.

Notifications are rows of ``alarm_notifications`` written in the same transaction as the change
they announce (an alarm raised, a clock run out), and delivered after it commits by ops/notify.py:
a rolled-back change tells nobody, and a mail server that is down delays a message, never loses it.
The payload is Standard Webhooks' shape, ``{"type", "timestamp", "data"}``; the e-mail says the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from centrex.config import Settings
from centrex.ops.business_hours import BusinessHours, parse_hours, parse_zone
from centrex.store.models.alarms import AlarmNotificationRow
from centrex.store.models.security import AuditEntry

MONITOR = "monitor"  # the actor of what polling does (audit entries, cleared_by)


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """The operator's business hours (for priority 2's clock), who hears of every alarm and ticket
    (``notify``, level 0) and who when a response clock runs out (``escalate``, level 1). Contacts
    are e-mail addresses or http(s) webhook URLs."""

    hours: BusinessHours
    notify: tuple[str, ...] = ()
    escalate: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AlarmPolicy:
        from centrex.billing.periods import business_calendar

        opens, closes = parse_hours(settings.business_hours)
        hours = BusinessHours(
            opens,
            closes,
            parse_zone(settings.business_timezone),
            business_calendar(settings.business_calendar),
        )
        return cls(hours, settings.alarm_notify, settings.alarm_escalate)


_configured: AlarmPolicy | None = None


def configure(policy: AlarmPolicy | None) -> None:
    """The policy of this process (server.py sets it from the settings at start)."""
    global _configured
    _configured = policy


def current_policy() -> AlarmPolicy:
    """The configured policy, else one from the settings' defaults and the environment."""
    global _configured
    if _configured is None:
        from centrex.config import load_settings

        _configured = AlarmPolicy.from_settings(load_settings())
    return _configured


def channel_of(contact: str) -> str:
    return "webhook" if contact.startswith(("http://", "https://")) else "email"


def queue(
    session: Session,
    contacts: tuple[str, ...],
    event: str,
    data: dict[str, Any],
    now: datetime,
    *,
    level: int = 0,
    alarm_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
) -> int:
    """One outbox row per contact; delivered by ops/notify.py once this transaction commits."""
    payload = {"type": event, "timestamp": now.isoformat(), "data": data}
    for contact in contacts:
        session.add(
            AlarmNotificationRow(
                alarm_id=alarm_id,
                ticket_id=ticket_id,
                event=event,
                level=level,
                channel=channel_of(contact),
                address=contact,
                payload=payload,
                next_try_at=now,
            )
        )
    return len(contacts)


def audit(
    session: Session,
    action: str,
    entity: str,
    entity_id: uuid.UUID,
    after: dict[str, Any] | None,
    tenant_id: uuid.UUID | None,
    *,
    actor: str = MONITOR,
    role: str = "operator",
    now: datetime | None = None,
) -> None:
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor=actor[:200],
        actor_role=role,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=None,
        after=after,
    )
    if now is not None:
        entry.at = now
    session.add(entry)
