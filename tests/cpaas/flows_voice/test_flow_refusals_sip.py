"""What a flow on a call refuses, seen from a SIPp phone of the tenant.

- cpaas.txt §2.4.4: a flow never dials 911 or 933. connect-call-to to 911 (rendered from a Liquid
  template, so a lint could not see it) is refused: the call's log (cpaas_call_notices) and the
  step's ``error`` output say why, DialCallStatus is failed, the flow goes on along callCompleted
  (it says sorry and hangs up), and no leg to 911 exists in the switch.
- An extension pointed at a flow without a published revision: the INVITE is refused 480 before
  answer, with the reason in the call's log; no execution is started.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from centrex.cpaas.flows import store
from centrex.store.db import transaction
from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice
from centrex.store.models.flows import FlowExecution
from tests.apps.pcap import RtpScript
from tests.interop.conftest import free_udp_port

from .conftest import Stack, flow_extension, phone_caller, publish_flow, refused_caller, steps_of, tenant_of

pytestmark = pytest.mark.interop


def emergency_flow() -> dict[str, Any]:
    return {
        "description": "dials what it is told",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"event": "incomingCall", "next": "set_target"}],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "set_target",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "connect_1"}],
                "properties": {
                    "variables": [{"key": "target", "value": "9{{ '11' }}"}],
                    "offset": {"x": 0, "y": 100},
                },
            },
            {
                "name": "connect_1",
                "type": "connect-call-to",
                "transitions": [{"event": "callCompleted", "next": "sorry"}, {"event": "hangup"}],
                "properties": {
                    "noun": "number",
                    "to": "{{flow.variables.target}}",
                    "offset": {"x": 0, "y": 200},
                },
            },
            {
                "name": "sorry",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {"say": "That call cannot be made. Goodbye.", "offset": {"x": 0, "y": 300}},
            },
        ],
    }


async def test_a_flow_never_dials_911_and_says_why(stack: Stack, tmp_path: Path) -> None:
    flow_id = publish_flow(stack, "emergency", emergency_flow())
    flow_extension(stack, flow_id, "6110")
    a = free_udp_port()
    await stack.switch.register("1001", a)
    pcap = RtpScript().tone(0.0, 2.0, 440.0, -40.0).write(tmp_path / "quiet.pcap")
    caller = await stack.switch.sipp(
        phone_caller(tmp_path, pcap), "1001", port=a, callee="6110", timeout_s=25
    )
    assert caller.returncode == 0, caller.output[-3000:]  # the flow said sorry and hung up
    for _ in range(50):
        runs = steps_of(stack, flow_id)
        if runs and len(runs[-1]) == 4:
            break
        await asyncio.sleep(0.1)
    [run] = runs
    assert [(state, event) for state, _, event, _ in run] == [
        ("Trigger", "incomingCall"),
        ("set_target", "next"),
        ("connect_1", "callCompleted"),
        ("sorry", "audioComplete"),
    ]
    refused = run[2][3]
    assert refused["DialCallStatus"] == "failed"
    assert "911" in refused["error"] and "cpaas.txt §2.4.4" in refused["error"], refused
    with stack.switch.sessions() as s:
        notes = s.scalars(select(CpaasCallNotice.message)).all()
    assert any("911" in n and "a flow never dials" in n and "cpaas.txt §2.4.4" in n for n in notes), notes
    assert not any(leg.extension in ("911", "933") for cdr in stack.switch.ended for leg in cdr.legs)
    assert not any(cdr.to in ("911", "933") for cdr in stack.switch.ended)


async def test_an_unpublished_flow_refuses_the_call_480(stack: Stack, tmp_path: Path) -> None:
    with transaction(stack.switch.sessions) as s:
        flow_id = store.create_flow(s, tenant_of(stack), "draft only").id  # never published
    flow_extension(stack, flow_id, "6111")
    a = free_udp_port()
    await stack.switch.register("1001", a)
    result = await stack.switch.sipp(
        refused_caller(tmp_path, 480), "1001", port=a, callee="6111", timeout_s=15
    )
    assert result.returncode == 0, result.output[-3000:]
    with stack.switch.sessions() as s:
        call = s.scalar(select(CpaasCall))
        notes = s.scalars(select(CpaasCallNotice.message)).all()
        executions = s.scalars(select(FlowExecution)).all()
    assert call is not None and call.status == "failed"
    assert any("no published revision" in n for n in notes), notes
    assert executions == []
