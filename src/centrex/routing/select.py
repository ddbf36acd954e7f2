"""Choosing where a call leaves the switch, and in which order to try (pure; clock injected).

- Outbound (issue #6 point 5): every route whose prefix starts the destination and whose classes
  include the call's; the longest prefix first, then the lowest priority, and among equals an
  order drawn by weight. Each route gives its trunk's gateways, healthy ones first.
- Peers (peering-policy.txt "You may not direct a route of last resort (a default route) at
  OfficeTone, and OfficeTone likewise will not direct such a route at your network"; "The specific
  routes … will be agreed upon in advance"): a peer is used only for a destination inside its
  agreed prefixes, never through an empty (default) prefix.
- Alternate route (voip-service-guide.txt §I.4): a trunk's primary SBC pair is used while it is up;
  when it fails the traffic moves to the secondary pair, and back when the primary answers again.
- 911 (voip-service-guide.txt §V.14): the emergency routes of the caller's PSAP, then the default
  emergency routes, then any outbound route that carries the emergency class.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from centrex.numbers.classes import CallClass
from centrex.routing.model import (
    Gateway,
    GatewayRole,
    OutboundRoute,
    RoutingTable,
    Target,
    Trunk,
    TrunkKind,
)

# A gateway that failed is skipped for this long unless a probe finds it up sooner.
DOWN_FOR_S = 60.0
PROBE_EVERY_S = 5.0


@dataclass
class GatewayState:
    down_since: float | None = None
    next_probe: float = 0.0
    failures: int = 0


@dataclass
class GatewayHealth:
    """Which gateways are up. A 5xx or a timeout marks a gateway down; any answer to an OPTIONS
    probe (or to a call) marks it up again — that is the fail-back."""

    down_for_s: float = DOWN_FOR_S
    probe_every_s: float = PROBE_EVERY_S
    states: dict[uuid.UUID, GatewayState] = field(default_factory=dict)

    def is_up(self, gateway: Gateway, now: float) -> bool:
        st = self.states.get(gateway.id)
        return st is None or st.down_since is None or now - st.down_since >= self.down_for_s

    def view(self, gateway_id: uuid.UUID, now: float) -> tuple[bool, int]:
        """(up, failures since it last answered) for the API, by the gateway's stored id."""
        st = self.states.get(gateway_id)  # one dict read: safe from the API's threads
        if st is None:
            return True, 0
        return st.down_since is None or now - st.down_since >= self.down_for_s, st.failures

    def failed(self, gateway: Gateway, now: float) -> None:
        st = self.states.setdefault(gateway.id, GatewayState())
        st.failures += 1
        if st.down_since is None or now - st.down_since >= self.down_for_s:
            st.down_since = now
        st.next_probe = now + self.probe_every_s

    def answered(self, gateway: Gateway) -> bool:
        """Returns True when this brought a down gateway back."""
        st = self.states.pop(gateway.id, None)
        return st is not None and st.down_since is not None

    def due_probes(self, gateways: Iterable[Gateway], now: float) -> list[Gateway]:
        due = []
        for g in gateways:
            st = self.states.get(g.id)
            if st is not None and st.down_since is not None and st.next_probe <= now:
                st.next_probe = now + self.probe_every_s
                due.append(g)
        return due

    def next_probe_at(self) -> float | None:
        times = [s.next_probe for s in self.states.values() if s.down_since is not None]
        return min(times) if times else None


def gateway_order(trunk: Trunk, health: GatewayHealth, now: float) -> list[Gateway]:
    """Primary pair before secondary (§I.4), gateways that are up before those that are down; a
    trunk whose gateways are all down is still tried (a stale mark must not drop a call)."""
    gws = sorted(trunk.gateways, key=lambda g: (g.role is not GatewayRole.PRIMARY, g.position))
    up = [g for g in gws if health.is_up(g, now)]
    return up + [g for g in gws if g not in up]


def _weighted_order(routes: list[OutboundRoute], rand: Callable[[], float]) -> list[OutboundRoute]:
    rest, out = list(routes), []
    while rest:
        total = sum(max(1, r.weight) for r in rest)
        x, acc = rand() * total, 0.0
        for i, r in enumerate(rest):
            acc += max(1, r.weight)
            if x < acc:
                out.append(rest.pop(i))
                break
        else:
            out.append(rest.pop())
    return out


def peer_allows(trunk: Trunk, route_prefix: str, digits: str) -> bool:
    """peering-policy.txt: only agreed routes, no default route."""
    if trunk.kind is not TrunkKind.PEER:
        return True
    if not route_prefix:
        return False
    return any(digits.startswith(p) for p in trunk.agreed_prefixes if p)


def matching_routes(
    table: RoutingTable, tenant_id: uuid.UUID | None, destination: str, call_class: CallClass
) -> list[OutboundRoute]:
    digits = destination.lstrip("+")
    found = []
    for r in table.routes:
        trunk = table.trunks.get(r.trunk_id)
        if trunk is None or not trunk.enabled or trunk.kind in (TrunkKind.PBX, TrunkKind.EMERGENCY):
            continue
        if r.tenant_id is not None and r.tenant_id != tenant_id:
            continue
        if not digits.startswith(r.prefix) or (r.call_classes and call_class not in r.call_classes):
            continue
        if not peer_allows(trunk, r.prefix, digits):
            continue
        found.append(r)
    return found


def _expand(
    table: RoutingTable,
    routes: Iterable[tuple[uuid.UUID, uuid.UUID | None]],
    health: GatewayHealth,
    now: float,
) -> list[Target]:
    out: list[Target] = []
    seen: set[uuid.UUID] = set()
    for trunk_id, route_id in routes:
        trunk = table.trunks[trunk_id]
        for g in gateway_order(trunk, health, now):
            if g.id not in seen:
                seen.add(g.id)
                out.append(Target(trunk, g, route_id))
    return out


def outbound_targets(
    table: RoutingTable,
    tenant_id: uuid.UUID | None,
    destination: str,
    call_class: CallClass,
    health: GatewayHealth,
    now: float,
    rand: Callable[[], float],
) -> list[Target]:
    """The failover list for a call to ``destination`` (E.164)."""
    routes = matching_routes(table, tenant_id, destination, call_class)
    groups: dict[tuple[int, int], list[OutboundRoute]] = {}
    for r in routes:
        groups.setdefault((-len(r.prefix), r.priority), []).append(r)
    ordered: list[OutboundRoute] = []
    for key in sorted(groups):
        ordered.extend(_weighted_order(groups[key], rand))
    return _expand(table, ((r.trunk_id, r.id) for r in ordered), health, now)


def emergency_targets(
    table: RoutingTable,
    tenant_id: uuid.UUID | None,
    psap: str | None,
    health: GatewayHealth,
    now: float,
    rand: Callable[[], float],
) -> list[Target]:
    def usable(trunk_id: uuid.UUID) -> bool:
        t = table.trunks.get(trunk_id)
        return t is not None and t.enabled

    own = sorted(
        (r for r in table.emergency if psap and r.psap == psap and usable(r.trunk_id)),
        key=lambda r: r.priority,
    )
    default = sorted(
        (r for r in table.emergency if r.psap is None and usable(r.trunk_id)), key=lambda r: r.priority
    )
    chosen = [(r.trunk_id, r.id) for r in own + default]
    targets = _expand(table, chosen, health, now)
    # Last resort: a carrier route that carries 911 (never leave a 911 call without a try).
    for t in outbound_targets(table, tenant_id, "911", CallClass.EMERGENCY, health, now, rand):
        if all(t.gateway.id != x.gateway.id for x in targets):
            targets.append(t)
    return targets


def pbx_targets(trunk: Trunk, health: GatewayHealth, now: float) -> list[Target]:
    """A call to a tenant's own IP-PBX: its primary SBC pair, then the secondary (§I.4)."""
    return [Target(trunk, g) for g in gateway_order(trunk, health, now)]


def request_number(trunk: Trunk, e164: str) -> str:
    """How the number is written toward this trunk."""
    digits = e164.lstrip("+")
    if trunk.number_format == "national" and digits.startswith("1") and len(digits) == 11:
        number = digits[1:]
    elif trunk.number_format == "national" or not e164.startswith("+"):
        number = digits
    else:
        number = "+" + digits
    return trunk.tech_prefix + number
