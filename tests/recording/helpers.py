"""A tenant with users and a recording policy in a real database, and call events as the engine
publishes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.store.db import transaction
from centrex.store.models import Tenant, User
from centrex.store.models.recordings import RecordingMode, RecordingSettings, RecordingUserPolicy


@dataclass
class Office:
    tenant_id: uuid.UUID
    users: dict[str, uuid.UUID]  # extension -> user id


def office(sessions: sessionmaker[Session], domain: str = "rec.example.com") -> Office:
    with transaction(sessions) as s:
        tenant = Tenant(name="Recorded Inc", sip_domain=domain)
        s.add(tenant)
        s.flush()
        users = {}
        for ext in ("1001", "1002", "1003"):
            u = User(tenant_id=tenant.id, name=f"User {ext}", extension=ext)
            s.add(u)
            s.flush()
            users[ext] = u.id
        return Office(tenant.id, users)


def set_policy(
    sessions: sessionmaker[Session],
    o: Office,
    mode: RecordingMode | None,
    users: dict[str, RecordingMode] | None = None,
    retention_months: int = 12,
) -> None:
    with transaction(sessions) as s:
        if mode is not None:
            s.add(RecordingSettings(tenant_id=o.tenant_id, mode=mode, retention_months=retention_months))
        for ext, m in (users or {}).items():
            s.add(RecordingUserPolicy(tenant_id=o.tenant_id, user_id=o.users[ext], mode=m))


def started(o: Office, call_id: uuid.UUID, caller: str | None, dialled: str, direction: str) -> CallStarted:
    """``caller`` an extension of the office, or None for a call from a carrier."""
    user = o.users[caller] if caller else None
    return CallStarted(
        call_id,
        o.tenant_id,
        None,
        user,
        uuid.uuid4() if caller else None,
        caller or "+13125550777",
        dialled,
        "on_net" if direction == "internal" else "local",
        datetime.now(UTC),
        direction,
    )


def answered(o: Office, call_id: uuid.UUID, to: str) -> CallAnswered:
    return CallAnswered(call_id, o.tenant_id, to, datetime.now(UTC))


def ended(o: Office, call_id: uuid.UUID, caller: str | None, to: str, direction: str) -> CallEnded:
    now = datetime.now(UTC)
    return CallEnded(
        call_id,
        o.tenant_id,
        None,
        o.users[caller] if caller else None,
        None,
        caller or "+13125550777",
        to,
        to,
        "on_net" if direction == "internal" else "local",
        now,
        now,
        now,
        1000,
        "answered",
        "caller_bye",
        200,
        (),
        direction,
    )
