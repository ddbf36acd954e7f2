"""Which node owns a piece of call state kept in its memory (issue 19 §5; docs/scale-out.md
"What is owned"): a park slot, a queue with callers waiting, an open conference room.

One row per (tenant, kind, key): the first node to claim it owns it (INSERT … ON CONFLICT DO
NOTHING, then read), until it releases the row or is taken for dead (adapters/interrupted.py).
``address`` is the owner's SIP address, where another node redirects requests for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class OwnedState(Base, TenantOwned):
    __tablename__ = "owned_state"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "key"),)
    kind: Mapped[str] = mapped_column(String(16))  # park | queue | conference
    key: Mapped[str] = mapped_column(String(64))  # the slot, the queue's id, the bridge's id
    node_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # switch_nodes.id of the owner
    address: Mapped[str] = mapped_column(String(255))  # the owner's SIP URI: sip:host:port
    since: Mapped[datetime] = mapped_column(UTCDateTime)
