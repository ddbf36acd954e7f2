"""Long operator tasks the portal starts and polls (issue 18 §2, "rate decks (CSV import with
progress), billing runs with progress"), and the browser phones' own devices (issue 18 §3).

- ``portal_tasks``: one row per task (a rate-deck import, a billing run): its kind, who started it,
  where it stands (``running`` → ``done`` or ``failed``), how far (``done`` of ``total`` units:
  CSV lines read then rows stored, tenants invoiced), and its result or the API's problem
  (message, field, rule) when it failed. Written by the task's worker thread in its own short
  transactions, read by ``GET /api/v1/tasks/{id}``.
- ``softphone_devices``: the device record (``devices``) a user's browser phone registers with,
  and its SIP password sealed (store/sealed.py), so every browser the user opens the page in gets
  the same credentials back instead of each rotating the last one out.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import UTCDateTime


class PortalTask(Base, Row):
    __tablename__ = "portal_tasks"
    kind: Mapped[str] = mapped_column(String(32), index=True)  # rate_deck_import / billing_run
    status: Mapped[str] = mapped_column(String(16))  # running / done / failed
    phase: Mapped[str] = mapped_column(String(32), default="")  # e.g. reading, storing
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SoftphoneDevice(Base, TenantOwned):
    __tablename__ = "softphone_devices"
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("devices.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
