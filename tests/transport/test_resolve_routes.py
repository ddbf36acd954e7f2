"""Trunk gateways named by host name become the IP gateways DNS gives (routing/resolved.py over
transport/resolve.py), against a real DNS server on 127.0.0.1; a call never waits on DNS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from centrex.routing.model import Gateway, GatewayRole, NumberRoute, RoutingTable, Trunk, TrunkKind
from centrex.routing.resolved import ResolvingRoutes, expand_gateway, query_of
from centrex.sip.locate import Hop, Query
from centrex.transport.resolve import Resolver
from tests.support.dns_server import DnsServer, Zone

ZONE: Zone = {
    ("_sip._udp.sbc.carrier.test", "SRV"): (
        300,
        ["10 100 5060 a.carrier.test.", "20 100 5062 b.carrier.test."],
    ),
    ("a.carrier.test", "A"): (300, ["192.0.2.21"]),
    ("b.carrier.test", "A"): (300, ["192.0.2.22"]),
    ("tcp.carrier.test", "A"): (300, ["192.0.2.23"]),
}
PRIMARY = Gateway(uuid.uuid4(), "sbc.carrier.test")
SECONDARY = Gateway(uuid.uuid4(), "198.51.100.9", role=GatewayRole.SECONDARY)
EXPLICIT = Gateway(uuid.uuid4(), "tcp.carrier.test", port=5070, transport="TCP", position=1)
TRUNK = Trunk(uuid.uuid4(), "carrier", TrunkKind.CARRIER, (PRIMARY, EXPLICIT, SECONDARY))


class FixedRoutes:
    def __init__(self) -> None:
        self.invalidated = 0

    def table(self, now: float) -> RoutingTable:
        return RoutingTable(trunks={TRUNK.id: TRUNK})

    def number(self, e164: str, now: float) -> NumberRoute | None:
        return None

    def invalidate(self) -> None:
        self.invalidated += 1


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer.start(ZONE)
    try:
        yield server
    finally:
        server.close()


def test_the_query_of_a_gateway() -> None:
    assert query_of(PRIMARY) == Query("sbc.carrier.test", None, "UDP")
    assert query_of(EXPLICIT) == Query("tcp.carrier.test", 5070, "TCP")


def test_expanded_gateways_keep_their_ids_across_reads() -> None:
    hops = [Hop("192.0.2.21", 5060, "UDP"), Hop("192.0.2.22", 5062, "UDP")]
    first, again = expand_gateway(PRIMARY, hops), expand_gateway(PRIMARY, hops)
    assert [g.id for g in first] == [g.id for g in again]
    assert len({g.id for g in first}) == 2 and all(g.id != PRIMARY.id for g in first)


async def test_named_gateways_resolve_in_the_background_then_route(dns_server: DnsServer) -> None:
    resolver = Resolver(["127.0.0.1"], port=dns_server.port, rand=lambda: 0.0)
    routes = ResolvingRoutes(FixedRoutes(), resolver.cached, resolver.prefetch)
    try:
        # First read: nothing resolved yet; only the IP gateway is there, lookups started.
        first = routes.table(0.0).trunks[TRUNK.id].gateways
        assert [g.host for g in first] == ["198.51.100.9"]
        async with asyncio.timeout(5):
            while resolver.cached(query_of(PRIMARY)) is None or resolver.cached(query_of(EXPLICIT)) is None:
                await asyncio.sleep(0.01)
        table = routes.table(1.0)
        gateways = table.trunks[TRUNK.id].gateways
        assert [(g.host, g.port, g.transport, g.role) for g in gateways] == [
            ("192.0.2.21", 5060, "UDP", GatewayRole.PRIMARY),
            ("192.0.2.22", 5062, "UDP", GatewayRole.PRIMARY),
            ("192.0.2.23", 5070, "TCP", GatewayRole.PRIMARY),
            ("198.51.100.9", 5060, "UDP", GatewayRole.SECONDARY),
        ]
        # A call from a resolved SBC is recognised as the carrier's.
        assert table.trunk_for_source("192.0.2.22", 5062) is not None
        assert table.trunk_for_source("192.0.2.99", 5060) is None
        asked = sum(dns_server.asked.values())
        routes.table(2.0)
        assert sum(dns_server.asked.values()) == asked  # fresh answers: no new question
        routes.invalidate()
        assert routes.number("+12125550100", 0.0) is None
    finally:
        await resolver.close()
