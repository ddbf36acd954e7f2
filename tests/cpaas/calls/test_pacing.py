"""Calls placed through the API are paced per account (issue 16 §2): at most ``cps`` a second
leave for the switch; the excess waits in a queue (status queued, not refused) and can be cancelled
there; past the queue's bound the API answers 429 with Twilio's code 20429."""

from __future__ import annotations

import asyncio

import pytest
from twilio.base.exceptions import TwilioRestException

from .conftest import OUR_NUMBER, Stack

pytestmark = pytest.mark.interop

DOC = "<Response><Hangup/></Response>"


async def test_excess_calls_wait_in_the_queue_and_a_full_queue_is_429(stack: Stack) -> None:
    stack.desk.cps, stack.desk.queue_max = 0.05, 2  # one call every 20 s; two may wait
    client = stack.twilio()
    first = await stack.off_loop(client.calls.create, to="1003", from_=OUR_NUMBER, twiml=DOC)
    for _ in range(50):  # the first leaves the queue at once (nobody is registered at 1003)
        if (await stack.off_loop(client.calls(first.sid).fetch)).status != "queued":
            break
        await asyncio.sleep(0.1)
    waiting = [
        await stack.off_loop(client.calls.create, to="1003", from_=OUR_NUMBER, twiml=DOC) for _ in range(2)
    ]
    with pytest.raises(TwilioRestException) as paced:
        await stack.off_loop(client.calls.create, to="1003", from_=OUR_NUMBER, twiml=DOC)
    assert (paced.value.status, paced.value.code) == (429, 20429)
    for call in waiting:
        assert (await stack.off_loop(client.calls(call.sid).fetch)).status == "queued"
    # A queued call is cancelled where it waits; the queue has room again.
    await stack.off_loop(client.calls(waiting[1].sid).update, status="canceled")
    for _ in range(50):
        if (await stack.off_loop(client.calls(waiting[1].sid).fetch)).status == "canceled":
            break
        await asyncio.sleep(0.1)
    assert (await stack.off_loop(client.calls(waiting[1].sid).fetch)).status == "canceled"
    assert (await stack.off_loop(client.calls(first.sid).fetch)).status != "queued"
