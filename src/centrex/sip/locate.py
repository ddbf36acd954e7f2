"""RFC 3263 §4 server location as pure selection: which DNS names to ask, and in which order to
try what they answer. The records come in as data; transport/resolve.py does the asking.

The steps, for a SIP or SIPS URI naming a host:

1. an IP address, or an explicit port: no NAPTR/SRV; the transport is the URI's ``transport``
   parameter, else UDP (TLS for sips), and the port the URI's or the default (§4.1, §4.2);
2. a ``transport`` parameter but no port: SRV of that transport (§4.2), else A/AAAA;
3. neither: NAPTR of the host, kept to the services we speak (SIP+D2U, SIP+D2T, SIPS+D2T), in
   order then preference, each naming an SRV (§4.1); no NAPTR: SRV of each transport we speak
   (_sips._tcp for sips); no SRV: A/AAAA on UDP (TLS for sips) with the default port;
4. SRV records in priority order, weighted random within a priority (RFC 2782), each target's
   addresses in turn.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

SUPPORTED = ("UDP", "TCP", "TLS")
# NAPTR service field -> transport (RFC 3263 §4.1; SCTP ones are not spoken here).
NAPTR_SERVICES = {"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS"}
SRV_PREFIX = {"UDP": "_sip._udp.", "TCP": "_sip._tcp.", "TLS": "_sips._tcp."}


def default_port(transport: str) -> int:
    return 5061 if transport.upper() == "TLS" else 5060


@dataclass(frozen=True, slots=True)
class Naptr:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


@dataclass(frozen=True, slots=True)
class Srv:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class Hop:
    """One place to send a request: an IP address, port and transport."""

    address: str
    port: int
    transport: str


@dataclass(frozen=True, slots=True)
class Query:
    """What to look up for a target: the host, and what the URI already fixed."""

    host: str
    port: int | None = None
    transport: str | None = None  # the URI's transport parameter, upper-case
    secure: bool = False  # sips: only TLS

    @property
    def numeric(self) -> bool:
        try:
            ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return False
        return True

    @property
    def needs_naptr(self) -> bool:
        return not self.numeric and self.port is None and self.transport is None

    @property
    def fallback_transport(self) -> str:
        """The transport when DNS names none (§4.1: UDP, or TLS for sips)."""
        if self.transport:
            return self.transport
        return "TLS" if self.secure else "UDP"


def allowed_transports(query: Query, supported: Sequence[str] = SUPPORTED) -> list[str]:
    if query.secure:
        return [t for t in supported if t == "TLS"]
    return list(supported)


def naptr_services(
    records: Iterable[Naptr], query: Query, supported: Sequence[str] = SUPPORTED
) -> list[tuple[str, str]]:
    """(transport, SRV name) from the NAPTR answer, best first (§4.1: lowest order, then lowest
    preference; only "s"-flagged records for services we speak)."""
    allowed = set(allowed_transports(query, supported))
    out: list[tuple[str, str]] = []
    for r in sorted(records, key=lambda r: (r.order, r.preference)):
        transport = NAPTR_SERVICES.get(r.service.upper())
        if transport is None or transport not in allowed or r.flags.lower() != "s":
            continue
        name = r.replacement.rstrip(".")
        if name and (transport, name) not in out:
            out.append((transport, name))
    return out


def srv_names(query: Query, supported: Sequence[str] = SUPPORTED) -> list[tuple[str, str]]:
    """(transport, SRV name) to try without NAPTR (§4.1), or for a fixed transport (§4.2)."""
    host = query.host.rstrip(".")
    transports = [query.transport] if query.transport else allowed_transports(query, supported)
    return [(t, SRV_PREFIX[t] + host) for t in transports if t in SRV_PREFIX]


def order_srv(records: Iterable[Srv], rand: Callable[[], float]) -> list[Srv]:
    """RFC 2782 ordering: by priority; within one, weighted random (weight 0 still gets a turn,
    first among the zero weights being least likely). A lone "." target means "not here"."""
    usable = [r for r in records if r.target.rstrip(".")]
    out: list[Srv] = []
    for priority in sorted({r.priority for r in usable}):
        group = sorted((r for r in usable if r.priority == priority), key=lambda r: r.weight)
        while group:
            total = sum(r.weight for r in group)
            pick = group[0]
            if total > 0:
                point = rand() * total
                running = 0
                for r in group:
                    running += r.weight
                    if running > point:
                        pick = r
                        break
            out.append(pick)
            group.remove(pick)
    return out


def hops(targets: Iterable[tuple[str, int, str]], addresses: Callable[[str], Sequence[str]]) -> list[Hop]:
    """Expand (host, port, transport) targets into hops, each host's addresses in turn, with
    duplicates dropped (two SRV records may name one server)."""
    out: list[Hop] = []
    for host, port, transport in targets:
        for address in addresses(host):
            hop = Hop(address, port, transport)
            if hop not in out:
                out.append(hop)
    return out
