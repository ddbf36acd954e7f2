"""Settlement-free peering (peering-policy.txt; ops/peering_policy.py holds the rules): our points
of presence, the networks that peer with us there, their emergency contacts, their BGP sessions
and the prefixes agreed both ways. Operator data, not a tenant's.

A de-peered peer keeps its rows, with ``depeered_at`` and the reason: the record of who peered
and what was agreed; the router configuration (ops/peering_bird.py) leaves it out at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from centrex.store.models.base import Base, Row
from centrex.store.types import UTCDateTime


class PeeringPop(Base, Row):
    """One of our points of presence: the facility and the router we run there."""

    __tablename__ = "peering_pops"
    name: Mapped[str] = mapped_column(String(32), unique=True)  # a short slug: "chi1"
    facility: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    meet_me_room: Mapped[bool] = mapped_column(Boolean, default=False)
    router_id: Mapped[str] = mapped_column(String(15))  # IPv4 dotted quad
    local_asn: Mapped[int] = mapped_column(BigInteger)  # 32-bit ASNs exceed a signed INTEGER


class Peer(Base, Row):
    """A network peering with us; ``depeered_at`` set: no longer (ops/peering_policy.py)."""

    __tablename__ = "peers"
    __table_args__ = (Index("ix_peers_asn_active", "asn", "depeered_at"),)
    name: Mapped[str] = mapped_column(String(200))
    asn: Mapped[int] = mapped_column(BigInteger)  # 32-bit ASNs exceed a signed INTEGER
    notes: Mapped[str] = mapped_column(String(2000), default="")
    depeered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    depeer_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    depeered_by: Mapped[str | None] = mapped_column(String(200), default=None)

    contacts: Mapped[list[PeerContact]] = relationship(
        cascade="all, delete-orphan", order_by="PeerContact.position", lazy="selectin"
    )
    sessions: Mapped[list[PeerSession]] = relationship(
        cascade="all, delete-orphan", order_by="PeerSession.position", lazy="selectin"
    )
    prefixes: Mapped[list[PeerPrefix]] = relationship(
        cascade="all, delete-orphan", order_by="PeerPrefix.position", lazy="selectin"
    )


class PeerContact(Base, Row):
    """An emergency contact of the peer's organization (Operational Requirements and Procedures)."""

    __tablename__ = "peer_contacts"
    peer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    email: Mapped[str] = mapped_column(String(320))


class PeerSession(Base, Row):
    """One BGP session with the peer, at one of our POPs."""

    __tablename__ = "peer_sessions"
    peer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    pop_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("peering_pops.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    neighbor: Mapped[str] = mapped_column(String(45))  # the peer's router address
    local_address: Mapped[str | None] = mapped_column(String(45), default=None)  # ours
    connection: Mapped[str] = mapped_column(String(16))  # meet_me_room | cross_connect
    pop: Mapped[PeeringPop] = relationship(lazy="joined")


class PeerPrefix(Base, Row):
    """A prefix agreed in advance of peering: ``import`` theirs (we accept), ``export`` ours."""

    __tablename__ = "peer_prefixes"
    peer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("peers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    prefix: Mapped[str] = mapped_column(String(49))  # normalized CIDR
    direction: Mapped[str] = mapped_column(String(8))  # import | export
