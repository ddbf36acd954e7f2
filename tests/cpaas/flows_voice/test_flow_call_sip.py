"""Must-show of issue 20 §1 on a call: a published flow run end to end by real SIPp calls.

The office administrator saves and publishes the flow through the flows' REST API. The tenant's
number comes in from a carrier (SIPp playing the trunk, its audio a pcap whose digits
are RFC 4733 events). The number points at an application whose ``flow_id`` is the flow (set through
the API); the flow gathers one digit → split-based-on the digits → 1: connect-call-to extension
1002 (a SIPp phone that answers and later hangs up; bridged on the app server), anything else: say
our hours, and the flow ends — the flow hangs up (the caller's scenario waits for our BYE). Each
execution's step log holds every widget with its event and outputs. The second call reaches the
same flow through Twilio's way (the number's VoiceUrl set to the flow's Studio webhook with the
`twilio` package).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from centrex.cpaas.sids import sid_of
from centrex.store.models.cpaas_voice import Application, CpaasCall
from tests.apps.pcap import RtpScript
from tests.cpaas.calls.conftest import hanging_up_callee
from tests.interop.conftest import free_udp_port

from .conftest import OUR_NUMBER, Stack, carrier_caller, number_id, route_carrier, steps_of

pytestmark = pytest.mark.interop

CALLER = "+13125550777"


def ivr() -> dict[str, Any]:
    """Studio's JSON, as Studio exports it (offsets included)."""
    return {
        "description": "Sales or hours",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall", "next": "gather_1"},
                    {"event": "incomingRequest"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "gather_1",
                "type": "gather-input-on-call",
                "transitions": [
                    {"event": "keypress", "next": "split_1"},
                    {"event": "speech"},
                    {"event": "timeout", "next": "hours"},
                ],
                "properties": {
                    "say": "Press one for sales, two for our hours.",
                    "voice": "alice",
                    "language": "en-US",
                    "loop": 1,
                    "number_of_digits": 1,
                    "timeout": 6,
                    "finish_on_key": "#",
                    "stop_gather": True,
                    "offset": {"x": 0, "y": 200},
                },
            },
            {
                "name": "split_1",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": "hours"},
                    {
                        "event": "match",
                        "next": "connect_sales",
                        "conditions": [
                            {
                                "friendly_name": "1",
                                "arguments": ["{{widgets.gather_1.Digits}}"],
                                "type": "equal_to",
                                "value": "1",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{widgets.gather_1.Digits}}", "offset": {"x": 0, "y": 400}},
            },
            {
                "name": "connect_sales",
                "type": "connect-call-to",
                "transitions": [{"event": "callCompleted"}, {"event": "hangup"}],
                "properties": {
                    "noun": "extension",
                    "to": "1002",
                    "caller_id": "{{contact.channel.address}}",
                    "timeout": 15,
                    "offset": {"x": -200, "y": 600},
                },
            },
            {
                "name": "hours",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {
                    "say": "We are open nine to five. You called {{flow.channel.address}}. Goodbye.",
                    "loop": 1,
                    "offset": {"x": 200, "y": 600},
                },
            },
        ],
    }


async def _wait_ended(stack: Stack, flow_id: Any, runs: int) -> list[Any]:
    for _ in range(100):
        found = steps_of(stack, flow_id)
        if len(found) >= runs and found[-1] and found[-1][-1][0] in ("connect_sales", "hours"):
            return found
        await asyncio.sleep(0.1)
    return steps_of(stack, flow_id)


async def test_a_call_gathers_splits_and_connects_or_says_and_hangs_up(stack: Stack, tmp_path: Path) -> None:
    tenant = stack.demo.tenant_id
    api = f"{stack.api}/api/v1/tenants/{tenant}"
    async with httpx.AsyncClient(headers=stack.admin, timeout=20) as http:
        # The office administrator saves the flow and publishes it (the flows' REST API).
        saved = await http.post(f"{api}/flows", json={"friendly_name": "Sales or hours", "definition": ivr()})
        assert saved.status_code == 201, saved.text
        flow_id = uuid.UUID(saved.json()["id"])
        published = await http.post(f"{api}/flows/{flow_id}/publish")
        assert published.status_code == 200, published.text
        made = await http.post(  # a developer's resource (Resource.CPAAS): the operator makes it here
            f"{api}/cpaas/applications",
            json={"friendly_name": "IVR flow", "flow_id": str(flow_id)},
            headers={"Authorization": f"Bearer {stack.demo.operator_token}"},
        )
        assert made.status_code == 201, made.text
        app = made.json()
        assert app["flow_id"] == str(flow_id) and app["voice_url"] is None
        routed = await http.put(
            f"{api}/numbers/{number_id(stack)}/routing", json={"target_type": "app", "target_id": app["id"]}
        )
        assert routed.status_code == 200, routed.text

    carrier = free_udp_port()
    route_carrier(stack, carrier)
    b = free_udp_port()
    await stack.switch.register("1002", b)

    # Call 1: '1' → connect to 1002, which answers and hangs up after 2.5 s; then the flow ends.
    callee = asyncio.create_task(
        stack.switch.sipp(hanging_up_callee(tmp_path, 2500), "1002", port=b, client=False, timeout_s=30)
    )
    await asyncio.sleep(0.3)
    pcap = RtpScript().tone(0.0, 1.4, 440.0, -40.0).digits(1.5, "1").tone(2.5, 4.0, 1000.0)
    caller = await stack.switch.sipp(
        carrier_caller(tmp_path, pcap.write(tmp_path / "one.pcap"), "one.xml"),
        CALLER,
        port=carrier,
        callee=OUR_NUMBER,
        timeout_s=30,
    )
    assert caller.returncode == 0, caller.output[-3000:]  # it got our BYE: the flow hung up
    done = await callee
    assert done.returncode == 0, done.output[-3000:]

    [first] = await _wait_ended(stack, flow_id, 1)
    assert [(state, kind, event) for state, kind, event, _ in first] == [
        ("Trigger", "trigger", "incomingCall"),
        ("gather_1", "gather-input-on-call", "keypress"),
        ("split_1", "split-based-on", "match"),
        ("connect_sales", "connect-call-to", "callCompleted"),
    ]
    assert first[1][3]["Digits"] == "1"
    dialled = first[3][3]
    assert dialled["DialCallStatus"] == "completed" and dialled["DialCallDuration"] >= 2, dialled
    assert str(dialled["DialCallSid"]).startswith("CA")
    legs = [e for e in stack.switch.ended if e.to == "1002"]
    assert legs and legs[-1].disposition == "answered"

    # Call 2, the number pointed at the flow Twilio's way: unrouted, then its VoiceUrl set to the
    # flow's Studio webhook (which makes a new application with that voice URL).
    async with httpx.AsyncClient(headers=stack.admin, timeout=20) as http:
        unrouted = await http.put(f"{api}/numbers/{number_id(stack)}/routing", json={"target_type": None})
        assert unrouted.status_code == 200, unrouted.text
    client = stack.twilio()
    [pn] = await stack.off_loop(client.incoming_phone_numbers.list, phone_number=OUR_NUMBER)
    studio = f"https://webhooks.twilio.com/v1/Accounts/{stack.demo.account_sid}/Flows/{sid_of('FW', flow_id)}"
    await stack.off_loop(client.incoming_phone_numbers(pn.sid).update, voice_url=studio)
    pcap = RtpScript().tone(0.0, 1.4, 440.0, -40.0).digits(1.5, "2").tone(2.5, 1.0, 440.0, -40.0)
    caller = await stack.switch.sipp(
        carrier_caller(tmp_path, pcap.write(tmp_path / "two.pcap"), "two.xml"),
        CALLER,
        port=carrier,
        callee=OUR_NUMBER,
        timeout_s=30,
    )
    assert caller.returncode == 0, caller.output[-3000:]  # the flow said the hours and hung up

    runs = await _wait_ended(stack, flow_id, 2)
    assert len(runs) == 2, runs
    second = runs[1]
    assert [(state, kind, event) for state, kind, event, _ in second] == [
        ("Trigger", "trigger", "incomingCall"),
        ("gather_1", "gather-input-on-call", "keypress"),
        ("split_1", "split-based-on", "noMatch"),
        ("hours", "say-play", "audioComplete"),
    ]
    assert second[1][3]["Digits"] == "2"
    assert not [e for e in stack.switch.ended if e.to == "1002"][1:]  # 1002 was not rung again

    # The step logs as the flows' REST API gives them: every widget, its event, where it went.
    async with httpx.AsyncClient(headers=stack.admin, timeout=20) as http:
        listed = (await http.get(f"{api}/flows/{flow_id}/executions")).json()["items"]
        assert {e["status"] for e in listed} == {"ended"} and len(listed) == 2, listed
        logs = []
        for e in sorted(listed, key=lambda e: e["date_created"]):
            got = await http.get(f"{api}/flows/{flow_id}/executions/{e['sid']}/steps")
            assert got.status_code == 200, got.text
            logs.append([(st["state"], st["event"], st["next"]) for st in got.json()["items"]])
    assert logs == [
        [
            ("Trigger", "incomingCall", "gather_1"),
            ("gather_1", "keypress", "split_1"),
            ("split_1", "match", "connect_sales"),
            ("connect_sales", "callCompleted", None),
        ],
        [
            ("Trigger", "incomingCall", "gather_1"),
            ("gather_1", "keypress", "split_1"),
            ("split_1", "noMatch", "hours"),
            ("hours", "audioComplete", None),
        ],
    ]

    # The calls' rows: each call ran through the application the number pointed at.
    with stack.switch.sessions() as s:
        calls = s.scalars(
            select(CpaasCall).where(CpaasCall.direction == "inbound").order_by(CpaasCall.start_time)
        ).all()
        child = s.scalar(select(CpaasCall).where(CpaasCall.direction == "outbound-dial"))
        apps = s.scalars(select(Application)).all()
    assert [(c.from_number, c.to_number, c.status) for c in calls] == [(CALLER, OUR_NUMBER, "completed")] * 2
    assert child is not None and (child.sid, child.parent_call_sid) == (dialled["DialCallSid"], calls[0].sid)
    assert [(a.voice_url, a.flow_id) for a in apps if a.id == calls[1].application_id] == [(studio, None)]
