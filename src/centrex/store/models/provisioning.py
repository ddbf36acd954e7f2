"""Desk-phone auto-provisioning (issue 17 §2): what a phone needs besides its device row.

One row per provisioned device: the phone model (which picks the vendor template), the HTTP
credentials the phone presents when it fetches its file (only a SHA-256 of the random secret is
kept, as for API tokens: it is 128 bits of randomness, not a password a person chose), its SIP
password sealed (store/sealed.py: the device row keeps only digest HA1s, and a phone needs the
password itself), and the time zone it shows.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned


class DeviceProvisioning(Base, TenantOwned):
    __tablename__ = "device_provisioning"
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("devices.id", ondelete="CASCADE"), unique=True
    )
    model: Mapped[str | None] = mapped_column(String(40), default=None)  # provisioning/vendors.py MODELS
    http_username: Mapped[str] = mapped_column(String(32), unique=True)
    http_secret_hash: Mapped[str] = mapped_column(String(64))
    sip_secret_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")
