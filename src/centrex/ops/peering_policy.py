"""The rules of settlement-free peering (peering-policy.txt), as pure functions: no store, no I/O.

What the policy makes checkable, and where each rule is enforced:

- "you must meet us at one of our Points of Presence (POPs)" (Peering with OfficeTone): a peer's
  sessions reference one of our POP rows (a foreign key), and ``check_connection`` refuses a
  meet-me-room connection at a POP without one ("If the facility has a 'meet me' room, you may be
  able to connect to us there. Otherwise, you'll need to arrange with us for you to run a
  cross-connect into our space").
- "you will provide us with a list of your organization's emergency contacts" (Operational
  Requirements and Procedures): ``check_contacts`` wants at least one emergency contact, each with
  an E.164 telephone number and an e-mail address, before the peer is added.
- "You may not direct a route of last resort (a default route) at OfficeTone, and OfficeTone
  likewise will not direct such a route at your network" (Routing Requirements): ``parse_prefix``
  refuses 0.0.0.0/0 and ::/0, and anything shorter than MIN_LENGTH (a /1 pair or a /4 set covers
  the whole space as surely as a default does); the generated filters also reject a default
  route explicitly before anything else (ops/peering_bird.py).
- "In no case will you send traffic over the interconnection that you would not have otherwise
  transmitted over the public internet" (Routing Requirements): a prefix must be globally routable
  (not RFC 1918, CGN, loopback, link-local, documentation or other special-purpose space; Python's
  ``ipaddress`` ``is_global`` from the IANA special-purpose registries) and a peer's ASN must be a
  public one (not private-use, documentation or reserved: RFC 6996, RFC 5398, RFC 7607, RFC 6793).
- "The specific routes to be used between your network and the OfficeTone network will be agreed
  upon in advance of peering" (Routing Requirements): a peer is added with its agreed prefixes
  (``AgreedPrefix``: ``import`` = theirs, which we accept; ``export`` = ours, which we announce);
  the router accepts and announces exactly those and nothing else.
- De-peering: "The peering arrangement is completely 'at will.' Either you or OfficeTone may elect
  to discontinue the peering relationship at any time" (General Terms): there is no notice period
  to enforce; a de-peering takes effect at once and is recorded with its time and reason.

The policy states no traffic volume, port speed or prefix count: "a substantial number of OfficeTone
voice customers" is a business judgement, recorded as the peer's notes, not checked here.

Prefix lengths the policy leaves open are the common filtering practice of the Internet's routing
table (MANRS, RIPE-399 style filters): IPv4 /8 to /24, IPv6 /16 to /48. Longer prefixes are dropped
by most networks, so agreeing on them would promise routes nobody carries.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from centrex.numbers.e164 import to_e164

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Shortest and longest prefix we agree on, per address family (module docstring).
MIN_LENGTH = {4: 8, 6: 16}
MAX_LENGTH = {4: 24, 6: 48}

# ASNs that are never a public network's (IANA "Special-Purpose AS Numbers" registry).
RESERVED_ASNS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "AS0 is reserved (RFC 7607)"),
    (23456, 23456, "AS23456 is AS_TRANS (RFC 6793)"),
    (64496, 64511, "documentation ASN (RFC 5398)"),
    (64512, 65534, "private-use ASN (RFC 6996)"),
    (65535, 65535, "reserved ASN (RFC 7300)"),
    (65536, 65551, "documentation ASN (RFC 5398)"),
    (65552, 131071, "reserved ASN (IANA)"),
    (4200000000, 4294967294, "private-use ASN (RFC 6996)"),
    (4294967295, 4294967295, "reserved ASN (RFC 7300)"),
)
MAX_ASN = 4294967295


class PolicyError(ValueError):
    """A rule of the peering policy broken: ``field`` and ``rule`` name it for the API and CLI."""

    def __init__(self, message: str, field: str, rule: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


class Direction(StrEnum):
    IMPORT = "import"  # the peer's prefix: we accept it from them
    EXPORT = "export"  # our prefix: we announce it to them


class Connection(StrEnum):
    MEET_ME_ROOM = "meet_me_room"
    CROSS_CONNECT = "cross_connect"


@dataclass(frozen=True, slots=True)
class AgreedPrefix:
    network: Network
    direction: Direction

    @property
    def family(self) -> int:
        return self.network.version


def parse_asn(value: int | str, field: str = "asn") -> int:
    """A public 32-bit AS number ("AS13335" or 13335)."""
    text = str(value).strip().upper().removeprefix("AS")
    if not text.isdigit() or not 1 <= int(text) <= MAX_ASN:
        raise PolicyError(f"{field} must be an AS number 1-{MAX_ASN}, got {value!r}", field, "asn")
    asn = int(text)
    for low, high, why in RESERVED_ASNS:
        if low <= asn <= high:
            # peering-policy.txt, Routing Requirements: only what would cross the public internet.
            raise PolicyError(f"{field} {asn}: {why}, not a public network's", field, "public_asn")
    return asn


def parse_prefix(text: str, field: str = "prefix") -> Network:
    """An agreed prefix: never a default route, not over-broad or too specific, globally routable."""
    try:
        network = ipaddress.ip_network(str(text).strip(), strict=True)
    except ValueError as exc:
        raise PolicyError(f"{field} {text!r} is not an IP prefix: {exc}", field, "ip_prefix") from None
    if network.prefixlen == 0:
        # peering-policy.txt, Routing Requirements: "You may not direct a route of last resort (a
        # default route) at OfficeTone, and OfficeTone likewise will not direct such a route".
        raise PolicyError(
            f"{field} {network} is a default route, which the peering policy forbids both ways",
            field,
            "no_default_route",
        )
    v = network.version
    if network.prefixlen < MIN_LENGTH[v]:
        raise PolicyError(
            f"{field} {network} is over-broad: IPv{v} prefixes must be /{MIN_LENGTH[v]} or longer "
            "(a handful of such prefixes is a default route by another name)",
            field,
            "prefix_too_broad",
        )
    if network.prefixlen > MAX_LENGTH[v]:
        raise PolicyError(
            f"{field} {network} is too specific: IPv{v} prefixes longer than /{MAX_LENGTH[v]} are "
            "not carried on the Internet",
            field,
            "prefix_too_specific",
        )
    if not network.is_global:
        # peering-policy.txt, Routing Requirements: no traffic "that you would not have otherwise
        # transmitted over the public internet".
        raise PolicyError(
            f"{field} {network} is special-purpose address space, not routed on the public internet",
            field,
            "prefix_not_global",
        )
    return network


def parse_prefixes(items: list[tuple[str, str]], field: str = "prefixes") -> list[AgreedPrefix]:
    """(prefix, direction) pairs to AgreedPrefix, each checked, without duplicates."""
    out: list[AgreedPrefix] = []
    seen: set[tuple[str, str]] = set()
    for i, (text, direction) in enumerate(items):
        where = f"{field}[{i}]"
        network = parse_prefix(text, where + ".prefix")
        try:
            way = Direction(str(direction))
        except ValueError:
            raise PolicyError(
                f"{where}.direction must be import or export, got {direction!r}", where + ".direction", "enum"
            ) from None
        key = (str(network), way.value)
        if key in seen:
            raise PolicyError(f"{where}: {network} ({way}) is listed twice", where, "unique")
        seen.add(key)
        out.append(AgreedPrefix(network, way))
    if not any(p.direction is Direction.IMPORT for p in out) and not any(
        p.direction is Direction.EXPORT for p in out
    ):
        # peering-policy.txt, Routing Requirements: the routes are "agreed upon in advance of peering".
        raise PolicyError(
            f"{field}: the routes must be agreed in advance of peering; none were given", field, "required"
        )
    return out


def parse_neighbor(text: str, field: str = "neighbor") -> Address:
    """A BGP neighbour or local session address: a unicast host address."""
    try:
        address = ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise PolicyError(f"{field} {text!r} is not an IP address", field, "ip_address") from None
    if address.is_unspecified or address.is_multicast or address.is_loopback:
        raise PolicyError(f"{field} {address} cannot be a BGP session address", field, "unicast")
    return address


def parse_router_id(text: str, field: str = "router_id") -> ipaddress.IPv4Address:
    try:
        rid = ipaddress.IPv4Address(str(text).strip())
    except ValueError:
        raise PolicyError(f"{field} must be an IPv4 address, got {text!r}", field, "ipv4_address") from None
    if rid.is_unspecified:
        raise PolicyError(f"{field} cannot be 0.0.0.0", field, "ipv4_address")
    return rid


def check_contact(name: str, phone: str, email: str, field: str) -> tuple[str, str, str]:
    """One emergency contact: a name, an E.164 number and a deliverable-looking e-mail address."""
    if not name.strip():
        raise PolicyError(f"{field}.name is required", f"{field}.name", "required")
    try:
        e164 = to_e164(phone)
    except ValueError as exc:
        raise PolicyError(f"{field}.phone: {exc}", f"{field}.phone", "e164") from None
    try:
        normalized = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PolicyError(f"{field}.email: {exc}", f"{field}.email", "email") from None
    return name.strip(), e164, normalized


def check_contacts(
    contacts: list[tuple[str, str, str]], field: str = "contacts"
) -> list[tuple[str, str, str]]:
    """peering-policy.txt, Operational Requirements and Procedures: "you will provide us with a
    list of your organization's emergency contacts" -- at least one, each reachable by phone and
    e-mail."""
    if not contacts:
        raise PolicyError(
            f"{field}: at least one emergency contact is required (peering-policy.txt, Operational "
            "Requirements and Procedures)",
            field,
            "required",
        )
    return [check_contact(n, p, e, f"{field}[{i}]") for i, (n, p, e) in enumerate(contacts)]


def check_connection(connection: str, pop_has_meet_me_room: bool, pop_name: str, field: str) -> Connection:
    """peering-policy.txt, Peering with OfficeTone: a meet-me-room connection only where the POP's
    facility has one; otherwise a cross-connect into our space."""
    try:
        kind = Connection(str(connection))
    except ValueError:
        raise PolicyError(
            f"{field} must be meet_me_room or cross_connect, got {connection!r}", field, "enum"
        ) from None
    if kind is Connection.MEET_ME_ROOM and not pop_has_meet_me_room:
        raise PolicyError(
            f"{field}: POP {pop_name} has no meet-me room; arrange a cross-connect into our space",
            field,
            "meet_me_room",
        )
    return kind
