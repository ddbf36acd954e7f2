"""The relay's fan-out (paging, pbx/paging.py) over real loopback UDP: what the pager sends to the
a side reaches every listener's address from the b side, in order and unchanged; a listener taken
off stops receiving; an empty list returns the b side to its one remote."""

from __future__ import annotations

import asyncio

from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtp import RtpPacket, parse_rtp

from .test_relay import free_range, phone


async def drain(q: asyncio.Queue[tuple[bytes, tuple[str, int]]], n: int) -> list[bytes]:
    return [(await asyncio.wait_for(q.get(), 3))[0] for _ in range(n)]


async def test_the_pager_reaches_every_listener_and_a_leaver_stops_hearing() -> None:
    low, high = free_range(8)
    mgr = RelayManager(PortAllocator(low, high), bind_host="127.0.0.1")
    anchor = RelayAnchor(mgr)
    opened = anchor.open("page-1")
    assert opened is not None
    assert anchor.can_fan_out("page-1") and not anchor.can_fan_out("another-call")
    a_host, a_port = opened[0]
    await asyncio.sleep(0.05)  # forwarding starts on the loop's next turn
    pager_t, pager = await phone()
    listeners = [await phone() for _ in range(3)]
    addresses = [t.get_extra_info("sockname")[:2] for t, _ in listeners]
    try:
        anchor.fan_out("page-1", "b", addresses)
        for i in range(5):
            pager_t.sendto(RtpPacket(0, 100 + i, 160 * i, 0xAB, bytes([i]) * 160).pack(), (a_host, a_port))
            await asyncio.sleep(0.005)
        for _, p in listeners:
            got = [parse_rtp(d) for d in await drain(p.got, 5)]
            assert [g.sequence for g in got] == [100, 101, 102, 103, 104]
            assert all(g.ssrc == 0xAB and g.payload == bytes([i]) * 160 for i, g in enumerate(got))
        # A listener that sends anyway (ignoring a=recvonly) is not heard by the pager: one-way.
        b_port = opened[1][1]
        listeners[0][0].sendto(RtpPacket(0, 1, 0, 0xCD, b"\x01" * 160).pack(), ("127.0.0.1", b_port))
        await asyncio.sleep(0.1)
        assert pager.got.empty()
        anchor.fan_out("page-1", "b", addresses[:2])  # the third hung up
        pager_t.sendto(RtpPacket(0, 105, 800, 0xAB, b"\x05" * 160).pack(), (a_host, a_port))
        for _, p in listeners[:2]:
            assert parse_rtp((await drain(p.got, 1))[0]).sequence == 105
        await asyncio.sleep(0.1)
        assert listeners[2][1].got.empty()
        assert mgr.get("page-1").stats("b").packets_out == 17  # type: ignore[union-attr]
    finally:
        pager_t.close()
        for t, _ in listeners:
            t.close()
        anchor.close("page-1")
        mgr.close()
