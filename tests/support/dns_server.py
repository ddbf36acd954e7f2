"""A small authoritative DNS server on 127.0.0.1 for tests (dnspython builds the answers).

``zone`` maps (name, type) to (ttl, [rdata text]): ``("example.com", "NAPTR"): (300, ['10 50
"s" "SIP+D2U" "" _sip._udp.example.com.'])``. A name with no record of any type is NXDOMAIN; a
known name without the asked type is an empty NOERROR answer. ``asked`` counts the questions,
so tests can see the cache at work. It serves until ``close`` (the fixture stops it).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Zone = dict[tuple[str, str], tuple[int, list[str]]]


@dataclass
class DnsServer(asyncio.DatagramProtocol):
    zone: Zone
    asked: Counter[tuple[str, str]] = field(default_factory=Counter)
    transport: asyncio.DatagramTransport | None = None
    port: int = 0

    @classmethod
    async def start(cls, zone: Zone) -> DnsServer:
        server = cls({(n.lower().rstrip("."), t.upper()): v for (n, t), v in zone.items()})
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: server, local_addr=("127.0.0.1", 0))
        server.transport = transport
        server.port = transport.get_extra_info("sockname")[1]
        return server

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.asked[(name, rdtype)] += 1
        if not any(n == name for n, _ in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, rdtype) in self.zone:
            ttl, texts = self.zone[(name, rdtype)]
            response.answer.append(
                dns.rrset.from_text_list(question.name, ttl, dns.rdataclass.IN, rdtype, texts)
            )
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)
