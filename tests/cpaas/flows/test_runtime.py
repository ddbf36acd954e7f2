"""The runtime on a real database: a REST-started execution walks set-variables → split, logs
every step, and the Liquid templates see what earlier widgets set."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from centrex.cpaas.flows import store
from centrex.cpaas.flows.engine import FlowEngine
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models.flows import FlowExecution


def _flow() -> dict:
    return {
        "description": "route by the color given",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"event": "incomingRequest", "next": "set_color"}],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "set_color",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "split_color"}],
                "properties": {
                    "variables": [{"key": "color", "value": "{{flow.data.color | upcase}}"}],
                    "offset": {"x": 10, "y": 200},
                },
            },
            {
                "name": "split_color",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": "other"},
                    {
                        "event": "match",
                        "next": "blue",
                        "conditions": [
                            {
                                "friendly_name": "blue",
                                "arguments": ["{{flow.variables.color}}"],
                                "type": "equal_to",
                                "value": "blue",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{flow.variables.color}}", "offset": {"x": 10, "y": 400}},
            },
            {
                "name": "blue",
                "type": "set-variables",
                "transitions": [{"event": "next"}],
                "properties": {
                    "variables": [{"key": "said", "value": "it was {{widgets.split_color.input}}"}],
                    "offset": {"x": 0, "y": 600},
                },
            },
            {
                "name": "other",
                "type": "set-variables",
                "transitions": [{"event": "next"}],
                "properties": {
                    "variables": [{"key": "said", "value": "not blue"}],
                    "offset": {"x": 300, "y": 600},
                },
            },
        ],
    }


def test_rest_execution_walks_and_logs_steps(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
        tenant_id = uuid.UUID(str(demo.tenant_id))
        flow = store.create_flow(s, tenant_id, "colors", _flow())
        store.publish(s, flow)
        flow_id = flow.id
    flows = FlowEngine(sessions)
    try:
        row = flows.start_by_rest(tenant_id, flow_id, "+15551230000", "+15559870000", {"color": "Blue"})
        assert flows.wait(row.id, 30) == "ended"
        with sessions() as s:
            flow = store.get_flow(s, tenant_id, flow_id)
            assert flow is not None
            execution = store.execution_by_ref(s, tenant_id, flow, str(row.id))
            assert execution is not None and execution.status == "ended"
            log = [(st.state, st.event, st.next_state) for st in store.steps(s, execution)]
            assert execution.context["flow"]["variables"] == {"color": "BLUE", "said": "it was BLUE"}
    finally:
        flows.stop()
        engine.dispose()
    assert log == [
        ("Trigger", "incomingRequest", "set_color"),
        ("set_color", "next", "split_color"),
        ("split_color", "match", "blue"),
        ("blue", "next", None),
    ]


def _states(*states: dict) -> dict:
    return {"description": "", "initial_state": "Trigger", "flags": {}, "states": list(states)}


def _st(name: str, kind: str, transitions: list, **props: object) -> dict:
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": {**props, "offset": {"x": 0, "y": 0}},
    }


def test_run_subflow_hands_its_variables_back_and_a_loop_is_stopped(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    child_def = _states(
        _st("Trigger", "trigger", [{"event": "incomingParent", "next": "greet"}]),
        _st(
            "greet",
            "set-variables",
            [{"event": "next"}],
            variables=[{"key": "greeting", "value": "hi {{flow.data.who}}"}],
        ),
    )
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
        tenant_id = uuid.UUID(str(demo.tenant_id))
        child = store.create_flow(s, tenant_id, "child", child_def)
        store.publish(s, child)
        parent_def = _states(
            _st("Trigger", "trigger", [{"event": "incomingRequest", "next": "sub"}]),
            _st(
                "sub",
                "run-subflow",
                [{"event": "completed", "next": "use"}, {"event": "failed"}],
                flow_sid=f"FW{child.id.hex}",
                flow_revision="LatestPublished",
                parameters=[{"key": "who", "value": "{{contact.channel.address}}"}],
            ),
            _st(
                "use",
                "set-variables",
                [{"event": "next"}],
                variables=[{"key": "said", "value": "{{widgets.sub.greeting}}"}],
            ),
        )
        parent = store.create_flow(s, tenant_id, "parent", parent_def)
        store.publish(s, parent)
        looping = store.create_flow(
            s,
            tenant_id,
            "loop",
            _states(
                _st("Trigger", "trigger", [{"event": "incomingRequest", "next": "a"}]),
                _st("a", "set-variables", [{"event": "next", "next": "b"}], variables=[]),
                _st("b", "set-variables", [{"event": "next", "next": "a"}], variables=[]),
            ),
        )
        store.publish(s, looping)
        parent_id, loop_id = parent.id, looping.id
    flows = FlowEngine(sessions, max_steps=50)
    try:
        row = flows.start_by_rest(tenant_id, parent_id, "+15551230000", "+15559870000", {})
        assert flows.wait(row.id, 30) == "ended"
        looped = flows.start_by_rest(tenant_id, loop_id, "+15551230000", "+15559870000", {})
        assert flows.wait(looped.id, 30) == "failed"
        with sessions() as s:
            done = s.get(FlowExecution, row.id)
            assert done is not None and done.context["flow"]["variables"] == {"said": "hi +15551230000"}
            (sub,) = s.scalars(select(FlowExecution).where(FlowExecution.parent_id == row.id))
            assert sub.channel == "subflow" and sub.status == "ended"
            failed = s.get(FlowExecution, looped.id)
            assert failed is not None and failed.error == "more than 50 steps: a loop in the flow?"
            assert failed.steps == 50
    finally:
        flows.stop()
        engine.dispose()
