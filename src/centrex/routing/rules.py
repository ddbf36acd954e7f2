"""What a trunk, its gateways and a route must be before they are stored (pure functions).

Each check returns the list of problems it found (empty when all is well), each naming the field
and the rule with its source, so the API can answer one 422 that lists every one of them. The
checks take the ``routing/model.py`` dataclasses: what is validated is exactly what the call engine
will later read.

Decisions the contracts leave open (docs/architecture.md, "Routes off the switch"):

- Every trunk has at least one primary gateway: a trunk without one cannot carry a call, and the
  §I.4 secondary pair is a *backup* ("in the event of an outage on the primary Company SBC HA
  Pair"), so secondaries alone are refused. Secondary gateways are optional; giving some is what
  makes a trunk use the alternate route, and then they must be other machines than the primary
  ones (a "secondary geographically-diverse" pair cannot be the primary pair again). A pair of two
  per role is usual but not required: some carriers publish one address per site.
- Outbound routes go to carrier and peer trunks only. A customer's PBX gets calls through its DIDs
  (MAC 9 routing to a pbx trunk), and 911 providers through emergency routes; emergency routes go to
  emergency trunks, or to a carrier trunk that carries 911.
- Agreed prefixes belong to peers only: on another kind of trunk they would restrict nothing, and an
  operator reading them would be misled.
- No trunk may accept calls from every address (a /0 network): inbound from carriers is accepted
  only from their addresses (issue #6 point 5), and a peer may not be a default route (below).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from centrex.numbers.classes import CallClass
from centrex.routing.model import EmergencyRoute, Gateway, GatewayRole, OutboundRoute, Trunk, TrunkKind

# peering-policy.txt, Routing Requirements.
PEERING_NO_DEFAULT = (
    'peering-policy.txt: "You may not direct a route of last resort (a default route) at OfficeTone, '
    'and OfficeTone likewise will not direct such a route at your network"'
)
PEERING_AGREED = (
    'peering-policy.txt: "The specific routes to be used between your network and the OfficeTone '
    'network will be agreed upon in advance of peering"'
)
ALTERNATE_ROUTE = "voip-service-guide.txt §I.4 (alternate route: primary and secondary SBC HA pairs)"
SOURCE_ADDRESS = "issue #6 point 5: inbound from carriers accepted only from their addresses"
E164_DIGITS = "E.164 digits without '+' (ITU-T E.164: at most 15 digits)"

TRANSPORTS = ("UDP", "TCP", "TLS")
NUMBER_FORMATS = ("e164", "national")
MAX_PSAP = 100
_DIGITS = re.compile(r"[0-9]*")


@dataclass(frozen=True, slots=True)
class RuleError:
    field: str
    rule: str
    message: str


def check_prefix(prefix: str, field: str = "prefix") -> list[RuleError]:
    """A route or agreed prefix: E.164 digits without the '+', so it is a plain string prefix of the
    destination ("1212", "44"); "" is every destination."""
    if not _DIGITS.fullmatch(prefix) or len(prefix) > 15:
        return [RuleError(field, E164_DIGITS, f"{prefix!r} is not up to 15 digits (E.164 without '+')")]
    return []


def parse_call_classes(
    values: Iterable[str], field: str = "call_classes"
) -> tuple[frozenset[CallClass], list[RuleError]]:
    """Call classes by their numbers/classes.py values; unknown ones are named."""
    known = {c.value: c for c in CallClass}
    out, errors = set(), []
    for i, v in enumerate(values):
        if v in known:
            out.add(known[v])
        else:
            errors.append(
                RuleError(
                    f"{field}.{i}",
                    "numbers/classes.py CallClass",
                    f"{v!r} is not a call class (one of {', '.join(sorted(known))})",
                )
            )
    return frozenset(out), errors


HOST_NAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def check_gateway(g: Gateway, field: str = "gateway") -> list[RuleError]:
    """A gateway is an IP literal or an RFC 1123 host name, and a port 1-65535. A name is found by
    RFC 3263 (NAPTR, SRV, A/AAAA: routing/resolved.py) and used as the addresses it names, so a
    request from the trunk is still recognised by its source address."""
    errors = []
    try:
        ipaddress.ip_address(g.host)
    except ValueError:
        if not HOST_NAME.match(g.host) or g.host.replace(".", "").isdigit():
            errors.append(
                RuleError(
                    f"{field}.host", SOURCE_ADDRESS, f"{g.host!r} is neither an IP address nor a host name"
                )
            )
    if not 1 <= g.port <= 65535:
        errors.append(RuleError(f"{field}.port", "port 1-65535", f"port {g.port} is not 1-65535"))
    if g.transport not in TRANSPORTS:
        errors.append(
            RuleError(f"{field}.transport", "UDP, TCP or TLS", f"{g.transport!r} is not UDP, TCP or TLS")
        )
    if g.position < 0:
        errors.append(RuleError(f"{field}.position", "position >= 0", "a position is 0 or more"))
    return errors


def check_gateways(gateways: Sequence[Gateway], field: str = "gateways") -> list[RuleError]:
    """Each gateway, then the pairs of §I.4: at least one primary; secondaries (the alternate
    route) on other addresses than the primaries; one gateway per role and position."""
    errors = [e for i, g in enumerate(gateways) for e in check_gateway(g, f"{field}.{i}")]
    primaries = [g for g in gateways if g.role is GatewayRole.PRIMARY]
    secondaries = [g for g in gateways if g.role is GatewayRole.SECONDARY]
    if not primaries:
        message = (
            "secondary gateways are a backup for the primary pair: give at least one primary"
            if secondaries
            else "a trunk needs at least one primary gateway"
        )
        errors.append(RuleError(field, ALTERNATE_ROUTE, message))
    primary_hosts = {(g.host, g.port) for g in primaries}
    seen: set[tuple[GatewayRole, int]] = set()
    for i, g in enumerate(gateways):
        if g.role is GatewayRole.SECONDARY and (g.host, g.port) in primary_hosts:
            errors.append(
                RuleError(
                    f"{field}.{i}.host",
                    ALTERNATE_ROUTE,
                    f"{g.host}:{g.port} is a primary gateway; the secondary pair must be other SBCs",
                )
            )
        if (g.role, g.position) in seen:
            errors.append(
                RuleError(
                    f"{field}.{i}.position",
                    "unique (role, position)",
                    f"two {g.role.value} gateways at position {g.position}",
                )
            )
        seen.add((g.role, g.position))
    return errors


def check_trunk(t: Trunk) -> list[RuleError]:
    errors = []
    if not t.name.strip():
        errors.append(RuleError("name", "required", "a trunk needs a name"))
    if t.kind is TrunkKind.PBX and t.tenant_id is None:
        errors.append(
            RuleError(
                "tenant_id", "a pbx trunk belongs to a tenant", "a pbx trunk (IP trunking) needs tenant_id"
            )
        )
    if t.kind is not TrunkKind.PBX and t.tenant_id is not None:
        errors.append(
            RuleError(
                "tenant_id",
                "only pbx trunks belong to a tenant",
                f"a {t.kind.value} trunk is the operator's: no tenant_id",
            )
        )
    for i, p in enumerate(t.agreed_prefixes):
        errors += check_prefix(p, f"agreed_prefixes.{i}")
        if p == "":
            errors.append(
                RuleError(f"agreed_prefixes.{i}", PEERING_NO_DEFAULT, "an empty prefix is a default route")
            )
    if t.kind is TrunkKind.PEER and not t.agreed_prefixes:
        errors.append(
            RuleError("agreed_prefixes", PEERING_AGREED, "a peer needs the prefixes agreed with it")
        )
    if t.kind is not TrunkKind.PEER and t.agreed_prefixes:
        errors.append(
            RuleError("agreed_prefixes", "agreed prefixes are for peers", f"a {t.kind.value} trunk has none")
        )
    for i, n in enumerate(t.inbound_networks):
        try:
            net = ipaddress.ip_network(n, strict=False)
        except ValueError:
            errors.append(
                RuleError(f"inbound_networks.{i}", "CIDR network", f"{n!r} is not a network (CIDR)")
            )
            continue
        if net.prefixlen == 0:
            errors.append(
                RuleError(f"inbound_networks.{i}", SOURCE_ADDRESS, f"{n} would accept calls from anywhere")
            )
    if t.number_format not in NUMBER_FORMATS:
        errors.append(
            RuleError("number_format", "e164 or national", f"{t.number_format!r} is not e164 or national")
        )
    if not _DIGITS.fullmatch(t.tech_prefix) or len(t.tech_prefix) > 16:
        errors.append(
            RuleError("tech_prefix", "up to 16 digits", f"{t.tech_prefix!r} is not up to 16 digits")
        )
    errors += check_gateways(t.gateways)
    errors += check_trunk_admission(t)
    return errors


def check_trunk_admission(t: Trunk) -> list[RuleError]:
    """Issue 15: the per-trunk limits are positive (None: no limit); the originating location
    (voip-service-guide.txt §V.9) is a site for a pbx trunk, an NPA-NXX and state for the others."""
    errors = []
    for name in ("max_calls", "max_cps"):
        value = getattr(t, name)
        if value is not None and (not isinstance(value, int) or value < 1 or value > 100_000):
            errors.append(RuleError(name, "1 to 100000, or null", f"{name} {value!r} is not 1 to 100000"))
    if t.site_id is not None and t.kind is not TrunkKind.PBX:
        errors.append(
            RuleError(
                "site_id", "a site only for pbx trunks", f"a {t.kind.value} trunk has an origin, not a site"
            )
        )
    if (t.origin_npa_nxx is None) != (t.origin_state is None):
        errors.append(
            RuleError("origin_npa_nxx", "both or neither", "origin_npa_nxx and origin_state go together")
        )
    if t.origin_npa_nxx is not None and not (
        len(t.origin_npa_nxx) == 6 and _DIGITS.fullmatch(t.origin_npa_nxx)
    ):
        errors.append(RuleError("origin_npa_nxx", "6 digits", f"{t.origin_npa_nxx!r} is not an NPA-NXX"))
    if t.origin_state is not None and not (len(t.origin_state) == 2 and t.origin_state.isalpha()):
        errors.append(RuleError("origin_state", "2 letters", f"{t.origin_state!r} is not a state"))
    return errors


def check_outbound_route(r: OutboundRoute, trunk: Trunk) -> list[RuleError]:
    """A route: digits, a weight > 0, to a carrier or a peer; toward a peer only inside what was
    agreed and never the default route (peering-policy.txt)."""
    errors = check_prefix(r.prefix)
    if r.weight <= 0:
        errors.append(RuleError("weight", "weight > 0", "the weight is a share of the calls: more than 0"))
    if r.priority < 0:
        errors.append(RuleError("priority", "priority >= 0", "the priority is 0 or more (lower first)"))
    if trunk.kind not in (TrunkKind.CARRIER, TrunkKind.PEER):
        errors.append(
            RuleError(
                "trunk_id",
                "outbound routes go to carrier or peer trunks",
                f"{trunk.name} is a {trunk.kind.value} trunk",
            )
        )
    if r.tenant_id is not None and trunk.tenant_id is not None and r.tenant_id != trunk.tenant_id:
        errors.append(
            RuleError("tenant_id", "same tenant", "the route and its trunk belong to other tenants")
        )
    if trunk.kind is TrunkKind.PEER:
        if r.prefix == "":
            errors.append(
                RuleError("prefix", PEERING_NO_DEFAULT, f"an empty prefix toward peer {trunk.name}")
            )
        elif not any(p and r.prefix.startswith(p) for p in trunk.agreed_prefixes):
            agreed = ", ".join(trunk.agreed_prefixes) or "none"
            errors.append(
                RuleError(
                    "prefix",
                    PEERING_AGREED,
                    f"{r.prefix} is not inside a prefix agreed with {trunk.name} ({agreed})",
                )
            )
    return errors


def check_emergency_route(r: EmergencyRoute, trunk: Trunk) -> list[RuleError]:
    errors = []
    if trunk.kind not in (TrunkKind.EMERGENCY, TrunkKind.CARRIER):
        errors.append(
            RuleError(
                "trunk_id",
                "emergency routes go to emergency or carrier trunks",
                f"{trunk.name} is a {trunk.kind.value} trunk",
            )
        )
    if r.psap is not None and not (0 < len(r.psap.strip()) <= MAX_PSAP):
        errors.append(
            RuleError("psap", f"1-{MAX_PSAP} characters or null", "name the PSAP, or null for the default")
        )
    if r.priority < 0:
        errors.append(RuleError("priority", "priority >= 0", "the priority is 0 or more (lower first)"))
    return errors


def trunk_keeps_its_routes(
    trunk: Trunk, routes: Iterable[OutboundRoute], emergency: Iterable[EmergencyRoute] = ()
) -> list[RuleError]:
    """A change to a trunk (its kind, its agreed prefixes) must leave the routes that use it valid:
    the error names the trunk's field that breaks them, and which route."""
    errors = []
    for r in routes:
        for e in check_outbound_route(r, trunk):
            if e.field in ("trunk_id", "prefix"):
                field = "kind" if e.field == "trunk_id" else "agreed_prefixes"
                errors.append(RuleError(field, e.rule, f"outbound route {r.id} ({r.prefix!r}): {e.message}"))
    for er in emergency:
        for e in check_emergency_route(er, trunk):
            if e.field == "trunk_id":
                errors.append(RuleError("kind", e.rule, f"emergency route {er.id}: {e.message}"))
    return errors
