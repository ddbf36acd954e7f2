"""A flow whose ``flags.allow_concurrent_calls`` is false, called twice by the same SIPp phone.

While the phone's first call is in the flow (a gather waiting for a digit), its second call to the
flow is refused **486 Busy Here** before answer: the call's log (cpaas_call_notices) says why, with
Twilio's Studio warning 81002, the call's status is ``busy``, and no second execution starts. Once
the first call's flow has ended, the phone's next call runs the flow again.

The execution is written before answer, so a call the caller gives up on before the answer must end
it, or the caller could never reach the flow again: the phone CANCELs while the app server is still
writing it (its INSERT held back 2 s), and the execution ends with the call (no-answer).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice
from centrex.store.models.flows import FlowExecution
from tests.apps.pcap import RtpScript
from tests.interop.conftest import SCENARIOS, free_udp_port

from .conftest import Stack, flow_extension, phone_caller, publish_flow, refused_caller

pytestmark = pytest.mark.interop


def one_caller_at_a_time() -> dict[str, Any]:
    return {
        "description": "one call per caller",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": False},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"event": "incomingCall", "next": "gather_1"}],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "gather_1",
                "type": "gather-input-on-call",
                "transitions": [{"event": "keypress"}, {"event": "timeout"}],
                "properties": {
                    "say": "Hold on.",
                    "number_of_digits": 1,
                    "timeout": 5,
                    "offset": {"x": 0, "y": 200},
                },
            },
        ],
    }


def _executions(stack: Stack, flow_id: uuid.UUID) -> list[FlowExecution]:
    with stack.switch.sessions() as s:
        return list(
            s.scalars(
                select(FlowExecution)
                .where(FlowExecution.flow_id == flow_id)
                .order_by(FlowExecution.created_at)
            )
        )


async def test_a_second_call_of_the_caller_is_busy_while_the_first_is_in_the_flow(
    stack: Stack, tmp_path: Path
) -> None:
    flow_id = publish_flow(stack, "one call per caller", one_caller_at_a_time())
    flow_extension(stack, flow_id, "6113")
    a, b = free_udp_port(), free_udp_port()
    await stack.switch.register("1001", a)
    pcap = RtpScript().tone(0.0, 1.0, 440.0, -40.0).write(tmp_path / "quiet.pcap")

    first = asyncio.ensure_future(
        stack.switch.sipp(phone_caller(tmp_path, pcap), "1001", port=a, callee="6113", timeout_s=30)
    )
    for _ in range(100):  # the first call is answered and in the flow (its trigger step is logged)
        runs = _executions(stack, flow_id)
        if runs and runs[0].steps >= 1:
            break
        await asyncio.sleep(0.1)
    assert [(r.status, r.contact_address) for r in runs] == [("active", "1001")]

    busy = await stack.switch.sipp(refused_caller(tmp_path, 486), "1001", port=b, callee="6113", timeout_s=15)
    assert busy.returncode == 0, busy.output[-3000:]
    done = await first
    assert done.returncode == 0, done.output[-3000:]  # the first call's flow went on and hung up

    with stack.switch.sessions() as s:
        calls = s.scalars(select(CpaasCall).order_by(CpaasCall.created_at)).all()
        notes = s.scalars(select(CpaasCallNotice)).all()
    assert [c.status for c in calls] == ["completed", "busy"]
    [note] = [n for n in notes if n.call_id == calls[1].id]
    assert note.code == 81002 and note.level == "warning"
    assert "refused 486" in note.message and "1001 already has an active execution" in note.message
    assert "allow_concurrent_calls is false" in note.message
    for _ in range(50):
        runs = _executions(stack, flow_id)
        if runs[0].status != "active":
            break
        await asyncio.sleep(0.1)
    assert [r.status for r in runs] == ["ended"]

    again = await stack.switch.sipp(
        phone_caller(tmp_path, pcap, "phone_again.xml"), "1001", port=a, callee="6113", timeout_s=30
    )
    assert again.returncode == 0, again.output[-3000:]
    for _ in range(50):
        runs = _executions(stack, flow_id)
        if len(runs) == 2 and runs[1].status != "active":
            break
        await asyncio.sleep(0.1)
    assert [(r.status, r.contact_address) for r in runs] == [("ended", "1001"), ("ended", "1001")]


async def test_a_call_cancelled_before_answer_ends_its_execution(stack: Stack, tmp_path: Path) -> None:
    flow_id = publish_flow(stack, "one call per caller", one_caller_at_a_time())
    flow_extension(stack, flow_id, "6114")
    a = free_udp_port()
    await stack.switch.register("1001", a)
    engine = stack.switch.sessions.kw["bind"]
    assert isinstance(engine, Engine)

    def slow_insert(*args: Any) -> None:  # the app server's worker thread, not the loop
        if str(args[2]).lstrip().upper().startswith("INSERT INTO FLOW_EXECUTIONS"):
            time.sleep(2.0)

    event.listen(engine, "before_cursor_execute", slow_insert)
    try:
        # No 180 comes (the app server rings nobody): wait for the 100 Trying, then CANCEL.
        text = (SCENARIOS / "uac_cancel.xml").read_text()
        text = text.replace(
            '<recv response="100" optional="true"/>\n  <recv response="180"/>', '<recv response="100"/>'
        )
        scenario = tmp_path / "cancel.xml"
        scenario.write_text(text.replace('<pause milliseconds="300"/>', '<pause milliseconds="500"/>'))
        result = await stack.switch.sipp(str(scenario), "1001", port=a, callee="6114", timeout_s=15)
        assert result.returncode == 0, result.output[-3000:]
        for _ in range(100):
            runs = _executions(stack, flow_id)
            if runs and runs[0].status != "active":
                break
            await asyncio.sleep(0.1)
    finally:
        event.remove(engine, "before_cursor_execute", slow_insert)
    assert [(r.status, r.contact_address, r.steps) for r in runs] == [("ended", "1001", 0)]
    with stack.switch.sessions() as s:
        call = s.scalar(select(CpaasCall))
    assert call is not None and call.status == "no-answer" and call.answer_time is None
