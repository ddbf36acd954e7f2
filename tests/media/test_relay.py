"""The RTP relay over real loopback UDP: two phones behind "NAT" find each other by latching."""

from __future__ import annotations

import asyncio
import socket

import pytest

from centrex.media.errors import MediaError, PortsExhausted
from centrex.media.ports import PortAllocator
from centrex.media.relay import EF_TOS, RelayManager, RtpRelay
from centrex.media.rtcp import ReceiverReport, build_compound
from centrex.media.rtp import RtpPacket, parse_rtp


def free_range(pairs: int) -> tuple[int, int]:
    """A port range whose ports are free right now (probing from a kernel-chosen port upwards)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1] & ~1
        if base + 2 * pairs > 65535 or base < 1024:
            continue
        return base, base + 2 * pairs
    raise RuntimeError("no port range")


def test_allocator_hands_out_even_pairs_once_and_reuses_late() -> None:
    alloc = PortAllocator(20001, 20007)  # inclusive, as CENTREX_RTP_PORTS
    pairs = [alloc.allocate() for _ in range(3)]
    assert pairs == [(20002, 20003), (20004, 20005), (20006, 20007)]
    with pytest.raises(PortsExhausted):
        alloc.allocate()
    alloc.release(20004)
    with pytest.raises(MediaError, match="not allocated"):
        alloc.release(20004)
    assert alloc.allocate() == (20004, 20005) and alloc.in_use == 3
    with pytest.raises(MediaError):
        PortAllocator(30001, 30002)  # no even port with its odd partner inside


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.put_nowait((data, addr))


async def phone() -> tuple[asyncio.DatagramTransport, Phone]:
    loop = asyncio.get_running_loop()
    t, p = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    return t, p


async def test_two_natted_phones_hear_each_other_through_the_relay() -> None:
    low, high = free_range(8)
    alloc = PortAllocator(low, high)
    mgr = RelayManager(alloc, bind_host="127.0.0.1")
    relay = await mgr.create("call-1")
    a_addr, b_addr = mgr.sdp_address("call-1", "a"), mgr.sdp_address("call-1", "b")
    assert a_addr.address == "127.0.0.1" and a_addr.port % 2 == 0 and b_addr.port % 2 == 0
    assert alloc.in_use == 2

    # Each SDP names a private address that nobody can reach; the phones really send from elsewhere.
    mgr.set_remote("call-1", "a", "192.0.2.10", 4000)
    mgr.set_remote("call-1", "b", "192.0.2.20", 4002)
    ta, pa = await phone()
    tb, pb = await phone()
    rtcp_a, _rtcp_pa = await phone()
    try:
        for i in range(10):
            ta.sendto(RtpPacket(0, 100 + i, 160 * i, 0xA, b"\xff" * 160).pack(), ("127.0.0.1", a_addr.port))
            tb.sendto(RtpPacket(0, 500 + i, 160 * i, 0xB, b"\x7f" * 160).pack(), ("127.0.0.1", b_addr.port))
            await asyncio.sleep(0.002)
        # B latched after its first packet; A's early packets went to B's SDP address until then.
        got_b = [await asyncio.wait_for(pb.got.get(), 2) for _ in range(1)]
        got_a = [await asyncio.wait_for(pa.got.get(), 2) for _ in range(1)]
        await asyncio.sleep(0.05)
        while not pb.got.empty():
            got_b.append(pb.got.get_nowait())
        while not pa.got.empty():
            got_a.append(pa.got.get_nowait())
        assert all(parse_rtp(d).ssrc == 0xA for d, _ in got_b)
        assert all(parse_rtp(d).ssrc == 0xB for d, _ in got_a)
        assert got_b[0][1] == ("127.0.0.1", b_addr.port)  # symmetric: from the port B sends to
        assert parse_rtp(got_a[-1][0]).sequence == 509 and parse_rtp(got_b[-1][0]).sequence == 109

        # a stranger sending to leg a's port while A talks is not latched and reaches nobody
        ts, _ = await phone()
        ts.sendto(RtpPacket(0, 1, 1, 0x5, b"spam").pack(), ("127.0.0.1", a_addr.port))
        ts.close()
        # RTCP follows the RTP pair
        rr = build_compound([ReceiverReport(0xA)])
        rtcp_a.sendto(rr, ("127.0.0.1", a_addr.port + 1))
        await asyncio.sleep(0.05)

        sa, sb = relay.stats("a"), relay.stats("b")
        assert sa.packets_in == 10 and sa.bytes_in == 10 * 172 and sa.lost == 0
        assert sb.packets_in == 10 and sb.lost == 0
        assert sa.remote == ta.get_extra_info("sockname") and sb.remote == tb.get_extra_info("sockname")
        # all 20 were sent on; exactly one (the very first) went to the other side's SDP address
        assert sa.packets_out == 10 and sb.packets_out == 10
        assert len(got_a) + len(got_b) == 19
        assert sa.dropped == 1  # the stranger
        assert sa.rtcp_in == 1 and sb.rtcp_out == 1  # sent to B's RTP port + 1 (no RTCP from B yet)

        # DSCP EF is on the relay's RTP sockets
        for leg in relay._legs.values():
            assert leg.rtp_transport is not None
            sock = leg.rtp_transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == EF_TOS

        final = mgr.destroy("call-1")
        assert final is not None and final["a"].packets_in == 10
        assert relay.closed and alloc.in_use == 0 and len(mgr) == 0
        # the ports really are free again
        for port in (a_addr.port, a_addr.port + 1, b_addr.port, b_addr.port + 1):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
    finally:
        for t in (ta, tb, rtcp_a):
            t.close()
        mgr.close()


async def test_relay_loss_jitter_and_idle_timeout() -> None:
    low, high = free_range(4)
    alloc = PortAllocator(low, high)
    ended: list[str] = []
    mgr = RelayManager(alloc, bind_host="127.0.0.1", idle_timeout=0.3, on_idle=ended.append)
    relay = await mgr.create("call-2")
    with pytest.raises(MediaError, match="already"):
        await mgr.create("call-2")
    ta, _ = await phone()
    tb, pb = await phone()
    port_a = mgr.sdp_address("call-2", "a").port
    mgr.set_remote("call-2", "b", *tb.get_extra_info("sockname"))
    for i in range(20):
        if i not in (5, 6, 7):  # three packets lost on the way to the relay
            data = RtpPacket(0, (65530 + i) & 0xFFFF, 160 * i, 7, b"\xff" * 160).pack()
            ta.sendto(data, ("127.0.0.1", port_a))
    for _ in range(17):
        await asyncio.wait_for(pb.got.get(), 2)
    sa = relay.stats("a")
    assert sa.lost == 3 and sa.packets_in == 17 and sa.jitter_ms > 0
    for _ in range(100):
        if ended:
            break
        await asyncio.sleep(0.05)
    assert ended == ["call-2"] and relay.close_reason == "idle" and alloc.in_use == 0 and len(mgr) == 0
    ta.close()
    tb.close()


async def test_ports_come_back_when_start_fails_and_wildcard_needs_advertise() -> None:
    with pytest.raises(MediaError, match="advertise"):
        RelayManager(PortAllocator(40000, 40010))
    low, high = free_range(1)
    alloc = PortAllocator(low, high)
    with pytest.raises(PortsExhausted):
        await RtpRelay("x", alloc, "127.0.0.1").start()  # one pair for two legs
    assert alloc.in_use == 0


async def test_a_ringing_call_is_not_timed_out_for_silence_until_both_sides_are_known() -> None:
    """A call that rings longer than the no-media timeout keeps its relay (nobody sends media while
    it rings); once the callee's SDP is known, silence on both sides ends it (issue 13 §3)."""
    low, high = free_range(4)
    alloc = PortAllocator(low, high)
    ended: list[str] = []
    mgr = RelayManager(alloc, bind_host="127.0.0.1", idle_timeout=0.2, on_idle=ended.append)
    relay = await mgr.create("ringing")
    mgr.set_remote("ringing", "a", "127.0.0.1", 40000)  # the caller's offer
    await asyncio.sleep(0.6)  # three timeouts of ringing: still there
    assert ended == [] and not relay.closed
    mgr.set_remote("ringing", "b", "127.0.0.1", 40002)  # answered
    await asyncio.sleep(0.1)
    assert ended == []  # the clock starts at the answer
    for _ in range(100):
        if ended:
            break
        await asyncio.sleep(0.05)
    assert ended == ["ringing"] and relay.close_reason == "idle"
    mgr.close()
