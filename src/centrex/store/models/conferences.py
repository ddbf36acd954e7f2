"""Conference bridges (issue 4 point 6): a tenant's meeting rooms, reached by their extension or by
the conference feature code (``*55``, then the bridge's number).

A bridge may have a PIN (argon2 hash, like a mailbox's) that every party enters and a moderator
PIN; either admits. Who is in a room is live state of the app server, not rows.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned


class ConferenceBridge(Base, TenantOwned):
    __tablename__ = "conference_bridges"
    __table_args__ = (UniqueConstraint("tenant_id", "extension", name="uq_conference_bridges_extension"),)
    name: Mapped[str] = mapped_column(String(100))
    # The bridge's number in the tenant's dial plan (2 to 6 digits), dialled or keyed after *55.
    extension: Mapped[str] = mapped_column(String(6))
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    moderator_pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    max_parties: Mapped[int] = mapped_column(Integer, default=10)
    announce: Mapped[bool] = mapped_column(Boolean, default=True)  # join/leave tones
