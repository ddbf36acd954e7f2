"""Paging and intercom with real SIPp phones over 127.0.0.1 (issue 17 §3, "a page reaches three
phones whose INVITEs carry the auto-answer headers and that hear the pager's audio").

Three SIPp desk phones (tests/interop/scenarios/uas_page.xml) fail their call unless the INVITE
carries ``Call-Info: <sip:…>;answer-after=0``, ``Alert-Info: …info=alert-autoanswer`` and a one-way
offer; each answers with a UDP socket of this test as its audio address (SIPp cannot record RTP).
The pager, a SIPp caller, plays SIPp's G.711 A-law recording for 2 s and hangs up; every socket
must have received that audio from the relay, packet for packet the same, and every phone the BYE.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.media import RelayAnchor
from centrex.e911.notifier import EmergencyNotifier
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtp import parse_rtp
from centrex.pbx.paging import Paging
from centrex.pbx.paging_store import StorePaging
from centrex.server import attach_switch_services
from centrex.store.db import transaction
from centrex.store.models.paging import PagingGroup, PagingGroupMember

from .conftest import SCENARIOS, Server, free_udp_port
from .test_interop_pbx import users

pytestmark = pytest.mark.interop

PCMA = 8
PCAP = Path("/usr/share/sip-tester/g711a.pcap")


class Ear(asyncio.DatagramProtocol):
    """A desk phone's RTP port: every packet it receives."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)


def phone_scenario(tmp_path: Path, ear_port: int, one_way: bool = True) -> str:
    text = (SCENARIOS / "uas_page.xml").read_text().replace("EAR_PORT", str(ear_port))
    if not one_way:  # intercom: two-way, the one-way check left out
        text = text.replace(
            '      <ereg regexp="a=sendonly" search_in="msg" check_it="true" assign_to="oneway"/>\n', ""
        )
        text = text.replace("a=recvonly", "a=sendrecv").replace("ci,ai,oneway", "ci,ai")
    path = tmp_path / f"phone_{ear_port}.xml"
    path.write_text(text)
    return str(path)


async def ears(n: int) -> tuple[list[asyncio.DatagramTransport], list[Ear]]:
    loop = asyncio.get_running_loop()
    transports, found = [], []
    for _ in range(n):
        t, ear = await loop.create_datagram_endpoint(Ear, local_addr=("127.0.0.1", 0))
        transports.append(t)
        found.append(ear)
    return transports, found


def with_relay(server: Server) -> None:
    server.service.engine.media = RelayAnchor(
        RelayManager(PortAllocator(42000, 42999), bind_host="127.0.0.1")
    )
    # The store ports wired as `centrex serve` wires them: the paging groups among them.
    attach_switch_services(
        server.service, server.sessions, StoreDirectory(server.sessions), EmergencyNotifier(None)
    )
    assert isinstance(server.service.engine.service(Paging).groups, StorePaging)


async def test_a_page_reaches_three_phones_with_auto_answer_and_they_hear_the_pager(
    server: Server, tmp_path: Path
) -> None:
    if not PCAP.exists():
        pytest.skip("SIPp's g711a.pcap is not installed (Debian package sip-tester)")
    tenant, ids = users(server)
    with transaction(server.sessions) as s:
        group = PagingGroup(tenant_id=tenant, name="Warehouse", extension="7750")
        s.add(group)
        s.flush()
        for i, ext in enumerate(("1002", "1003", "1004")):
            s.add(PagingGroupMember(tenant_id=tenant, paging_group_id=group.id, user_id=ids[ext], position=i))
    with_relay(server)
    transports, found = await ears(3)
    ports = {ext: free_udp_port() for ext in ("1001", "1002", "1003", "1004")}
    for ext, port in ports.items():
        await server.register(ext, port)
    try:
        phones = [
            asyncio.create_task(
                server.sipp(
                    phone_scenario(tmp_path, t.get_extra_info("sockname")[1]),
                    ext,
                    port=ports[ext],
                    client=False,
                    timeout_s=20,
                )
            )
            for ext, t in zip(("1002", "1003", "1004"), transports, strict=True)
        ]
        await asyncio.sleep(0.5)  # the phones' SIPp bind their ports
        pager = await server.sipp("uac_call_rtp.xml", "1001", port=ports["1001"], callee="7750", timeout_s=20)
        results = await asyncio.gather(*phones)
        await asyncio.sleep(0.2)
    finally:
        for t in transports:
            t.close()
    assert pager.returncode == 0, pager.output[-3000:]
    for result in results:
        assert result.returncode == 0, result.output[-3000:]  # headers present, BYE received
    heard = [[parse_rtp(p) for p in ear.packets] for ear in found]
    for packets in heard:
        assert len(packets) >= 50, len(packets)  # 2 s of 20 ms packets, less the set-up
        assert {p.payload_type for p in packets} == {PCMA}
    # The same audio at each phone: the pager's packets, fanned out unchanged.
    common = min(len(p) for p in heard)
    streams = [[(p.sequence, p.payload) for p in packets[-common:]] for packets in heard]
    assert streams[0] == streams[1] == streams[2]
    assert len({p.payload for p in heard[0]}) > 10  # speech, not one repeated frame of silence
    [cdr] = server.ended  # one call: the pager's, with a leg per phone paged
    assert (cdr.from_, cdr.to, cdr.disposition, cdr.hangup_cause) == (
        "1001",
        "7750",
        "answered",
        "caller_bye",
    )
    assert sorted((leg.extension, leg.disposition) for leg in cdr.legs) == [
        ("1002", "answered"),
        ("1003", "answered"),
        ("1004", "answered"),
    ]


async def test_intercom_rings_one_phone_with_auto_answer(server: Server, tmp_path: Path) -> None:
    with_relay(server)
    transports, found = await ears(1)
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    try:
        phone = asyncio.create_task(
            server.sipp(
                phone_scenario(tmp_path, transports[0].get_extra_info("sockname")[1], one_way=False),
                "1002",
                port=b,
                client=False,
                timeout_s=20,
            )
        )
        await asyncio.sleep(0.5)
        caller = await server.sipp("uac_call_rtp.xml", "1001", port=a, callee="*901002", timeout_s=20)
        result = await phone
    finally:
        transports[0].close()
    assert caller.returncode == 0, caller.output[-3000:]
    assert result.returncode == 0, result.output[-3000:]
    assert len(found[0].packets) >= 50  # the caller's audio reached the intercom phone
