"""A Studio flow JSON imported through the API runs: a REST-started execution goes through
set-variables, a make-http-request to a real local REST service, a split on its JSON answer; every
step is in the execution log; the export gives back the offsets imported (issue 20 §1)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import RestService, flows_url, state, wait_execution


def studio_flow(service: str) -> dict[str, Any]:
    """As Studio exports it (its keys, its Liquid, its offsets)."""
    return {
        "description": "Order status",
        "states": [
            state(
                "Trigger",
                "trigger",
                [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"next": "set_order", "event": "incomingRequest"},
                ],
                0,
                0,
            ),
            state(
                "set_order",
                "set-variables",
                [{"next": "lookup", "event": "next"}],
                250,
                180,
                variables=[{"value": "{{flow.data.order | upcase}}", "key": "order"}],
            ),
            state(
                "lookup",
                "make-http-request",
                [{"next": "by_status", "event": "success"}, {"next": "apology", "event": "failed"}],
                250,
                400,
                method="POST",
                content_type="application/json;charset=utf-8",
                url=service + "/orders",
                body='{"order": "{{flow.variables.order}}", "to": "{{contact.channel.address}}"}',
            ),
            state(
                "by_status",
                "split-based-on",
                [
                    {"next": "apology", "event": "noMatch"},
                    {
                        "next": "shipped",
                        "event": "match",
                        "conditions": [
                            {
                                "friendly_name": "If value equal_to shipped",
                                "arguments": ["{{widgets.lookup.parsed.status}}"],
                                "type": "equal_to",
                                "value": "Shipped",
                            }
                        ],
                    },
                ],
                250,
                620,
                input="{{widgets.lookup.parsed.status}}",
            ),
            state(
                "shipped",
                "set-variables",
                [{"event": "next"}],
                100,
                850,
                variables=[
                    {
                        "value": "order {{flow.variables.order}} left on {{widgets.lookup.parsed.date}}",
                        "key": "answer",
                    }
                ],
            ),
            state(
                "apology",
                "set-variables",
                [{"event": "next"}],
                450,
                850,
                variables=[{"value": "sorry", "key": "answer"}],
            ),
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def test_a_studio_import_runs_through_split_variables_and_an_http_request(
    live_api: LiveApi, rest_service: RestService
) -> None:
    rest_service.answer["/orders"] = {"status": "shipped", "date": "2026-12-01"}
    studio = studio_flow(rest_service.base)
    url = flows_url(live_api)
    r = httpx.post(
        f"{url}/import",
        json={**copy.deepcopy(studio), "friendly_name": "Orders"},
        headers=live_api.admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    flow = r.json()
    assert flow["sid"].startswith("FW") and flow["friendly_name"] == "Orders"
    assert flow["draft"]["warnings"] == [] and flow["published"] is None

    exported = httpx.get(f"{url}/{flow['sid']}/export", headers=live_api.admin, timeout=30)
    assert exported.status_code == 200
    assert exported.json() == studio  # offsets, key order aside, as imported
    assert [s["properties"]["offset"] for s in exported.json()["states"]][2] == {"x": 250, "y": 400}

    not_yet = httpx.post(
        f"{url}/{flow['sid']}/executions",
        json={"to": "+16175550111", "from": "+16175550100"},
        headers=live_api.admin,
        timeout=30,
    )
    assert not_yet.status_code == 409 and "publish" in not_yet.json()["message"]
    assert httpx.post(f"{url}/{flow['sid']}/publish", headers=live_api.admin, timeout=30).json() == {
        "revision": 1
    }

    started = httpx.post(
        f"{url}/{flow['sid']}/executions",
        json={"to": "+16175550111", "from": "+16175550100", "parameters": {"order": "ab12"}},
        headers=live_api.admin,
        timeout=30,
    )
    assert started.status_code == 201, started.text
    execution = wait_execution(live_api, flow["sid"], started.json()["sid"])
    assert execution["status"] == "ended", execution
    assert execution["context"]["flow"]["variables"] == {
        "order": "AB12",
        "answer": "order AB12 left on 2026-12-01",
    }

    (hit,) = rest_service.hits
    assert hit.method == "POST" and hit.path == "/orders"
    assert json.loads(hit.body) == {"order": "AB12", "to": "+16175550111"}

    steps = httpx.get(
        f"{url}/{flow['sid']}/executions/{execution['sid']}/steps", headers=live_api.admin, timeout=30
    ).json()["items"]
    assert [(s["state"], s["event"], s["next"]) for s in steps] == [
        ("Trigger", "incomingRequest", "set_order"),
        ("set_order", "next", "lookup"),
        ("lookup", "success", "by_status"),
        ("by_status", "match", "shipped"),
        ("shipped", "next", None),
    ]
    assert steps[2]["outputs"]["status_code"] == 200 and steps[2]["outputs"]["parsed"]["status"] == "shipped"


def test_a_failing_service_takes_the_failed_transition(live_api: LiveApi, rest_service: RestService) -> None:
    rest_service.status = 503
    url = flows_url(live_api)
    flow = httpx.post(
        f"{url}/import", json=studio_flow(rest_service.base), headers=live_api.admin, timeout=30
    ).json()
    assert flow["friendly_name"] == "Order status"  # the description names an import without a name
    httpx.post(f"{url}/{flow['sid']}/publish", headers=live_api.admin, timeout=30).raise_for_status()
    started = httpx.post(
        f"{url}/{flow['sid']}/executions",
        json={"to": "+16175550111", "from": "+16175550100"},
        headers=live_api.admin,
        timeout=30,
    )
    execution = wait_execution(live_api, flow["sid"], started.json()["sid"])
    assert execution["status"] == "ended"
    assert execution["context"]["flow"]["variables"]["answer"] == "sorry"
    assert execution["context"]["widgets"]["lookup"]["status_code"] == 503
