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
