"""The official `twilio` package places a call through Centrex (issue 16 §2, Must show): the Url is
fetched by our service when the callee — a SIPp phone registered as extension 1002 — rings and
answers; the call is hung up by an update; fetch shows it completed with its duration."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.interop.conftest import free_udp_port

from .conftest import OUR_NUMBER, Stack

pytestmark = pytest.mark.interop

HOLD = '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="60"/></Response>'


async def wait_status(stack: Stack, sid: str, wanted: set[str], timeout_s: float = 30.0) -> object:
    client = stack.twilio()
    deadline = time.monotonic() + timeout_s
    call = None
    while time.monotonic() < deadline:
        call = await stack.off_loop(client.calls(sid).fetch)
        if call.status in wanted:
            return call
        await asyncio.sleep(0.2)
    raise AssertionError(f"call {sid} stayed {getattr(call, 'status', None)}, wanted {wanted}")


async def test_twilio_package_places_a_call_that_a_sipp_phone_answers_and_hangs_it_up(stack: Stack) -> None:
    port = free_udp_port()
    await stack.switch.register("1002", port)
    callee = asyncio.create_task(
        stack.switch.sipp("uas_answer.xml", "1002", port=port, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    stack.web.pages["/answer"] = HOLD
    client = stack.twilio()
    call = await stack.off_loop(
        client.calls.create,
        to="1002",
        from_=OUR_NUMBER,
        url=f"{stack.web.base}/answer",
        method="POST",
        status_callback=f"{stack.web.base}/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert (call.to, call._from, call.direction) == ("1002", OUR_NUMBER, "outbound-api")
    # The callee answered: our service fetched the Url with Twilio's parameters for this call.
    params = await stack.web.wait_for("/answer")
    assert params["CallSid"] == call.sid and params["AccountSid"] == stack.demo.account_sid
    assert params["Direction"] == "outbound-api" and params["To"] == "1002"
    live = await wait_status(stack, call.sid, {"in-progress"})
    assert live.start_time is not None and live.end_time is None
    await asyncio.sleep(1.2)
    await stack.off_loop(client.calls(call.sid).update, status="completed")
    done = await callee
    assert done.returncode == 0, done.output[-3000:]  # SIPp got our BYE
    ended = await wait_status(stack, call.sid, {"completed"})
    assert ended.end_time is not None and int(ended.duration) >= 1
    # Status callbacks in order, numbered, the last with the call's duration.
    for _ in range(50):
        if len(stack.web.params_of("/status")) >= 4:
            break
        await asyncio.sleep(0.1)
    events = stack.web.params_of("/status")
    assert [e["CallStatus"] for e in events] == ["initiated", "ringing", "in-progress", "completed"]
    assert [int(e["SequenceNumber"]) for e in events] == [0, 1, 2, 3]
    assert all(e["CallSid"] == call.sid for e in events) and int(events[-1]["CallDuration"]) >= 1
    listed = await stack.off_loop(client.calls.list, to="1002", status="completed")
    assert [c.sid for c in listed] == [call.sid]
    cdr = stack.switch.ended[-1]
    assert cdr.disposition == "answered"


async def test_a_call_to_911_is_refused_with_the_reason(stack: Stack) -> None:
    client = stack.twilio()
    with pytest.raises(TwilioRestException) as refused:
        await stack.off_loop(client.calls.create, to="911", from_=OUR_NUMBER, twiml="<Response/>")
    assert refused.value.status == 400 and "emergency" in refused.value.msg
    with pytest.raises(TwilioRestException) as not_ours:
        await stack.off_loop(client.calls.create, to="1002", from_="+12015550999", twiml="<Response/>")
    assert not_ours.value.code == 21210


async def test_the_switch_refuses_an_app_server_call_to_911(stack: Stack) -> None:
    """Behind the API's own check: the switch never routes a call the app server places to 911 or
    933 (cpaas.txt §2.4.4), with the reason in the answer."""
    tenant = uuid.UUID(stack.demo.tenant_id)
    for target in ("911", "933"):
        leg = await stack.apps.outbound.place(tenant, target, caller_id=OUR_NUMBER)
        assert await leg.wait_answer(10) == "failed"
        assert leg.status == 403 and "emergency" in leg.reason
    assert not [e for e in stack.switch.ended if e.to in ("911", "933") and e.disposition == "answered"]
