"""Call-center queues (issue 4 point 4): a queue's settings, who may be its agents (and who is
logged in now), and the events its statistics are made of.

A queue has an extension in the tenant's one extension plan (users, hunt groups, queues: see
api/checks.py extension_free). ``queue_agents`` are the members in the administrator's order; the
engine logs them in and out (*45/*46 + the queue's extension), as can an administrator through the
API. ``queue_events`` is append-only history: one small row per thing that happened, read by time
range for statistics (calls/queue_stats.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class CallQueue(Base, TenantOwned):
    __tablename__ = "call_queues"
    __table_args__ = (UniqueConstraint("tenant_id", "extension"),)
    # Server defaults are not fetched back on INSERT, as for tenants (migration 0014's column).
    __mapper_args__ = {"eager_defaults": False}
    name: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(8))
    max_wait_s: Mapped[int] = mapped_column(Integer, default=300)  # then the overflow destination
    wrap_up_s: Mapped[int] = mapped_column(Integer, default=10)  # an agent's pause after a queue call
    agent_ring_s: Mapped[int] = mapped_column(Integer, default=15)  # one agent rung this long
    overflow_destination: Mapped[str | None] = mapped_column(String(32), default=None)
    # Every this many seconds a waiting caller hears its place in line (0 = never; migration 0014).
    announce_position_s: Mapped[int] = mapped_column(Integer, server_default="30", deferred=True)


class QueueAgent(Base, TenantOwned):
    """A member of a queue: may log in as its agent. ``position`` is the administrator's order."""

    __tablename__ = "queue_agents"
    __table_args__ = (UniqueConstraint("queue_id", "user_id"),)
    queue_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("call_queues.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    logged_in: Mapped[bool] = mapped_column(Boolean, default=False)
    logged_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class QueueEventRow(Base):
    """One calls/queues.py QueueEvent. Only the columns an event has (no created/updated times): the
    switch writes one per caller entering, leaving or being answered, so the insert stays small.
    ``call_id`` and ``agent_id`` are not foreign keys: history outlives the user and is written
    before the call's record."""

    __tablename__ = "queue_events"
    # Every read is one tenant's queue over a time range; the leading tenant_id also serves the
    # tenant's cascade.
    __table_args__ = (Index("ix_queue_events_range", "tenant_id", "queue_id", "at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    queue_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("call_queues.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    call_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    wait_ms: Mapped[int | None] = mapped_column(Integer, default=None)
