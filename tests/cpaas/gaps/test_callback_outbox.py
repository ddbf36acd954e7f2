"""Issue 16 gap 1: a voice call's status callbacks go through the webhooks outbox.

The `twilio` package places a call that a SIPp phone answers; the app's status callback receiver
fails its first two requests (500, 503). The `initiated` callback is retried with back-off until the
receiver takes it, and the later callbacks wait behind it: the receiver gets SequenceNumber
0, 0, 0, 1, 2, 3 — never a later one before an earlier — each signed X-Twilio-Signature that the
`twilio` package's RequestValidator accepts. The tenant's callback delivery log (native API) shows
the four deliveries with their attempts (500, 503, 200 for the first)."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.cpaas.calls.conftest import OUR_NUMBER, Stack
from tests.cpaas.calls.conftest import stack as stack
from tests.interop.conftest import free_udp_port

pytestmark = pytest.mark.interop

HOLD = '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="2"/></Response>'


async def test_failing_status_callbacks_are_retried_in_sequence_order_and_logged(stack: Stack) -> None:
    port = free_udp_port()
    await stack.switch.register("1002", port)
    callee = asyncio.create_task(
        stack.switch.sipp("uas_answer.xml", "1002", port=port, client=False, timeout_s=30)
    )
    await asyncio.sleep(0.3)
    stack.web.pages["/answer"] = HOLD
    stack.web.codes["/status"] = [500, 503]
    client = stack.twilio()
    call = await stack.off_loop(
        client.calls.create,
        to="1002",
        from_=OUR_NUMBER,
        url=f"{stack.web.base}/answer",
        status_callback=f"{stack.web.base}/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    done = await callee
    assert done.returncode == 0, done.output[-3000:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(stack.web.params_of("/status")) < 6:
        await asyncio.sleep(0.1)
    events = stack.web.params_of("/status")
    assert [int(e["SequenceNumber"]) for e in events] == [0, 0, 0, 1, 2, 3]
    assert [e["CallStatus"] for e in events[2:]] == ["initiated", "ringing", "in-progress", "completed"]
    assert all(e["CallSid"] == call.sid for e in events)
    # Every attempt signed afresh; the twilio package accepts each.
    validator = RequestValidator(stack.demo.auth_token)
    answered = [a for a in stack.web.answered if a[0] == "/status"]
    assert [code for _, code, _ in answered] == [500, 503, 200, 200, 200, 200]
    for params, (_, _, signature) in zip(events, answered, strict=True):
        assert validator.validate(f"{stack.web.base}/status", params, signature)

    # The delivery log, through the native API.
    headers = {"Authorization": f"Bearer {stack.demo.operator_token}"}
    url = f"{stack.api}/api/v1/tenants/{stack.demo.tenant_id}/cpaas/callbacks?" + urllib.parse.urlencode(
        {"call_sid": call.sid}
    )
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(50):  # the worker records the last outcome just after the receiver answers
            page = (await http.get(url, headers=headers)).json()
            if all(d["status"] == "delivered" for d in page["items"]) and len(page["items"]) == 4:
                break
            await asyncio.sleep(0.1)
        other = await http.get(url.replace("call_sid=CA", "call_sid=CX"), headers=headers)
    items = page["items"]
    assert [d["sequence_number"] for d in items] == [0, 1, 2, 3]
    assert [d["call_status"] for d in items] == ["ringing", "ringing", "in-progress", "completed"]
    assert all(d["status"] == "delivered" and d["call_sid"] == call.sid for d in items)
    assert [a["status_code"] for a in items[0]["attempt_log"]] == [500, 503, 200]
    assert items[0]["attempts"] == 3 and [d["attempts"] for d in items[1:]] == [1, 1, 1]
    assert other.status_code == 422  # not a call SID
