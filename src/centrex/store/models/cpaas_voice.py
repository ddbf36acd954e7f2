"""Programmable voice (issue 16 §1): applications, the calls they run and their recordings.

- ``cpaas_applications``: what a number or an extension points at — Twilio's voice URL/method,
  fallback URL/method and status callback, or a native JSON document held inline. A number points at
  one through ``numbers.target_type = 'app'`` / ``target_id``; an extension through ``extension``.
- ``cpaas_calls``: one row per call an app runs (Twilio's Call resource: ``sid`` CA…, direction,
  from/to, status, times, duration, parent_call_sid, answered_by) — the record of cpaas.txt §2.4.2
  (iv) ("call detail … no longer than three (3) years").
- ``cpaas_call_notices``: the call's log (Twilio's debugger notifications): e.g. a <Dial> to 911
  refused under cpaas.txt §2.4.4.
- ``cpaas_recordings``: one row per recording (``sid`` RE…); the WAV is a file under the data dir.
  cpaas.txt §2.4.2 (i): content is kept thirty (30) days — the ``cpaas-recording-retention`` job
  deletes the file and stamps ``content_deleted_at``; the row (a detail record) stays.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime, utcnow


class Application(Base, TenantOwned):
    __tablename__ = "cpaas_applications"
    __table_args__ = (UniqueConstraint("sid"), UniqueConstraint("tenant_id", "extension"))
    sid: Mapped[str] = mapped_column(String(34))  # "AP" + 32 hex (cpaas/sids.py)
    friendly_name: Mapped[str] = mapped_column(String(100), default="")
    voice_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    voice_method: Mapped[str] = mapped_column(String(8), default="POST")
    voice_fallback_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    voice_fallback_method: Mapped[str] = mapped_column(String(8), default="POST")
    status_callback: Mapped[str | None] = mapped_column(String(1000), default=None)
    status_callback_method: Mapped[str] = mapped_column(String(8), default="POST")
    # An inline document instead of a URL: TwiML (starts with "<") or native JSON verbs ("[").
    document: Mapped[str | None] = mapped_column(Text, default=None)
    # The extension that runs it (dialled by the tenant's phones), or none.
    extension: Mapped[str | None] = mapped_column(String(8), default=None)
    # Issue 20 §1: a flow it runs instead (the flow's published revision; cpaas/flows/call_trigger.py).
    # Deleting the flow leaves the application without one (its calls then fail: no URL, no document).
    flow_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("flows.id", ondelete="SET NULL"), default=None, index=True
    )


class CpaasCall(Base, TenantOwned):
    __tablename__ = "cpaas_calls"
    __table_args__ = (
        UniqueConstraint("sid"),
        Index("ix_cpaas_calls_tenant_started", "tenant_id", "start_time"),
    )
    sid: Mapped[str] = mapped_column(String(34))  # "CA" + 32 hex
    account_sid: Mapped[str] = mapped_column(String(34))
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cpaas_applications.id", ondelete="SET NULL"), default=None
    )
    # Twilio's values: inbound, outbound-api, outbound-dial
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    from_number: Mapped[str] = mapped_column(String(128), default="")
    to_number: Mapped[str] = mapped_column(String(128), default="")
    caller_name: Mapped[str | None] = mapped_column(String(64), default=None)
    # Twilio's values: queued, ringing, in-progress, completed, busy, failed, no-answer, canceled
    status: Mapped[str] = mapped_column(String(16), default="queued")
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    duration_s: Mapped[int | None] = mapped_column(Integer, default=None)
    parent_call_sid: Mapped[str | None] = mapped_column(String(34), default=None, index=True)
    answered_by: Mapped[str | None] = mapped_column(String(32), default=None)
    # The switch's call id (calls/ Call.id) of the leg the app runs on, to find a live call.
    switch_call_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # Where the call's document comes from, and where its status callbacks go.
    url: Mapped[str | None] = mapped_column(String(1000), default=None)
    method: Mapped[str] = mapped_column(String(8), default="POST")
    fallback_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    fallback_method: Mapped[str] = mapped_column(String(8), default="POST")
    status_callback: Mapped[str | None] = mapped_column(String(1000), default=None)
    status_callback_method: Mapped[str] = mapped_column(String(8), default="POST")
    # Twilio's StatusCallbackEvent as given (space-separated: initiated ringing answered completed).
    status_callback_event: Mapped[str] = mapped_column(String(64), default="completed")
    sequence_number: Mapped[int] = mapped_column(Integer, default=0)  # next status callback's


class CpaasCallNotice(Base, TenantOwned):
    __tablename__ = "cpaas_call_notices"
    call_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cpaas_calls.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(8), default="error")  # error, warning, info
    code: Mapped[int | None] = mapped_column(Integer, default=None)  # Twilio's error code, if one fits
    message: Mapped[str] = mapped_column(String(1000))


class CpaasRecording(Base, TenantOwned):
    __tablename__ = "cpaas_recordings"
    __table_args__ = (UniqueConstraint("sid"),)
    sid: Mapped[str] = mapped_column(String(34))  # "RE" + 32 hex
    account_sid: Mapped[str] = mapped_column(String(34))
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cpaas_calls.id", ondelete="SET NULL"), default=None, index=True
    )
    call_sid: Mapped[str] = mapped_column(String(34))
    # Twilio's values: in-progress, completed, absent, failed, deleted
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    source: Mapped[str] = mapped_column(String(24), default="RecordVerb")  # RecordVerb, DialVerb, …
    channels: Mapped[int] = mapped_column(Integer, default=1)
    sample_rate: Mapped[int] = mapped_column(Integer, default=8000)
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_s: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str | None] = mapped_column(String(500), default=None)  # under the data dir
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    content_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
