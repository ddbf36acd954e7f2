"""Brute-force bans (fairuse/bans.py): the bans that were started, so they survive a restart and
every node of a cluster sees them; the operator's allowlist of networks never banned; and the keys
a service signs with across restarts (the SIP digest nonce key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row
from centrex.store.types import UTCDateTime, utcnow


class BanRow(Base, Row):
    """One ban: active while ``ended_at`` is null and ``until`` is ahead. Ended rows are kept as a
    record (who lifted it, or when it ran out); ``realm`` is fairuse/bans.py Realm."""

    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_active", "ended_at", "until"),)
    realm: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64), index=True)  # IPv4 address or IPv6 /64
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer)
    last_username: Mapped[str | None] = mapped_column(String(200), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(200), default=None)


class BanAllowRow(Base, Row):
    """A network the operator never wants banned (an office, a monitoring host); trunk gateways and
    inbound networks are always allowed without a row here."""

    __tablename__ = "ban_allowlist"
    network: Mapped[str] = mapped_column(String(64), unique=True)  # normalized CIDR
    note: Mapped[str] = mapped_column(String(200), default="")


class ServiceKey(Base):
    """A random key a service keeps across restarts and shares between nodes."""

    __tablename__ = "service_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))  # hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
