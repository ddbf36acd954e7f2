"""BLF with real SIPp phones over 127.0.0.1 (issue 17 §3): a watcher phone (SIPp) subscribes to
1002's dialog state; 1001 (SIPp) calls 1002 (SIPp: rings, answers, hangs up); the watcher's
scenario receives the NOTIFYs and checks each body in order — idle, early, confirmed, terminated
— then unsubscribes."""

from __future__ import annotations

import asyncio

import pytest

from centrex.pbx.blf import DialogEvents

from .conftest import Server, free_udp_port
from .test_interop_sipp import call

pytestmark = pytest.mark.interop


async def test_a_blf_watcher_sees_ringing_confirmed_terminated_for_a_call_it_is_not_in(
    server: Server,
) -> None:
    a, b, w = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b)):
        await server.register(ext, port)
    watcher = asyncio.create_task(
        server.sipp("uac_blf_watch.xml", "1003", port=w, callee="1002", timeout_s=20)
    )
    blf = server.service.engine.service(DialogEvents)
    for _ in range(200):
        if blf.subs or watcher.done():
            break
        await asyncio.sleep(0.05)
    assert blf.subs, (await watcher).output[-3000:]
    await call(server, "1001", a, "1002", "uac_call_callee_bye.xml", [("uas_answer_bye.xml", "1002", b)])
    result = await watcher
    assert result.returncode == 0, result.output[-3000:]
    assert not blf.subs  # unsubscribed: nothing left to notify
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.from_, cdr.to) == ("answered", "1001", "1002")


async def test_a_ringing_blf_key_is_picked_up_with_the_directed_pickup_code(server: Server) -> None:
    """What pressing a ringing BLF key does on a Yealink/Polycom set up with the tenant's directed
    pickup code: 1003 sees 1002 ringing, dials *81002 and gets the call; its key for 1002 goes
    from early to terminated (1002's phone was cancelled)."""
    from centrex.calls.media import RelayAnchor
    from centrex.media.ports import PortAllocator
    from centrex.media.relay import RelayManager

    server.service.engine.media = RelayAnchor(
        RelayManager(PortAllocator(47000, 47999), bind_host="127.0.0.1")
    )
    a, b, c, w = free_udp_port(), free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    watcher = asyncio.create_task(
        server.sipp("uac_blf_pickup_watch.xml", "1003", port=w, callee="1002", timeout_s=20)
    )
    blf = server.service.engine.service(DialogEvents)
    for _ in range(200):
        if blf.subs or watcher.done():
            break
        await asyncio.sleep(0.05)
    assert blf.subs, (await watcher).output[-3000:]
    ringing = asyncio.create_task(server.sipp("uas_ring.xml", "1002", port=b, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    caller = asyncio.create_task(server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=15))
    for _ in range(200):  # the key blinks: the watcher was told 1002 is ringing
        if any(e.state == "early" for shown in blf.shown.values() for _, e in shown.values()):
            break
        await asyncio.sleep(0.05)
    picker = await server.sipp("uac_call_callee_bye.xml", "1003", port=c, callee="*81002", timeout_s=15)
    assert picker.returncode == 0, picker.output[-3000:]
    assert (await caller).returncode == 0
    assert (await ringing).returncode == 0  # 1002 was cancelled
    result = await watcher
    assert result.returncode == 0, result.output[-3000:]
    cdr = next(e for e in server.ended if e.to == "1003" and e.hangup_cause == "caller_bye")
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [
        ("1002", "cancelled"),
        ("1003", "answered"),
    ]
