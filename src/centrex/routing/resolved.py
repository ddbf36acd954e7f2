"""Trunk gateways named by host name, as the IP gateways RFC 3263 finds for them.

The call engine reads the routing table synchronously and sends to IP addresses; DNS is
asynchronous. ``ResolvingRoutes`` sits between them: each time the table is read, a gateway
whose host is a name becomes one gateway per hop of its last lookup (same trunk, role and
order; NAPTR/SRV order within it), and a name with no fresh answer is asked for (``wanted``)
and left out until the answer is in, so a call never waits on DNS. Inbound calls keep being
recognised by source address: the expanded gateways are IP literals.

The lookup and the asking are the I/O shell's (transport/resolve.py ``Resolver.cached`` and
``Resolver.prefetch``); this module does no I/O.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from centrex.routing.model import Gateway, NumberRoute, RoutingTable, Trunk
from centrex.sip.locate import Hop, Query, default_port


def is_named(gateway: Gateway) -> bool:
    try:
        ipaddress.ip_address(gateway.host.strip("[]"))
    except ValueError:
        return True
    return False


def query_of(gateway: Gateway) -> Query:
    """A named gateway's lookup: its transport is fixed (SRV of that transport, §4.2), and a
    port other than the transport's default is explicit (A/AAAA only)."""
    transport = gateway.transport.upper()
    port = None if gateway.port == default_port(transport) else gateway.port
    return Query(gateway.host, port, transport)


def expand_gateway(gateway: Gateway, hops: list[Hop]) -> list[Gateway]:
    """One IP gateway per hop. Ids are derived from the named gateway and the hop, so that the
    health of an address (down after a 5xx, probed with OPTIONS) survives re-reading the table."""
    return [
        replace(
            gateway,
            id=uuid.uuid5(gateway.id, f"{hop.address}:{hop.port}/{hop.transport}"),
            host=hop.address,
            port=hop.port,
            transport=hop.transport,
            position=gateway.position * 100 + i,
        )
        for i, hop in enumerate(hops)
    ]


def expand_table(
    table: RoutingTable,
    lookup: Callable[[Query], list[Hop] | None],
    wanted: Callable[[Query], None],
) -> RoutingTable:
    """``table`` with every named gateway replaced by its hops (left out while unresolved)."""
    if not any(is_named(g) for t in table.trunks.values() for g in t.gateways):
        return table
    trunks: dict[uuid.UUID, Trunk] = {}
    for trunk_id, trunk in table.trunks.items():
        gateways: list[Gateway] = []
        for g in trunk.gateways:
            if not is_named(g):
                gateways.append(g)
                continue
            query = query_of(g)
            hops = lookup(query)
            if hops is None:
                wanted(query)
                continue
            gateways.extend(expand_gateway(g, hops))
        trunks[trunk_id] = replace(trunk, gateways=tuple(gateways))
    return replace(table, trunks=trunks)


class StoreRoutesLike(Protocol):
    """What ResolvingRoutes needs of the routes it wraps."""

    def table(self, now: float) -> RoutingTable: ...

    def number(self, e164: str, now: float) -> NumberRoute | None: ...

    def invalidate(self) -> None: ...


class ResolvingRoutes:
    """The engine's ``routes`` port over another one (routing/storage.py ``StoreRoutes``)."""

    def __init__(
        self,
        routes: StoreRoutesLike,
        lookup: Callable[[Query], list[Hop] | None],
        wanted: Callable[[Query], None],
    ) -> None:
        self.routes = routes
        self.lookup = lookup
        self.wanted = wanted

    def table(self, now: float) -> RoutingTable:
        return expand_table(self.routes.table(now), self.lookup, self.wanted)

    def number(self, e164: str, now: float) -> NumberRoute | None:
        return self.routes.number(e164, now)

    def invalidate(self) -> None:
        self.routes.invalidate()
