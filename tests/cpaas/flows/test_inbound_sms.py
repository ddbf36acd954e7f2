"""An inbound SMS through the SMSC simulator starts the flow its number points at; the flow's
send-and-wait-for-reply asks over SMPP, the handset's reply (again through the simulator) resumes
it, a split on the reply picks the answer sent back (issue 20 §1 must-show). The number's SMS URL
is not called: the flow took the messages."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import flows_url, state
from tests.cpaas.messaging.conftest import AppServer, Carrier, register_10dlc

HANDSET = "+16175554321"


def appointment_flow() -> dict[str, Any]:
    return {
        "description": "Appointment confirmation",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            state(
                "Trigger",
                "trigger",
                [{"event": "incomingMessage", "next": "ask"}, {"event": "incomingRequest"}],
                0,
                0,
            ),
            state(
                "ask",
                "send-and-wait-for-reply",
                [
                    {"event": "incomingMessage", "next": "check"},
                    {"event": "timeout"},
                    {"event": "deliveryFailure"},
                ],
                0,
                200,
                body="You wrote {{trigger.message.Body}}. Reply YES to confirm 9:00 tomorrow.",
                timeout="120",
            ),
            state(
                "check",
                "split-based-on",
                [
                    {"event": "noMatch", "next": "cancelled"},
                    {
                        "event": "match",
                        "next": "confirmed",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": ["{{widgets.ask.inbound.Body}}"],
                                "type": "matches_any_of",
                                "value": "yes,sure,ok",
                            }
                        ],
                    },
                ],
                0,
                400,
                input="{{widgets.ask.inbound.Body}}",
            ),
            state(
                "confirmed",
                "send-message",
                [{"event": "sent"}, {"event": "failed"}],
                -200,
                600,
                body="Confirmed for {{contact.channel.address}}, see you at 9.",
            ),
            state(
                "cancelled",
                "send-message",
                [{"event": "sent"}, {"event": "failed"}],
                200,
                600,
                body="OK, not booked.",
            ),
        ],
    }


def test_an_inbound_sms_runs_send_and_wait_for_reply_end_to_end(
    live_api: LiveApi, carrier: Carrier, app_server: AppServer
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    tenant = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}"
    r = httpx.put(
        f"{tenant}/sms-numbers/{number}",
        json={"sms_url": app_server.base + "/sms"},
        headers=live_api.operator,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    url = flows_url(live_api)
    flow = httpx.post(f"{url}/import", json=appointment_flow(), headers=live_api.admin, timeout=30).json()
    assert httpx.post(f"{url}/{flow['sid']}/publish", headers=live_api.admin, timeout=30).status_code == 200
    r = httpx.put(
        f"{url}/{flow['sid']}/numbers", json={"numbers": [number]}, headers=live_api.admin, timeout=30
    )
    assert r.status_code == 200 and r.json() == {"numbers": [number]}, r.text

    carrier.sim.inject_mo(HANDSET, number, "book")
    (question,) = carrier.sim.wait_for(1)
    assert question.destination_addr == HANDSET.lstrip("+") and question.source_addr == number.lstrip("+")
    assert question.short_message.decode() == "You wrote book. Reply YES to confirm 9:00 tomorrow."

    executions = httpx.get(f"{url}/{flow['sid']}/executions", headers=live_api.admin, timeout=30).json()[
        "items"
    ]
    (execution,) = executions
    assert execution["status"] == "active" and execution["current_state"] in ("Trigger", "ask", "wait:ask")
    assert execution["channel"] == "message" and execution["contact_address"] == HANDSET

    carrier.sim.inject_mo(HANDSET, number, "Sure")  # not YES: a CTIA opt-in keyword, answered too
    deadline = time.monotonic() + 30
    while len(carrier.sim.wait_for(2, timeout=1)) < 2:
        assert time.monotonic() < deadline, "no answer to the reply"
    answer = carrier.sim.wait_for(2)[1]
    assert answer.short_message.decode() == f"Confirmed for {HANDSET}, see you at 9."

    deadline = time.monotonic() + 30
    while True:
        done = httpx.get(
            f"{url}/{flow['sid']}/executions/{execution['sid']}", headers=live_api.admin, timeout=30
        ).json()
        if done["status"] != "active":
            break
        assert time.monotonic() < deadline, done
        time.sleep(0.1)
    assert done["status"] == "ended", done
    steps = httpx.get(
        f"{url}/{flow['sid']}/executions/{execution['sid']}/steps", headers=live_api.admin, timeout=30
    ).json()["items"]
    assert [(s["state"], s["event"]) for s in steps] == [
        ("Trigger", "incomingMessage"),
        ("ask", "incomingMessage"),
        ("check", "match"),
        ("confirmed", "sent"),
    ]
    assert (
        steps[1]["outputs"]["inbound"]["Body"] == "Sure" and steps[1]["outputs"]["inbound"]["From"] == HANDSET
    )
    assert steps[1]["outputs"]["outbound"]["sid"].startswith("SM")
    assert len(carrier.sim.submissions) == 2 and app_server.hits == []  # the flow took both messages
