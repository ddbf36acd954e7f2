"""Studio's ``flags.allow_concurrent_calls`` (the Trigger's "Allow concurrent calls to flow").

False: a contact with an active execution of the flow cannot start another — the REST API answers
409 naming ``to`` and the rule, an incoming message starts nothing — while another contact can, and
the same contact can again once its execution has ended. True (the default) changes nothing. Two
starts at once from two engines on one database (two nodes) cannot both succeed: the database's
unique partial index decides, on SQLite and PostgreSQL. The flow keeps an execution active with a
make-http-request to a loopback service that answers when the test lets it.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from centrex.cpaas.flows import store
from centrex.cpaas.flows.engine import engine_for
from centrex.cpaas.sids import sid_of
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models.flows import FlowExecution
from tests.cpaas.conftest import LiveApi
from tests.cpaas.flows.conftest import RestService, flows_url, state, wait_execution

ALICE = "+15551230001"
BOB = "+15551230002"
CAROL = "+15551230003"
OURS = "+15559870000"


def held_flow(base: str, allow_concurrent_calls: bool) -> dict[str, Any]:
    """REST and messages alike wait on the customer's service (``/hold``), then end."""
    return {
        "description": "one at a time",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": allow_concurrent_calls},
        "states": [
            state(
                "Trigger",
                "trigger",
                [
                    {"event": "incomingMessage", "next": "lookup"},
                    {"event": "incomingRequest", "next": "lookup"},
                ],
                0,
                0,
            ),
            state(
                "lookup",
                "make-http-request",
                [{"event": "success"}, {"event": "failed"}],
                0,
                200,
                method="GET",
                url=f"{base}/hold?contact={{{{contact.channel.address}}}}",
            ),
        ],
    }


def _published(live_api: LiveApi, definition: dict[str, Any]) -> str:
    made = httpx.post(
        flows_url(live_api),
        json={"friendly_name": "one at a time", "definition": definition},
        headers=live_api.admin,
    )
    assert made.status_code == 201, made.text
    sid = str(made.json()["sid"])
    published = httpx.post(f"{flows_url(live_api)}/{sid}/publish", headers=live_api.admin)
    assert published.status_code == 200, published.text
    return sid


def _start(live_api: LiveApi, flow_sid: str, to: str) -> httpx.Response:
    return httpx.post(
        f"{flows_url(live_api)}/{flow_sid}/executions",
        json={"to": to, "from": OURS, "parameters": {}},
        headers=live_api.admin,
        timeout=30,
    )


def test_a_contact_in_the_flow_cannot_start_it_again(
    live_api: LiveApi, rest_service: RestService, private_http: None
) -> None:
    flow = _published(live_api, held_flow(rest_service.base, allow_concurrent_calls=False))

    first = _start(live_api, flow, ALICE)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "active"
    again = _start(live_api, flow, ALICE)
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["error"] == "conflict" and body["field"] == "to" and body["rule"] == "flow-concurrent-calls"
    assert first.json()["sid"] in body["message"] and "allow_concurrent_calls is false" in body["message"]
    other = _start(live_api, flow, BOB)  # another contact is not held up
    assert other.status_code == 201, other.text

    # A message from the contact while its execution is active starts nothing either (as Studio:
    # its warning 81002), and is not passed on; another contact's message starts the flow.
    engine = engine_for(live_api.app.state.sessionmaker)  # the Messenger's inbound route
    tenant = uuid.UUID(str(live_api.demo.tenant_id))
    with transaction(live_api.app.state.sessionmaker) as s:
        row = store.flow_by_ref(s, tenant, flow)
        assert row is not None
        store.set_numbers(s, row, [OURS])
    assert engine.inbound(tenant, ALICE, OURS, "hello?", "SM" + "1" * 32) is True
    assert engine.inbound(tenant, CAROL, OURS, "hello?", "SM" + "2" * 32) is True
    listed = httpx.get(f"{flows_url(live_api)}/{flow}/executions", headers=live_api.admin).json()["items"]
    assert sorted((e["contact_address"], e["channel"]) for e in listed) == [
        (ALICE, "rest"),
        (BOB, "rest"),
        (CAROL, "message"),
    ]

    rest_service.hold.set()
    assert wait_execution(live_api, flow, first.json()["sid"])["status"] == "ended"
    later = _start(live_api, flow, ALICE)  # its execution ended: the contact may start the flow again
    assert later.status_code == 201, later.text
    assert wait_execution(live_api, flow, later.json()["sid"])["status"] == "ended"


def test_concurrent_calls_allowed_change_nothing(
    live_api: LiveApi, rest_service: RestService, private_http: None
) -> None:
    flow = _published(live_api, held_flow(rest_service.base, allow_concurrent_calls=True))
    runs = [_start(live_api, flow, ALICE) for _ in range(3)]
    assert [r.status_code for r in runs] == [201, 201, 201], [r.text for r in runs]
    for r in runs:
        assert r.json()["status"] == "active"
    rest_service.hold.set()
    for r in runs:
        assert wait_execution(live_api, flow, r.json()["sid"])["status"] == "ended"


def _definition() -> dict[str, Any]:
    return {
        "description": "",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": False},
        "states": [state("Trigger", "trigger", [{"event": "incomingRequest"}], 0, 0)],
    }


def test_two_nodes_starting_at_once_cannot_both_succeed(db_url: str, tmp_path: Path) -> None:
    """Node B looks (no active execution), then node A looks, writes and commits, then B writes:
    B's insert meets A's row in the unique partial index and B is refused, not a second execution.
    The pause between B's look and its write is real: B's INSERT waits until A has committed."""
    node_a, node_b = make_engine(db_url), make_engine(db_url)
    sessions_a, sessions_b = make_sessionmaker(node_a), make_sessionmaker(node_b)
    with transaction(sessions_a) as s:
        tenant = uuid.UUID(str(seed_demo(s, tmp_path).tenant_id))
        flow = store.create_flow(s, tenant, "one at a time", _definition())
        store.publish(s, flow)
        flow_id = flow.id
    b_looked, a_committed = threading.Event(), threading.Event()

    @event.listens_for(node_b, "before_cursor_execute")
    def _b_waits_before_writing(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("INSERT INTO FLOW_EXECUTIONS"):
            b_looked.set()
            assert a_committed.wait(30)

    def start(sessions: Any) -> FlowExecution:
        with transaction(sessions) as s:
            row = store.get_flow(s, tenant, flow_id)
            assert row is not None
            return store.create_execution(s, row, 1, _definition(), "rest", ALICE, OURS, {})

    outcome: dict[str, Any] = {}

    def node_b_starts() -> None:
        try:
            outcome["b"] = start(sessions_b)
        except store.ContactBusy as exc:
            outcome["b"] = exc

    try:
        b = threading.Thread(target=node_b_starts)
        b.start()
        assert b_looked.wait(30)
        a = start(sessions_a)  # A looks (B has written nothing yet), writes and commits
        a_committed.set()
        b.join(30)
        assert isinstance(outcome["b"], store.ContactBusy), outcome
        assert outcome["b"].active is None  # refused by the index, not by the look before it
        assert ALICE in str(outcome["b"]) and sid_of("FW", flow_id) in str(outcome["b"])
        with sessions_a() as s:
            rows = s.scalars(select(FlowExecution).where(FlowExecution.flow_id == flow_id)).all()
        assert [(r.id, r.status, r.contact_address) for r in rows] == [(a.id, "active", ALICE)]
    finally:
        a_committed.set()
        node_a.dispose()
        node_b.dispose()


@pytest.mark.parametrize("allow", [True, False])
def test_a_subflow_run_is_part_of_its_parent(db_url: str, tmp_path: Path, allow: bool) -> None:
    """A run-subflow's child execution has the parent's contact; it is never refused for it."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        with transaction(sessions) as s:
            tenant = uuid.UUID(str(seed_demo(s, tmp_path).tenant_id))
            definition = {**_definition(), "flags": {"allow_concurrent_calls": allow}}
            flow = store.create_flow(s, tenant, "parent and child", definition)
            parent = store.create_execution(s, flow, 1, definition, "rest", ALICE, OURS, {})
            child = store.create_execution(s, flow, 1, definition, "subflow", ALICE, OURS, {}, parent.id)
            assert child.parent_id == parent.id and child.status == "active"
    finally:
        engine.dispose()
