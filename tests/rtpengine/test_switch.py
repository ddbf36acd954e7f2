"""End to end through the switch with rtpengine selected: two SIPp phones, G.711 audio from the
caller and the callee's echo, all through rtpengine's ports (issue #4 point 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from centrex.calls.rtpengine_anchor import RtpengineAnchor, select_anchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_media import sipp_echo_callee

from .conftest import Rtpengine

pytestmark = pytest.mark.interop


async def test_a_call_through_the_switch_flows_through_rtpengine(
    server: Server, rtpengine: Rtpengine, tmp_path: Path
) -> None:
    builtin = RelayManager(PortAllocator(45000, 45099), bind_host="127.0.0.1")
    anchor = select_anchor("rtpengine", rtpengine.ng, tmp_path, builtin)
    assert isinstance(anchor, RtpengineAnchor)
    server.service.engine.media = anchor
    sdp_sent: list[bytes] = []
    network = server.service.engine.network
    send_request, send_response = network.send_request, network.send_response

    def spy_request(*args, **kwargs):  # type: ignore[no-untyped-def]
        msg = next((a for a in args if hasattr(a, "body")), None)
        if msg is not None and msg.body:
            sdp_sent.append(msg.body)
        return send_request(*args, **kwargs)

    def spy_response(*args, **kwargs):  # type: ignore[no-untyped-def]
        msg = next((a for a in args if hasattr(a, "body")), None)
        if msg is not None and msg.body:
            sdp_sent.append(msg.body)
        return send_response(*args, **kwargs)

    network.send_request, network.send_response = spy_request, spy_response  # type: ignore[method-assign]

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
    ports = {stats["a"].local_port, stats["b"].local_port}
    assert all(rtpengine.port_min <= p <= rtpengine.port_max for p in ports)
    # Both SDPs the switch sent (INVITE to the callee, 200 to the caller) name rtpengine's ports only.
    media_lines = [
        line for body in sdp_sent for line in body.decode().splitlines() if line.startswith("m=audio")
    ]
    assert len(media_lines) >= 2
    assert {int(line.split()[1]) for line in media_lines} == ports
    # The caller's audio reached rtpengine (leg a) and went on to the callee, whose echo came back.
    assert stats["a"].packets_in > 50 and stats["b"].packets_in > 50
    assert stats["a"].packets_out > 50 and stats["b"].packets_out > 50
    assert stats["a"].remote is not None and stats["a"].remote[0] == "127.0.0.1"
    assert len(anchor) == 0  # deleted from rtpengine with the call
