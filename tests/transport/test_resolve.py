"""RFC 3263 resolution with dnspython against a real DNS server on 127.0.0.1 (tests/support)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from centrex.sip.locate import Hop, Query
from centrex.sip.uri import SipUri, parse_uri
from centrex.transport.resolve import NEGATIVE_TTL_S, Resolver
from tests.support.dns_server import DnsServer, Zone

ZONE: Zone = {
    # A carrier with NAPTR -> SRV -> A: TCP preferred over UDP, two servers by priority.
    ("carrier.test", "NAPTR"): (
        300,
        [
            '10 50 "s" "SIP+D2T" "" _sip._tcp.carrier.test.',
            '10 90 "s" "SIP+D2U" "" _sip._udp.carrier.test.',
        ],
    ),
    ("_sip._tcp.carrier.test", "SRV"): (
        300,
        ["10 100 5070 sbc1.carrier.test.", "20 100 5070 sbc2.carrier.test."],
    ),
    ("_sip._udp.carrier.test", "SRV"): (300, ["10 100 5060 sbc1.carrier.test."]),
    ("sbc1.carrier.test", "A"): (60, ["192.0.2.11"]),
    ("sbc2.carrier.test", "A"): (60, ["192.0.2.12"]),
    ("sbc2.carrier.test", "AAAA"): (60, ["2001:db8::12"]),
    # SRV only (no NAPTR): UDP.
    ("srvonly.test", "A"): (60, ["192.0.2.30"]),
    ("_sip._udp.srvonly.test", "SRV"): (120, ["0 0 5090 srvonly.test."]),
    # Plain A record: default port and UDP.
    ("plain.test", "A"): (5, ["192.0.2.40"]),
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer.start(ZONE)
    try:
        yield server
    finally:
        server.close()


def resolver(server: DnsServer, clock: Clock | None = None) -> Resolver:
    return Resolver(["127.0.0.1"], port=server.port, timeout_s=2.0, clock=clock or Clock(), rand=lambda: 0.0)


async def test_naptr_then_srv_then_addresses(dns_server: DnsServer) -> None:
    hops = await resolver(dns_server).locate(Query("carrier.test"))
    assert hops == [
        Hop("192.0.2.11", 5070, "TCP"),
        Hop("192.0.2.12", 5070, "TCP"),
        Hop("2001:db8::12", 5070, "TCP"),
    ]


async def test_srv_without_naptr_and_plain_a(dns_server: DnsServer) -> None:
    r = resolver(dns_server)
    assert await r.locate(Query("srvonly.test")) == [Hop("192.0.2.30", 5090, "UDP")]
    assert await r.locate(Query("plain.test")) == [Hop("192.0.2.40", 5060, "UDP")]
    # An explicit port skips NAPTR and SRV (§4.2).
    assert await r.locate(Query("carrier.test", port=5099)) == []  # carrier.test has no A record
    assert await r.locate(Query("sbc1.carrier.test", port=5099)) == [Hop("192.0.2.11", 5099, "UDP")]
    # A transport parameter goes straight to that SRV.
    assert await r.locate(Query("carrier.test", transport="UDP")) == [Hop("192.0.2.11", 5060, "UDP")]


async def test_uris_and_ip_literals(dns_server: DnsServer) -> None:
    r = resolver(dns_server)
    uri = parse_uri("sip:+12125550100@carrier.test;user=phone")
    assert isinstance(uri, SipUri)
    assert (await r.locate_uri(uri))[0] == Hop("192.0.2.11", 5070, "TCP")
    literal = parse_uri("sip:198.51.100.5:5080;transport=tcp")
    assert isinstance(literal, SipUri)
    before = sum(dns_server.asked.values())
    assert await r.locate_uri(literal) == [Hop("198.51.100.5", 5080, "TCP")]
    assert sum(dns_server.asked.values()) == before  # no DNS for an address


async def test_unknown_names_give_nothing_and_are_not_asked_again_at_once(dns_server: DnsServer) -> None:
    clock = Clock()
    r = resolver(dns_server, clock)
    assert await r.locate(Query("nowhere.test")) == []
    asked = sum(dns_server.asked.values())
    assert await r.locate(Query("nowhere.test")) == []
    assert sum(dns_server.asked.values()) == asked
    clock.now += NEGATIVE_TTL_S + 1
    await r.locate(Query("nowhere.test"))
    assert sum(dns_server.asked.values()) > asked


async def test_the_cache_lasts_as_long_as_the_shortest_ttl(dns_server: DnsServer) -> None:
    clock = Clock()
    r = resolver(dns_server, clock)
    first = await r.locate(Query("plain.test"))
    assert r.cached(Query("plain.test")) == first
    assert dns_server.asked[("plain.test", "A")] == 1
    clock.now += 4  # the A record lives 5 s
    assert await r.locate(Query("plain.test")) == first
    assert dns_server.asked[("plain.test", "A")] == 1
    clock.now += 2
    assert r.cached(Query("plain.test")) is None
    assert await r.locate(Query("plain.test")) == first
    assert dns_server.asked[("plain.test", "A")] == 2


async def test_a_dead_name_server_is_an_empty_answer_not_an_error() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        silent = s.getsockname()[1]  # bound, never answers
        r = Resolver(["127.0.0.1"], port=silent, timeout_s=0.3, clock=Clock())
        assert await r.locate(Query("plain.test")) == []
