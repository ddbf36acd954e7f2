"""Ending an execution by the API (Studio's ``POST /v2/Flows/{FlowSid}/Executions/{Sid}`` with
``Status=ended``): what frees a contact of a flow that does not allow concurrent calls.

The flow keeps its execution active on a make-http-request to a loopback service that answers when
the test lets it; ending the execution stops that walk at once, so when the service answers later
nothing more is logged and the execution stays as the API left it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from centrex.cpaas.flows import store, waits
from centrex.cpaas.flows.engine import engine_for
from centrex.store.credentials import new_token
from centrex.store.db import transaction
from centrex.store.models import ApiToken, Tenant, TokenKind
from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import RestService, flows_url
from tests.cpaas.flows.test_concurrent_calls import ALICE, OURS, _published, _start, held_flow


def _end(live_api: LiveApi, flow: str, execution: str, body: Any, headers: Any = None) -> httpx.Response:
    return httpx.post(
        f"{flows_url(live_api)}/{flow}/executions/{execution}",
        json=body,
        headers=headers or live_api.admin,
        timeout=30,
    )


def _get(live_api: LiveApi, path: str) -> dict[str, Any]:
    r = httpx.get(f"{flows_url(live_api)}/{path}", headers=live_api.admin, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _other_tenant_headers(live_api: LiveApi) -> tuple[str, dict[str, str]]:
    made = new_token()
    with transaction(live_api.app.state.sessionmaker) as s:
        other = Tenant(name="Other Co", sip_domain="other.end-execution.example")
        s.add(other)
        s.flush()
        s.add(
            ApiToken(
                kind=TokenKind.DEVELOPER,
                tenant_id=other.id,
                name="other dev",
                prefix=made.prefix,
                secret_hash=made.secret_hash,
            )
        )
        other_id = str(other.id)
    return other_id, {"Authorization": f"Bearer {made.plaintext}"}


def test_ending_an_execution_frees_the_contact(
    live_api: LiveApi, rest_service: RestService, private_http: None
) -> None:
    flow = _published(live_api, held_flow(rest_service.base, allow_concurrent_calls=False))
    first = _start(live_api, flow, ALICE)
    assert first.status_code == 201, first.text
    sid = first.json()["sid"]
    busy = _start(live_api, flow, ALICE)
    assert busy.status_code == 409, busy.text
    # The 409 says how to end the one in the way.
    assert f"/flows/{flow}/executions/{sid}" in busy.json()["message"]
    assert '{"status": "ended"}' in busy.json()["message"]
    deadline = time.monotonic() + 30
    while not rest_service.hits and time.monotonic() < deadline:  # the walk is in its HTTP widget
        time.sleep(0.02)
    assert rest_service.hits

    ended = _end(live_api, flow, sid, {"status": "ended"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["sid"] == sid and ended.json()["status"] == "ended"
    assert ended.json()["ended_at"] is not None
    steps = _get(live_api, f"{flow}/executions/{sid}/steps")["items"]
    assert [(s["step"], s["widget_type"], s["event"]) for s in steps] == [
        (1, "trigger", "incomingRequest"),
        (2, "api", "ended"),
    ]
    assert steps[1]["state"] == ended.json()["current_state"] == "Trigger"  # its last step
    assert steps[1]["outputs"]["message"] == "the execution was ended by the API"

    again = _start(live_api, flow, ALICE)
    assert again.status_code == 201, again.text
    assert again.json()["sid"] != sid

    # The ended walk was stopped: the service answering now logs nothing more for it.
    rest_service.hold.set()
    engine = engine_for(live_api.app.state.sessionmaker)
    assert engine.wait(uuid.UUID(again.json()["id"])) == "ended"
    assert uuid.UUID(first.json()["id"]) not in engine.running
    view = _get(live_api, f"{flow}/executions/{sid}")
    assert (view["status"], view["error"], view["ended_at"]) == ("ended", None, ended.json()["ended_at"])
    after = _get(live_api, f"{flow}/executions/{sid}/steps")["items"]
    assert [s["widget_type"] for s in after] == ["trigger", "api"]

    # Ending it again changes nothing (Twilio's update answers with the execution as it is).
    twice = _end(live_api, flow, sid, {"status": "ended"})
    assert twice.status_code == 200, twice.text
    assert twice.json() == view


def test_only_ended_and_only_the_tenants_own(
    live_api: LiveApi, rest_service: RestService, private_http: None
) -> None:
    flow = _published(live_api, held_flow(rest_service.base, allow_concurrent_calls=False))
    sid = _start(live_api, flow, ALICE).json()["sid"]

    bad = _end(live_api, flow, sid, {"status": "active"})
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["status"]
    assert bad.json()["message"].startswith("status:") and "'ended'" in bad.json()["message"]
    assert [e["field"] for e in _end(live_api, flow, sid, {}).json()["errors"]] == ["status"]

    other_id, other = _other_tenant_headers(live_api)
    theirs = httpx.post(
        f"{live_api.base}/api/v1/tenants/{other_id}/flows/{flow}/executions/{sid}",
        json={"status": "ended"},
        headers=other,
        timeout=30,
    )
    assert theirs.status_code == 404, theirs.text
    ours = _end(live_api, flow, sid, {"status": "ended"}, headers=other)
    assert ours.status_code == 404, ours.text
    unknown = _end(live_api, flow, "FN" + "0" * 32, {"status": "ended"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "execution_id", unknown.text
    assert _get(live_api, f"{flow}/executions/{sid}")["status"] == "active"


def test_a_parked_wait_goes_with_the_execution(live_api: LiveApi) -> None:
    """An execution parked on a reply (waits.py) that the API ends is no longer found waiting, so a
    later reply from the contact does not take it up."""
    flow = _published(live_api, {**held_flow("http://127.0.0.1:9", False), "flags": {}})
    tenant = uuid.UUID(str(live_api.demo.tenant_id))
    with transaction(live_api.app.state.sessionmaker) as s:
        row = store.flow_by_ref(s, tenant, flow)
        assert row is not None
        wait = {"state": "ask", "seq": 2, "deadline": "2999-01-01T00:00:00+00:00", "outbound": {}}
        parked = store.create_execution(s, row, 1, {}, "message", ALICE, OURS, {"_wait": wait})
        parked.current_state, parked.steps = "wait:ask", 1
        sid = f"FN{parked.id.hex}"
    with live_api.app.state.sessionmaker() as s:
        assert waits.waiting_for(s, tenant, OURS, ALICE) is not None

    ended = _end(live_api, flow, sid, {"status": "ended"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["current_state"] == "ask" and "_wait" not in ended.json()["context"]
    steps = _get(live_api, f"{flow}/executions/{sid}/steps")["items"]
    assert [(s["step"], s["state"], s["event"]) for s in steps] == [(2, "ask", "ended")]
    with live_api.app.state.sessionmaker() as s:
        assert waits.waiting_for(s, tenant, OURS, ALICE) is None
