"""Nomadic use (voip-service-guide.txt §V.14.3, §V.14.4): the networks each device has registered
from, and whether the location was confirmed for each. e911/nomadic_store.py applies the rules of
e911/nomadic.py to these rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class DeviceNetwork(Base, TenantOwned):
    """One network (e911/nomadic.py network_id: the /24 or /64) a device registered from.

    `location_confirmed_at` is set for the first network a device registers from (its registered
    primary service location), when the user or an administrator confirms the location on this
    network, or when the device's registered location is updated while it is here; a network
    without it is a move that was not reported (§V.14.3: "unless and until ... verifies ... or
    re-registers")."""

    __tablename__ = "device_networks"
    __table_args__ = (UniqueConstraint("device_id", "network"),)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("devices.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    location_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_by: Mapped[str | None] = mapped_column(String(200), default=None)
