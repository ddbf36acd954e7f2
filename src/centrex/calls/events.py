"""Call events: a call's life as data (STYLE.md "Events are data"). CDRs, the journal, recording,
queue statistics and webhooks are all made from these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from centrex.calls.dialog_record import DialogRecord
from centrex.calls.model import LegRecord


@dataclass(frozen=True, slots=True)
class CallStarted:
    """An authenticated caller's INVITE was accepted for routing (journalled for crash recovery)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    site_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None
    from_: str
    dialled: str
    call_class: str
    started_at: datetime
    direction: str = "outbound"  # internal / outbound / inbound (numbers.classes.Direction)


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: uuid.UUID
    tenant_id: uuid.UUID
    to: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A finished call: what a CDR is made of."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    site_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None  # None: the call came in from a trunk
    from_: str  # the caller's extension (or device username, or the caller's number from a trunk)
    to: str  # the extension that finally rang (after forwarding), or what was dialled
    dialled: str
    call_class: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    duration_ms: int
    disposition: str  # answered, busy, no_answer, cancelled, failed, rejected
    hangup_cause: str
    sip_code: int
    legs: tuple[LegRecord, ...] = ()
    direction: str = "outbound"  # internal / outbound / inbound (numbers.classes.Direction)
    trunk: str | None = None  # the trunk the call left or came in by


@dataclass(frozen=True, slots=True)
class CallDialogs:
    """The dialogs an answered call holds now (the caller's and the answering party's): the
    journal keeps them so a restarted switch can send BYE on each (calls/dialog_record.py)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    dialogs: tuple[DialogRecord, ...]
