"""<Dial> of a call the app server answered (issue 16 §1 with §2's bridge): a SIPp phone (1001)
dials an application's extension; its document dials 1003, which answers and later hangs up; the
two are bridged on the app server (the relay counts 1001's audio reaching 1003), the action URL
gets DialCallStatus=completed and the dialled leg is a child call of the inbound one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.lookup import ApplicationLookup
from centrex.pbx.apps import Apps
from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.cpaas_voice import Application
from tests.apps.pcap import RtpScript
from tests.interop.conftest import free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import Stack, hanging_up_callee

pytestmark = pytest.mark.interop


async def test_an_inbound_apps_dial_is_bridged_on_the_app_server(stack: Stack, tmp_path: Path) -> None:
    sessions = stack.switch.sessions
    with transaction(sessions) as s:
        tenant = s.scalar(select(Tenant.id))
        s.add(
            Application(
                tenant_id=tenant, sid=new_sid("AP"), voice_url=f"{stack.web.base}/voice", extension="6100"
            )
        )
    stack.switch.service.engine.service(Apps).application_by_extension = ApplicationLookup(sessions)
    stack.web.pages["/voice"] = (
        '<Response><Dial action="/dialed" timeout="15"><Number>1003</Number></Dial></Response>'
    )
    stack.web.pages["/dialed"] = '<Response><Pause length="30"/></Response>'
    a, b = free_udp_port(), free_udp_port()
    await stack.switch.register("1001", a)
    await stack.switch.register("1003", b)
    callee = asyncio.create_task(
        stack.switch.sipp(hanging_up_callee(tmp_path, 2500), "1003", port=b, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    pcap = RtpScript().tone(0.0, 6.0, 1000.0).write(tmp_path / "caller.pcap")
    caller = await stack.switch.sipp(
        str(caller_scenario(tmp_path, pcap, 7000)), "1001", port=a, callee="6100", timeout_s=25
    )
    assert caller.returncode == 0, caller.output[-3000:]
    done = await callee
    assert done.returncode == 0, done.output[-3000:]
    dialed = await stack.web.wait_for("/dialed", 20)
    assert dialed["DialCallStatus"] == "completed" and int(dialed["DialCallDuration"]) >= 2, dialed
    assert dialed["Direction"] == "inbound" and dialed["DialCallSid"].startswith("CA")
    for _ in range(50):
        legs = [e for e in stack.switch.ended if e.to == "1003"]
        if legs:
            break
        await asyncio.sleep(0.1)
    stats = stack.anchor.finished[str(legs[-1].call_id)]
    assert stats["b"].packets_out > 50, stats  # 1001's audio, bridged on the app server, reached 1003
    child = await stack.off_loop(stack.twilio().calls(dialed["DialCallSid"]).fetch)
    assert (child.parent_call_sid, child.direction, child.status) == (
        dialed["CallSid"],
        "outbound-dial",
        "completed",
    )
