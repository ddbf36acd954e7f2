"""record-voicemail and enqueue-call on SIPp calls to an extension pointed at a flow.

Press 2 (anything but 1): record-voicemail beeps, records the caller's tone until 2 s of silence,
the recording is stored (its RE… sid, URL and duration in the step's outputs, its WAV on disk) and a
say-play reads its duration back before the flow hangs up. Press 1: enqueue-call hands the caller
to the tenant's queue "support" (REFER), whose logged-in agent 1002 (SIPp) answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from centrex.store.db import transaction
from centrex.store.models import User
from centrex.store.models.cpaas_voice import CpaasRecording
from centrex.store.models.queues import CallQueue, QueueAgent
from tests.apps.pcap import RtpScript
from tests.interop.conftest import free_udp_port
from tests.interop.test_interop_trunks import use_store_routes
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import Stack, flow_extension, phone_caller, publish_flow, steps_of, tenant_of

pytestmark = pytest.mark.interop


def _state(name: str, kind: str, transitions: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": props | {"offset": {"x": 0, "y": 0}},
    }


def flow() -> dict[str, Any]:
    return {
        "description": "queue or voicemail",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            _state("Trigger", "trigger", [{"event": "incomingCall", "next": "menu"}]),
            _state(
                "menu",
                "gather-input-on-call",
                [{"event": "keypress", "next": "choice"}, {"event": "timeout", "next": "voicemail"}],
                say="Press one for an agent, or two to leave a message.",
                number_of_digits=1,
                timeout=5,
            ),
            _state(
                "choice",
                "split-based-on",
                [
                    {"event": "noMatch", "next": "voicemail"},
                    {
                        "event": "match",
                        "next": "queue",
                        "conditions": [
                            {
                                "friendly_name": "1",
                                "arguments": ["{{widgets.menu.Digits}}"],
                                "type": "equal_to",
                                "value": "1",
                            }
                        ],
                    },
                ],
                input="{{widgets.menu.Digits}}",
            ),
            _state(
                "queue",
                "enqueue-call",
                [
                    {"event": "callComplete"},
                    {"event": "failedToEnqueue", "next": "voicemail"},
                    {"event": "callFailure"},
                ],
                queue_name="support",
            ),
            _state(
                "voicemail",
                "record-voicemail",
                [{"event": "recordingComplete", "next": "thanks"}, {"event": "noAudio"}, {"event": "hangup"}],
                timeout=2,
                max_length=20,
                play_beep="true",
                finish_on_key="#",
            ),
            _state(
                "thanks",
                "say-play",
                [{"event": "audioComplete"}],
                say="Your {{widgets.voicemail.RecordingDuration}} second message was recorded. Goodbye.",
            ),
        ],
    }


async def test_voicemail_then_queue(stack: Stack, tmp_path: Path) -> None:
    flow_id = publish_flow(stack, "queue or voicemail", flow())
    flow_extension(stack, flow_id, "6120")
    use_store_routes(stack.switch)
    with transaction(stack.switch.sessions) as s:
        agent = s.scalar(select(User.id).where(User.extension == "1002"))
        queue = CallQueue(tenant_id=tenant_of(stack), name="support", extension="7040")
        s.add(queue)
        s.flush()
        s.add(QueueAgent(tenant_id=queue.tenant_id, queue_id=queue.id, user_id=agent, logged_in=True))
    a, b = free_udp_port(), free_udp_port()
    await stack.switch.register("1001", a)
    await stack.switch.register("1002", b)

    # '2' at 1 s; the beep comes at once, then 3 s of tone, then silence ends the recording.
    pcap = RtpScript().tone(0.0, 0.9, 440.0, -40.0).digits(1.0, "2").tone(2.0, 3.0, 1000.0)
    caller = await stack.switch.sipp(
        phone_caller(tmp_path, pcap.write(tmp_path / "vm.pcap"), "vm.xml"),
        "1001",
        port=a,
        callee="6120",
        timeout_s=30,
    )
    assert caller.returncode == 0, caller.output[-3000:]  # the flow thanked and hung up
    for _ in range(50):
        runs = steps_of(stack, flow_id)
        if runs and runs[-1] and runs[-1][-1][0] == "thanks":
            break
        await asyncio.sleep(0.1)
    [run] = runs
    assert [(state, event) for state, _, event, _ in run] == [
        ("Trigger", "incomingCall"),
        ("menu", "keypress"),
        ("choice", "noMatch"),
        ("voicemail", "recordingComplete"),
        ("thanks", "audioComplete"),
    ]
    took = run[3][3]
    assert str(took["RecordingSid"]).startswith("RE") and took["RecordingDuration"] >= 2, took
    assert took["RecordingUrl"].endswith(f"/Recordings/{took['RecordingSid']}")
    with stack.switch.sessions() as s:
        rec = s.scalar(select(CpaasRecording).where(CpaasRecording.sid == took["RecordingSid"]))
    assert rec is not None and rec.status == "completed" and rec.size_bytes > 16000

    # '1': the queue's agent answers; the caller hangs up 4 s after answer.
    agent_call = asyncio.create_task(
        stack.switch.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    pcap = RtpScript().tone(0.0, 0.9, 440.0, -40.0).digits(1.0, "1").tone(2.0, 3.0, 1000.0)
    caller = await stack.switch.sipp(
        str(caller_scenario(tmp_path, pcap.write(tmp_path / "q.pcap"), 6000)),
        "1001",
        port=a,
        callee="6120",
        timeout_s=25,
    )
    assert caller.returncode == 0, caller.output[-3000:]
    done = await agent_call
    assert done.returncode == 0, done.output[-3000:]
    for _ in range(50):
        runs = steps_of(stack, flow_id)
        if len(runs) == 2 and runs[-1] and runs[-1][-1][0] == "queue":
            break
        await asyncio.sleep(0.1)
    assert [(state, event) for state, _, event, _ in runs[1]] == [
        ("Trigger", "incomingCall"),
        ("menu", "keypress"),
        ("choice", "match"),
        ("queue", "callComplete"),
    ]
    assert runs[1][3][3] == {"QueueResult": "enqueued"}
    cdr = stack.switch.ended[-1]
    assert cdr.disposition == "answered" and cdr.legs[-1].extension == "1002"
