"""<Dial> bridges a second leg on the app server (issue 16 §1, §2, Must show): an API call to 1002
runs an app whose <Dial> rings 1003; 1003 answers and the two talk through the app server (RTP
counted by the switch's relay on the way to 1003); when 1003 hangs up, the action URL gets
DialCallStatus=completed with the duration and the dialled leg's CallSid, and the app goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.store.db import transaction
from centrex.store.models.people import Mailbox
from tests.apps.pcap import RtpScript
from tests.interop.conftest import free_udp_port

from .conftest import OUR_NUMBER, Stack, hanging_up_callee, talking_callee

pytestmark = pytest.mark.interop

APP = """<?xml version="1.0" encoding="UTF-8"?>
<Response><Dial action="/dialed" timeout="20"><Number>1003</Number></Dial><Say>not reached</Say></Response>"""
AFTER = "<Response><Hangup/></Response>"


async def test_dial_bridges_an_extension_and_tells_the_action_url(stack: Stack, tmp_path: Path) -> None:
    a, b = free_udp_port(), free_udp_port()
    await stack.switch.register("1002", a)
    await stack.switch.register("1003", b)
    pcap = RtpScript().tone(0.0, 6.0, 1000.0).write(tmp_path / "talk.pcap")
    first = asyncio.create_task(
        stack.switch.sipp(talking_callee(tmp_path, pcap), "1002", port=a, client=False, timeout_s=25)
    )
    second = asyncio.create_task(
        stack.switch.sipp(hanging_up_callee(tmp_path, 3000), "1003", port=b, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    stack.web.pages["/app"] = APP
    stack.web.pages["/dialed"] = AFTER
    client = stack.twilio()
    call = await stack.off_loop(client.calls.create, to="1002", from_=OUR_NUMBER, url=f"{stack.web.base}/app")
    dialed = await stack.web.wait_for("/dialed", 40)
    assert dialed["DialCallStatus"] == "completed", dialed
    assert int(dialed["DialCallDuration"]) >= 2
    assert dialed["DialCallSid"].startswith("CA") and dialed["CallSid"] == call.sid
    for phone in (first, second):
        done = await phone
        assert done.returncode == 0, done.output[-3000:]
    # The switch's record of the dialled leg: answered by 1003, and 1002's audio reached 1003.
    for _ in range(50):
        legs = [e for e in stack.switch.ended if e.to == "1003"]
        if legs and len(stack.switch.ended) >= 2:
            break
        await asyncio.sleep(0.1)
    leg = legs[-1]
    assert leg.disposition == "answered"
    stats = stack.anchor.finished[str(leg.call_id)]
    assert stats["b"].packets_out > 50, stats  # relay -> 1003: the bridged audio of 1002
    children = await stack.off_loop(client.calls.list, parent_call_sid=call.sid)
    assert [(c.sid, c.direction, c.to) for c in children] == [
        (dialed["DialCallSid"], "outbound-dial", "1003")
    ]
    assert children[0].status == "completed"


async def test_dial_busy_then_no_answer_are_told_to_the_action_url(stack: Stack, tmp_path: Path) -> None:
    """A busy extension is DialCallStatus=busy; one that only rings past the Dial's timeout is
    cancelled and no-answer (mailboxes off, so the switch does not send them to voicemail)."""
    with transaction(stack.switch.sessions) as s:
        for box in s.scalars(select(Mailbox)):
            box.enabled = False
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    await stack.switch.register("1002", a)
    await stack.switch.register("1003", b)
    await stack.switch.register("1004", c)
    phones = [
        asyncio.create_task(stack.switch.sipp("uas_answer.xml", "1002", port=a, client=False, timeout_s=25)),
        asyncio.create_task(stack.switch.sipp("uas_busy.xml", "1003", port=b, client=False, timeout_s=25)),
        asyncio.create_task(stack.switch.sipp("uas_ring.xml", "1004", port=c, client=False, timeout_s=25)),
    ]
    await asyncio.sleep(0.3)
    stack.web.pages["/app"] = '<Response><Dial action="/busy"><Number>1003</Number></Dial></Response>'
    stack.web.pages["/busy"] = (
        '<Response><Dial action="/late" timeout="5"><Number>1004</Number></Dial></Response>'
    )
    stack.web.pages["/late"] = "<Response><Hangup/></Response>"
    client = stack.twilio()
    await stack.off_loop(client.calls.create, to="1002", from_=OUR_NUMBER, url=f"{stack.web.base}/app")
    busy = await stack.web.wait_for("/busy", 30)
    assert (busy["DialCallStatus"], busy["DialCallDuration"]) == ("busy", "0")
    late = await stack.web.wait_for("/late", 30)
    assert late["DialCallStatus"] == "no-answer"
    for phone in phones:
        done = await phone
        assert done.returncode == 0, done.output[-3000:]
