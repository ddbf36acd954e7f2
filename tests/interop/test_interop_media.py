"""Media anchoring with real SIPp peers (issue #4 point 1): the B2BUA rewrites SDP so both phones
send RTP to the relay, and the relay carries the caller's G.711 audio to the callee and the
callee's echo back."""

from __future__ import annotations

import asyncio

import pytest

from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import DEMO_DOMAIN

from .conftest import SCENARIOS, SIPP, Server, free_udp_port

pytestmark = pytest.mark.interop


async def sipp_echo_callee(server: Server, user: str, port: int) -> asyncio.subprocess.Process:
    """SIPp answering as ``user`` and echoing the RTP it receives (-rtp_echo)."""
    assert SIPP is not None
    return await asyncio.create_subprocess_exec(
        SIPP,
        "-sf",
        str(SCENARIOS / "uas_answer.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mp",
        str(free_udp_port()),
        "-rtp_echo",
        "-s",
        user,
        "-m",
        "1",
        "-nostdin",
        "-key",
        "domain",
        DEMO_DOMAIN,
        "-timeout",
        "20s",
        "-timeout_error",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_the_relay_carries_audio_both_ways_and_the_phones_see_only_its_address(server: Server) -> None:
    anchor = RelayAnchor(RelayManager(PortAllocator(42000, 42999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    callee = await sipp_echo_callee(server, "1002", b)
    await asyncio.sleep(0.3)
    caller = await server.sipp("uac_call_rtp.xml", "1001", port=a, callee="1002", timeout_s=15)
    out, _ = await asyncio.wait_for(callee.communicate(), 30)
    assert caller.returncode == 0, caller.output[-3000:]
    assert callee.returncode == 0, out.decode(errors="replace")[-3000:]
    cdr = server.ended[-1]
    assert cdr.disposition == "answered"
    stats = anchor.finished[str(cdr.call_id)]
    # The caller's audio reached the relay (leg a) and went on to the callee (leg b), whose echo
    # came back through the relay: both legs received and sent.
    assert stats["a"].packets_in > 50 and stats["b"].packets_out > 50
    assert stats["b"].packets_in > 50 and stats["a"].packets_out > 50
    assert stats["a"].remote is not None and stats["a"].remote[0] == "127.0.0.1"
    assert 42000 <= stats["a"].local_port <= 42999 and 42000 <= stats["b"].local_port <= 42999
    assert len(anchor.manager) == 0  # the relay was closed with the call


async def test_the_party_put_on_hold_hears_music_from_the_relay(server: Server) -> None:
    """SIPp's caller holds (re-INVITE a=sendonly) for ~200 ms and sends no audio of its own: every
    packet the callee's relay leg sent is hold music."""
    anchor = RelayAnchor(RelayManager(PortAllocator(43000, 43999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    callee = asyncio.create_task(
        server.sipp("uas_answer_hold.xml", "1002", port=b, client=False, timeout_s=15)
    )
    await asyncio.sleep(0.3)
    caller = await server.sipp("uac_call_hold.xml", "1001", port=a, callee="1002", timeout_s=15)
    assert caller.returncode == 0, caller.output[-3000:]
    assert (await callee).returncode == 0
    stats = anchor.finished[str(server.ended[-1].call_id)]
    assert stats["a"].packets_in == 0  # the caller sent nothing
    assert 5 <= stats["b"].packets_out <= 40  # ~200 ms of 20 ms music frames, and it stopped
