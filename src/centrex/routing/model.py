"""The routing table as data: what the call engine needs to send a call off the switch.

``storage.py`` builds a ``RoutingTable`` from the database; tests build it by hand. Nothing here
does I/O. Numbers in routes are E.164 digits without the ``+`` ("1212", "44"), so a prefix is a
plain string prefix of the destination.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from centrex.numbers.classes import CallClass


class TrunkKind(StrEnum):
    CARRIER = "carrier"  # a PSTN carrier: any destination its routes name
    PEER = "peer"  # settlement-free peer: only the agreed prefixes, never a default route
    PBX = "pbx"  # a tenant's own IP-PBX (IP trunking): gets the tenant's DIDs routed to it
    EMERGENCY = "emergency"  # a 911 service provider / selective router toward the PSAPs


class GatewayRole(StrEnum):
    """voip-service-guide.txt §I.4 (alternate route): a primary SBC HA pair and a mirrored,
    geographically diverse secondary pair."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


@dataclass(frozen=True, slots=True)
class Gateway:
    """One SBC or carrier signalling address of a trunk."""

    id: uuid.UUID
    host: str  # an IP literal (inbound calls are matched by source address)
    port: int = 5060
    transport: str = "UDP"  # "UDP", "TCP", "TLS"
    role: GatewayRole = GatewayRole.PRIMARY
    position: int = 0  # order within the role (the two SBCs of a pair)


@dataclass(frozen=True, slots=True)
class Trunk:
    id: uuid.UUID
    name: str
    kind: TrunkKind
    gateways: tuple[Gateway, ...]
    tenant_id: uuid.UUID | None = None  # PBX trunks belong to a tenant; the others are the operator's
    # Extra source networks calls from this trunk may come from (CIDR); its gateways always may.
    inbound_networks: tuple[str, ...] = ()
    # peering-policy.txt "The specific routes … agreed upon in advance": E.164 digit prefixes the
    # peer reaches (outbound) — and, for calls from the peer, only our own numbers are accepted.
    agreed_prefixes: tuple[str, ...] = ()
    # RFC 3325: send the caller's identity in P-Asserted-Identity (this trunk is trusted).
    trusted: bool = True
    # How the Request-URI user is written: "e164" (+12125550100) or "national" (2125550100).
    number_format: str = "e164"
    tech_prefix: str = ""  # digits some carriers want before the number
    enabled: bool = True
    # Digest credentials the carrier gave us: its 401/407 challenges are answered with them, and
    # with ``register`` the switch keeps a registration at the primary gateway (a registration
    # trunk rather than an IP-authenticated one).
    auth_username: str = ""
    auth_password: str = field(default="", repr=False)
    register: bool = False
    register_domain: str = ""  # the carrier's domain in the REGISTER (default: the gateway address)
    register_expires: int = 600
    # Issue 15: limits in both directions (None: none) — simultaneous calls and new calls per second
    # (routing/trunk_limits.py); the originating location its calls are classified from
    # (voip-service-guide.txt §V.9): a pbx trunk's site, else a carrier's NPA-NXX and state.
    max_calls: int | None = None
    max_cps: int | None = None
    site_id: uuid.UUID | None = None
    origin_npa_nxx: str | None = None
    origin_state: str | None = None

    def accepts_from(self, ip: str, port: int | None = None) -> bool:
        """A request from ``ip``:``port`` is this trunk's: it comes from one of its gateways (its
        address and signalling port; phones on the same host use other ports), or from one of its
        ``inbound_networks`` (any port: a carrier that sends from a pool of addresses or ports)."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if any(g.host == ip and (port is None or g.port == port) for g in self.gateways):
            return True
        return any(addr in ipaddress.ip_network(n, strict=False) for n in self.inbound_networks)


@dataclass(frozen=True, slots=True)
class OutboundRoute:
    """A route by prefix and call class, with priority (lower first) and weight (share among
    routes of the same priority)."""

    id: uuid.UUID
    trunk_id: uuid.UUID
    prefix: str = ""  # "" matches every destination (not allowed toward a peer)
    call_classes: frozenset[CallClass] = frozenset()  # empty: every class
    priority: int = 100
    weight: int = 100
    tenant_id: uuid.UUID | None = None  # None: every tenant; else only that tenant's calls


@dataclass(frozen=True, slots=True)
class EmergencyRoute:
    """Where 911 calls go for a PSAP (from the caller's validated location); psap None is the
    route for locations whose PSAP has no route of its own."""

    id: uuid.UUID
    trunk_id: uuid.UUID
    psap: str | None = None
    priority: int = 100


@dataclass(frozen=True, slots=True)
class RoutingTable:
    trunks: dict[uuid.UUID, Trunk] = field(default_factory=dict)
    routes: tuple[OutboundRoute, ...] = ()
    emergency: tuple[EmergencyRoute, ...] = ()

    def trunk_for_source(self, ip: str, port: int | None = None) -> Trunk | None:
        """The trunk a request from ``ip``:``port`` belongs to (inbound from carriers is accepted
        only from their addresses, issue #6 point 5)."""
        for t in self.trunks.values():
            if t.enabled and t.accepts_from(ip, port):
                return t
        return None

    def gateways(self) -> list[Gateway]:
        return [g for t in self.trunks.values() if t.enabled for g in t.gateways]


@dataclass(frozen=True, slots=True)
class Target:
    """One attempt of a call: a trunk's gateway. The engine tries targets in order and moves to
    the next on a 5xx or a timeout."""

    trunk: Trunk
    gateway: Gateway
    route_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class NumberRoute:
    """Where an incoming call to an assigned DID goes (hosted-pbx.txt MAC 9)."""

    e164: str
    tenant_id: uuid.UUID
    target_type: str  # store.models.enums.NumberTarget value: user, hunt_group, queue, trunk, …
    target_id: uuid.UUID | None
