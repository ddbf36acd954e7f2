"""Issue 16 gap 2: <Message> inside a voice app sends an SMS during the call.

The `twilio` package places a call that a SIPp phone (1002) answers; its TwiML holds two
<Message>s. The first leaves over SMPP to the SMSC simulator (a real smpplib server on a free port)
from the call's number with its text; the second is to a handset that replied STOP to that number,
so the messaging part refuses it (Twilio 21610, cpaas.txt §2.5 / CTIA): the refusal is in the call's
log and the <Message> action URL gets SmsStatus=failed."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.cpaas.messaging.smpp_connector import SmppConnector
from centrex.store.db import transaction
from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice
from centrex.store.models.messaging import A2pRegistration, SmsConsent, SmsMessage
from tests.cpaas.calls.conftest import OUR_NUMBER, Stack
from tests.cpaas.calls.conftest import stack as stack  # the fixture
from tests.interop.conftest import free_udp_port

pytestmark = pytest.mark.interop

HANDSET, STOPPED = "+12015550199", "+12015550177"


async def test_message_verbs_during_a_call(stack: Stack) -> None:
    sim = SmscSimulator(system_id="centrex", password="secret").start()
    connector = SmppConnector("127.0.0.1", sim.port, "centrex", "secret")
    messenger = Messenger(stack.switch.sessions, connector).start()
    try:
        assert await asyncio.to_thread(connector.wait_bound, 30)
        tenant = uuid.UUID(stack.demo.tenant_id)
        with transaction(stack.switch.sessions) as s:
            s.add(
                A2pRegistration(
                    tenant_id=tenant,
                    kind="10dlc",
                    status="approved",
                    brand_name="Demo Co",
                    campaign_id="CDEMO01",
                    use_case="CUSTOMER_CARE",
                    numbers=[OUR_NUMBER],
                )
            )
            s.add(
                SmsConsent(
                    tenant_id=tenant, number=OUR_NUMBER, remote=STOPPED, opted_out=True, keyword="STOP"
                )
            )
        stack.web.pages["/answer"] = (
            "<Response>"
            f'<Message to="{HANDSET}">Your code is 1234</Message>'
            f'<Message to="{STOPPED}" action="/sms-done">Hello again</Message>'
            "</Response>"
        )
        port = free_udp_port()
        await stack.switch.register("1002", port)
        callee = asyncio.create_task(
            stack.switch.sipp("uas_answer.xml", "1002", port=port, client=False, timeout_s=30)
        )
        await asyncio.sleep(0.3)
        call = await stack.off_loop(
            stack.twilio().calls.create, to="1002", from_=OUR_NUMBER, url=f"{stack.web.base}/answer"
        )
        done = await stack.web.wait_for("/sms-done")
        assert done["CallSid"] == call.sid and done["SmsStatus"] == "failed"
        got = await asyncio.to_thread(sim.wait_for, 1, 30)
        assert [(x.source_addr, x.destination_addr, x.short_message) for x in got] == [
            (OUR_NUMBER.lstrip("+"), HANDSET.lstrip("+"), b"Your code is 1234")
        ]
        result = await callee
        assert result.returncode == 0, result.output[-3000:]
        with stack.switch.sessions() as s:
            sent = s.scalars(select(SmsMessage).where(SmsMessage.tenant_id == tenant)).all()
            notes = s.scalars(
                select(CpaasCallNotice.message)
                .join(CpaasCall, CpaasCall.id == CpaasCallNotice.call_id)
                .where(CpaasCall.sid == call.sid)
            ).all()
        assert [(m.from_number, m.to_number, m.body) for m in sent] == [
            (OUR_NUMBER, HANDSET, "Your code is 1234")
        ]
        assert any("21610" in n or "unsubscribed" in n for n in notes), notes
    finally:
        messenger.stop()
        sim.stop()
