"""A carrier trunk's digest credentials and registration (issue 17 §5): what the carrier gave us
to authenticate with, and whether the switch keeps a registration there (a registration trunk).

A table of its own beside ``trunks`` (one row per trunk at most), so a trunk without credentials
has none and other trunk settings evolve without touching secrets. The password is sealed
(store/sealed.py): the switch must send it, so it cannot be a one-way hash; the API never returns it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row


class TrunkCredentialsRow(Base, Row):
    __tablename__ = "trunk_credentials"
    __table_args__ = (CheckConstraint("register_expires >= 60", name="expires_floor"),)
    trunk_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("trunks.id", ondelete="CASCADE"), unique=True
    )
    auth_username: Mapped[str] = mapped_column(String(128))
    auth_password_sealed: Mapped[str] = mapped_column(Text)
    register: Mapped[bool] = mapped_column(Boolean, default=False)
    # The carrier's SIP domain for the REGISTER's Request-URI and AoR (empty: the gateway's host).
    registrar: Mapped[str] = mapped_column(String(253), default="")
    register_expires: Mapped[int] = mapped_column(Integer, default=600)
