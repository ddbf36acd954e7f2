"""An application that runs a flow, through the native API (issue 20 §1): ``flow_id`` must be a flow
of the tenant (another tenant's, or none, is a 422 naming the field); an application needs a voice
URL, a document or a flow. And the call widgets on an execution without a call (started by REST)
end it failed with a clear reason, never pretending to have spoken."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from centrex.cpaas.flows import store
from centrex.cpaas.flows.engine import FlowEngine
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant
from centrex.store.models.flows import FlowExecution
from tests.cpaas.conftest import LiveApi


def _flow(engine_url: str, tenant: uuid.UUID | None = None) -> uuid.UUID:
    engine = make_engine(engine_url)
    try:
        with transaction(make_sessionmaker(engine)) as s:
            if tenant is None:
                other = Tenant(name="Other Co", sip_domain=f"other-{uuid.uuid4().hex[:6]}.example")
                s.add(other)
                s.flush()
                tenant = other.id
            return store.create_flow(s, tenant, "menu").id
    finally:
        engine.dispose()


def test_an_application_runs_a_flow_of_its_tenant(live_api: LiveApi, db_url: str) -> None:
    tenant = uuid.UUID(str(live_api.demo.tenant_id))
    url = f"{live_api.base}/api/v1/tenants/{tenant}/cpaas/applications"
    op = live_api.operator
    mine, theirs = _flow(db_url, tenant), _flow(db_url)

    made = httpx.post(url, json={"flow_id": str(mine), "extension": "6190"}, headers=op)
    assert made.status_code == 201, made.text
    app = made.json()
    assert app["flow_id"] == str(mine) and app["voice_url"] is None and app["document"] is None

    for bad in (theirs, uuid.uuid4()):
        refused = httpx.post(url, json={"flow_id": str(bad)}, headers=op)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "flow_id" and "not a flow of this tenant" in refused.text
    nothing = httpx.post(url, json={"friendly_name": "empty"}, headers=op)
    assert nothing.status_code == 422 and "flow_id" in nothing.text

    moved = httpx.patch(f"{url}/{app['id']}", json={"flow_id": str(theirs)}, headers=op)
    assert moved.status_code == 422, moved.text
    cleared = httpx.patch(f"{url}/{app['id']}", json={"flow_id": None}, headers=op)
    assert cleared.status_code == 422 and "voice_url, document or flow_id is required" in cleared.text
    swapped = httpx.patch(
        f"{url}/{app['id']}", json={"flow_id": None, "voice_url": "https://example.com/voice"}, headers=op
    )
    assert swapped.status_code == 200, swapped.text
    assert swapped.json()["flow_id"] is None and swapped.json()["voice_url"] == "https://example.com/voice"


def test_a_call_widget_without_a_call_fails_the_execution_clearly(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    definition = {
        "description": "a call widget on REST",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"event": "incomingRequest", "next": "say_1"}],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "say_1",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {"say": "Hello", "offset": {"x": 0, "y": 100}},
            },
        ],
    }
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
        tenant = uuid.UUID(str(demo.tenant_id))
        flow = store.create_flow(s, tenant, "rest", definition)
        store.publish(s, flow)
        flow_id = flow.id
    import centrex.cpaas.flows.voice_widgets  # noqa: F401 - the app server registers them so

    flows = FlowEngine(sessions)
    try:
        row = flows.start_by_rest(tenant, flow_id, "+15551230000", "+15559870000", {})
        assert flows.wait(row.id, 30) == "failed"
        with sessions() as s:
            execution = s.get(FlowExecution, row.id)
            assert execution is not None
            assert (
                execution.error
                == "say_1: say-play needs a call: this execution was started by rest, not a call"
            )
    finally:
        flows.stop()
        engine.dispose()
