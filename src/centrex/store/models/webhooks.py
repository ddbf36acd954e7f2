"""Webhooks (issue 16 §3): a tenant's event subscriptions, their signing secrets, and the outbox of
every signed request we send to a customer's URL with its delivery log.

- ``webhook_endpoints``: a URL subscribed to some of the tenant's events (like Wazo's webhookd
  subscriptions). ``enabled`` false after the receiver answered 410 Gone (``disabled_reason``).
- ``webhook_secrets``: the endpoint's signing secrets, sealed (store/sealed.py: they must be given
  back in clear to sign). Several are active during a rotation: ``expires_at`` None is active for
  good, a time is the end of the old secret's grace period.
- ``webhook_deliveries``: the outbox. A row is written in the caller's transaction (a crash loses
  nothing that was committed), then sent, retried with back-off, and ends ``delivered`` or
  ``failed`` (or ``cancelled`` when its endpoint was disabled). ``endpoint_id`` is None for the
  status callbacks of voice apps and messages (a URL of the app, signed X-Twilio-Signature).
- ``webhook_attempts``: one row per attempt (status code, latency, error, the start of the answer).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class WebhookEndpoint(Base, TenantOwned):
    __tablename__ = "webhook_endpoints"
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # event types, or ["*"]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)


class WebhookSecret(Base, TenantOwned):
    __tablename__ = "webhook_secrets"
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    secret_sealed: Mapped[str] = mapped_column(String(400))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class WebhookDelivery(Base, TenantOwned):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_try_at"),)
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True, default=None
    )
    url: Mapped[str] = mapped_column(String(2000))
    method: Mapped[str] = mapped_column(String(8), default="POST")
    kind: Mapped[str] = mapped_column(String(32))  # event, test, status_callback, …
    event_type: Mapped[str | None] = mapped_column(String(64), default=None)
    msg_id: Mapped[str] = mapped_column(String(64))  # webhook-id: the same on every retry
    signing: Mapped[str] = mapped_column(String(16))  # standard, twilio, none
    content_type: Mapped[str] = mapped_column(String(100), default="application/json")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed, cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # e.g. a call SID
    # Deliveries of one lane leave one at a time, in the order queued (migration 0042). None: the
    # endpoint's lane, else the URL's. A call's status callbacks: "call:<CallSid>".
    lane: Mapped[str | None] = mapped_column(String(200), default=None, index=True)


class WebhookAttempt(Base, TenantOwned):
    __tablename__ = "webhook_attempts"
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … of the delivery
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no answer
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    response: Mapped[str] = mapped_column(String(500), default="")  # the answer's first characters
