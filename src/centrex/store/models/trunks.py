"""Routes off the switch on storage: trunks (carriers, settlement-free peers, customers' PBXs, 911
providers), their gateways (the SBC pairs of voip-service-guide.txt §I.4), outbound routes by
prefix and call class, and emergency routes by PSAP.

routing/model.py holds the same things as frozen dataclasses; routing/storage.py turns these rows
into a ``RoutingTable``. store/ imports nothing from the service packages, so the enumerations
below repeat the values of routing/model.py (a test checks they stay equal), and call classes are
stored as the string values of numbers/classes.py ``CallClass``.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row
from centrex.store.types import EnumText


class TrunkKind(StrEnum):
    """routing/model.py TrunkKind."""

    CARRIER = "carrier"
    PEER = "peer"
    PBX = "pbx"
    EMERGENCY = "emergency"


class GatewayRole(StrEnum):
    """routing/model.py GatewayRole: the primary SBC HA pair or the secondary one (§I.4)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


class SipTransport(StrEnum):
    UDP = "UDP"
    TCP = "TCP"
    TLS = "TLS"


class NumberFormat(StrEnum):
    """How the Request-URI user is written toward the trunk."""

    E164 = "e164"
    NATIONAL = "national"


class TrunkRow(Base, Row):
    """A trunk. Only a PBX trunk (IP trunking to a customer's own PBX) belongs to a tenant; carrier,
    peer and emergency trunks are the operator's. The database holds that rule too."""

    __tablename__ = "trunks"
    __table_args__ = (
        CheckConstraint("(kind = 'pbx') = (tenant_id IS NOT NULL)", name="tenant_only_for_pbx"),
    )
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[TrunkKind] = mapped_column(EnumText(TrunkKind))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    # Extra CIDR networks calls from this trunk may come from; its gateways always may.
    inbound_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    # E.164 digit prefixes agreed with a peer in advance (peering-policy.txt).
    agreed_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    trusted: Mapped[bool] = mapped_column(Boolean, default=True)  # RFC 3325 P-Asserted-Identity
    number_format: Mapped[NumberFormat] = mapped_column(EnumText(NumberFormat), default=NumberFormat.E164)
    tech_prefix: Mapped[str] = mapped_column(String(16), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Issue 15 (migration 0021). Per-trunk limits, in both directions: simultaneous calls and new
    # calls per second (None: no limit). The trunk's originating location (voip-service-guide.txt
    # §V.9): a pbx trunk's site of its tenant; a carrier's or peer's NPA-NXX and state.
    max_calls: Mapped[int | None] = mapped_column(Integer, default=None)
    max_cps: Mapped[int | None] = mapped_column(Integer, default=None)
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    origin_npa_nxx: Mapped[str | None] = mapped_column(String(6), default=None)
    origin_state: Mapped[str | None] = mapped_column(String(2), default=None)


class TrunkGatewayRow(Base, Row):
    """One signalling address of a trunk: an SBC of its primary or secondary pair."""

    __tablename__ = "trunk_gateways"
    __table_args__ = (
        UniqueConstraint("trunk_id", "role", "position"),
        CheckConstraint("port >= 1 AND port <= 65535", name="port_range"),
    )
    trunk_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("trunks.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253))  # an IP literal or an RFC 1123 host name (0026)
    port: Mapped[int] = mapped_column(Integer, default=5060)
    transport: Mapped[SipTransport] = mapped_column(EnumText(SipTransport), default=SipTransport.UDP)
    role: Mapped[GatewayRole] = mapped_column(EnumText(GatewayRole), default=GatewayRole.PRIMARY)
    position: Mapped[int] = mapped_column(Integer, default=0)


class OutboundRouteRow(Base, Row):
    """A route by destination prefix (E.164 digits without '+') and call class, with priority (lower
    first) and weight (share among routes of the same priority). A trunk with routes cannot be
    deleted (the API answers 409); a tenant's own routes go with the tenant."""

    __tablename__ = "outbound_routes"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)
    trunk_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("trunks.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(15), default="")
    call_classes: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every class
    priority: Mapped[int] = mapped_column(Integer, default=100)
    weight: Mapped[int] = mapped_column(Integer, default=100)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )


class EmergencyRouteRow(Base, Row):
    """Where 911 calls for a PSAP go; psap None is the route for every PSAP without its own."""

    __tablename__ = "emergency_routes"
    trunk_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("trunks.id"), index=True)
    psap: Mapped[str | None] = mapped_column(String(100), default=None)
    priority: Mapped[int] = mapped_column(Integer, default=100)
