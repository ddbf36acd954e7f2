"""A send-and-wait-for-reply outlives the process that asked (the wait is parked in the store,
cpaas/flows/waits.py): the flow engine is stopped while it waits — as a restart or a node's death
would — and a new engine takes the handset's reply up through the SMSC simulator: the flow goes on
from the waiting state without asking again, its step log continues, and it ends. A wait whose
deadline passes while nobody holds it takes the timeout transition when the service starts."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from centrex.cpaas.flows import engine as flows_engine
from centrex.cpaas.flows import waits
from centrex.cpaas.flows.engine import FlowEngine, engine_for
from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import flows_url
from tests.cpaas.flows.test_inbound_sms import HANDSET, appointment_flow
from tests.cpaas.messaging.conftest import Carrier, register_10dlc


def _publish(live_api: LiveApi, definition: dict[str, Any]) -> tuple[str, str]:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    url = flows_url(live_api)
    flow = httpx.post(f"{url}/import", json=definition, headers=live_api.admin, timeout=30).json()
    assert httpx.post(f"{url}/{flow['sid']}/publish", headers=live_api.admin, timeout=30).status_code == 200
    r = httpx.put(
        f"{url}/{flow['sid']}/numbers", json={"numbers": [number]}, headers=live_api.admin, timeout=30
    )
    assert r.status_code == 200, r.text
    return number, f"{url}/{flow['sid']}"


def _execution(live_api: LiveApi, flow_url: str, want: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        items = httpx.get(f"{flow_url}/executions", headers=live_api.admin, timeout=30).json()["items"]
        if items and (
            items[0]["status"] == want or (want == "parked" and items[0]["current_state"] == "wait:ask")
        ):
            return dict(items[0])
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def _restart(live_api: LiveApi) -> FlowEngine:
    """The engine that asked is gone (its loop stopped, its walk cancelled); a new one serves."""
    sessions = live_api.app.state.sessionmaker
    engine_for(sessions).stop()
    fresh = FlowEngine(sessions)
    with flows_engine._engines_lock:
        flows_engine._engines[sessions] = fresh
    return fresh


def test_a_reply_after_a_restart_resumes_the_waiting_flow(live_api: LiveApi, carrier: Carrier) -> None:
    number, flow_url = _publish(live_api, appointment_flow())
    carrier.sim.inject_mo(HANDSET, number, "book")
    (question,) = carrier.sim.wait_for(1)
    parked = _execution(live_api, flow_url, "parked")
    assert parked["status"] == "active"

    _restart(live_api)
    carrier.sim.inject_mo(HANDSET, number, "Sure")
    deadline = time.monotonic() + 30
    while len(carrier.sim.wait_for(2, timeout=1)) < 2:
        assert time.monotonic() < deadline, "the reply after the restart was not taken up"
    answer = carrier.sim.wait_for(2)[1]
    assert answer.short_message.decode() == f"Confirmed for {HANDSET}, see you at 9."
    done = _execution(live_api, flow_url, "ended")
    steps = httpx.get(
        f"{flow_url}/executions/{done['sid']}/steps", headers=live_api.admin, timeout=30
    ).json()["items"]
    assert [(s["state"], s["event"]) for s in steps] == [
        ("Trigger", "incomingMessage"),
        ("ask", "incomingMessage"),
        ("check", "match"),
        ("confirmed", "sent"),
    ]
    assert steps[1]["outputs"]["inbound"]["Body"] == "Sure"
    assert steps[1]["outputs"]["outbound"]["body"] == question.short_message.decode()  # asked once
    assert len(carrier.sim.submissions) == 2


def test_a_wait_whose_deadline_passed_while_down_takes_the_timeout(
    live_api: LiveApi, carrier: Carrier
) -> None:
    definition = appointment_flow()
    ask = next(s for s in definition["states"] if s["name"] == "ask")
    ask["properties"]["timeout"] = "2"
    ask["transitions"][1]["next"] = "cancelled"  # timeout → "OK, not booked."
    number, flow_url = _publish(live_api, definition)
    carrier.sim.inject_mo(HANDSET, number, "book")
    carrier.sim.wait_for(1)
    _execution(live_api, flow_url, "parked")

    fresh = _restart(live_api)
    time.sleep(2.5)  # the deadline passes while no process holds the wait
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(waits.resume_timeouts(fresh))
        loop.run_until_complete(asyncio.gather(*fresh.timeouts))
    finally:
        loop.close()
    done = _execution(live_api, flow_url, "ended")
    steps = httpx.get(
        f"{flow_url}/executions/{done['sid']}/steps", headers=live_api.admin, timeout=30
    ).json()["items"]
    assert [(s["state"], s["event"]) for s in steps] == [
        ("Trigger", "incomingMessage"),
        ("ask", "timeout"),
        ("cancelled", "sent"),
    ]
    assert carrier.sim.wait_for(2)[1].short_message.decode() == "OK, not booked."
    # Taken up once: another process's claim finds nothing left to take.
    tenant_id = uuid.UUID(str(live_api.demo.tenant_id))
    assert not waits.claim(live_api.app.state.sessionmaker, tenant_id, uuid.UUID(done["id"]), "ask")
