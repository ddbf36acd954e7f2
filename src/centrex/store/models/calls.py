"""What the SIP side keeps: registrations (they survive a restart), the journal of calls in
progress (closed as interrupted after a crash), and what a CDR holds beyond billing's ``cdrs`` row.

One call is one row of ``cdrs`` (billing.py CallDetail, which billing rates); ``cdr_outcomes``
adds how it ended on the signalling side (end time, hang-up cause, SIP code) one to one, and
``cdr_legs`` has one row per device that was rung.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import UTCDateTime


class Registration(Base, TenantOwned):
    """One registered contact of a device (RFC 3261 §10.3), and where its REGISTER came from."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("tenant_id", "username", "contact_key"),)
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    username: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(512))
    contact_key: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    call_id: Mapped[str] = mapped_column(String(200))
    cseq: Mapped[int] = mapped_column(Integer)
    source_host: Mapped[str] = mapped_column(String(64))
    source_port: Mapped[int] = mapped_column(Integer)
    transport: Mapped[str] = mapped_column(String(8))
    q: Mapped[float | None] = mapped_column(Float, default=None)


class ActiveCall(Base, TenantOwned):
    """A call in progress. Written when it starts, deleted in the transaction that writes its
    CDR; a row still here at start-up is a call a crash cut short."""

    __tablename__ = "active_calls"
    call_id: Mapped[str] = mapped_column(String(100), unique=True)
    caller: Mapped[str] = mapped_column(String(32))
    callee: Mapped[str] = mapped_column(String(32), default="")
    dialled: Mapped[str] = mapped_column(String(64), default="")
    call_class: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Migration 0018 (issue 13 §3): which switch process holds the call (its heartbeat in
    # switch_nodes bounds how long an interrupted call is known to have been up), the direction
    # for rating, and the call's dialogs so a restart can send BYE on each (calls/dialog_record.py).
    node_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    direction: Mapped[str | None] = mapped_column(String(16), default=None)
    dialogs: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class SwitchNode(Base, Row):
    """One running switch process: it writes ``alive_at`` every heartbeat while it runs. A call
    journalled by a node whose heartbeat stopped was cut short at about that time."""

    __tablename__ = "switch_nodes"
    name: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alive_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CdrOutcome(Base, TenantOwned):
    """How a call ended on the signalling side: one per ``cdrs`` row written by the SIP service."""

    __tablename__ = "cdr_outcomes"
    cdr_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cdrs.id", ondelete="CASCADE"), unique=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    hangup_cause: Mapped[str] = mapped_column(String(64))
    sip_code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))  # the engine's disposition, incl. rejected/interrupted
    trunk: Mapped[str | None] = mapped_column(String(100), default=None)  # the trunk it left or came in by


class CdrLeg(Base, TenantOwned):
    """One device contact a call rang (parallel forking and forwarding make several)."""

    __tablename__ = "cdr_legs"
    cdr_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cdrs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    extension: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    contact: Mapped[str] = mapped_column(String(512))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    sip_code: Mapped[int | None] = mapped_column(Integer, default=None)
    disposition: Mapped[str] = mapped_column(String(32))
