"""Flow steps executed per second on one core (prints figures; never a timed test).

    PYTHONPATH=src .venv/bin/python bench/flow_bench.py [--executions 400] [--concurrency 16] [--db URL]

A published flow of 12 states — the trigger, then set-variables → split-based-on pairs with Liquid
templates (``{{flow.data.n | plus: 1}}``, ``{{flow.variables.v}}``), the split's condition picking
one of two branches — is run ``--executions`` times by REST starts (FlowEngine.start_by_rest, what
POST …/executions calls) from ``--concurrency`` threads (as the API's workers), each starting one
and waiting for its end; the walks run on the engine's own loop. Every step
is what production does: the widget, the Liquid render, the step row queued to the log's writer
(steplog.py: group commits), the ``flow.step`` event; each execution's row is committed at its
start and its end. The process is pinned to one CPU
(sched_setaffinity), so the figure is per core. Default database: a SQLite file in a temporary
directory (``--db postgresql://…`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PAIRS = 5  # set-variables + split pairs after the trigger; one more set-variables ends: 12 states


def definition() -> dict[str, Any]:
    states: list[dict[str, Any]] = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingRequest", "next": "set_0"}],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ]
    for i in range(PAIRS):
        nxt = f"set_{i + 1}"
        states.append(
            {
                "name": f"set_{i}",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": f"split_{i}"}],
                "properties": {
                    "variables": [{"key": "v", "value": "{{flow.data.n | plus: " + str(i) + "}}"}],
                    "offset": {"x": 0, "y": 200 * i + 100},
                },
            }
        )
        states.append(
            {
                "name": f"split_{i}",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": nxt},
                    {
                        "event": "match",
                        "next": nxt,
                        "conditions": [
                            {
                                "friendly_name": "big",
                                "arguments": ["{{flow.variables.v}}"],
                                "type": "greater_than",
                                "value": "1000",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{flow.variables.v}}", "offset": {"x": 0, "y": 200 * i + 200}},
            }
        )
    states.append(
        {
            "name": f"set_{PAIRS}",
            "type": "set-variables",
            "transitions": [{"event": "next"}],
            "properties": {"variables": [{"key": "done", "value": "yes"}], "offset": {"x": 0, "y": 2200}},
        }
    )
    return {"description": "bench", "initial_state": "Trigger", "flags": {}, "states": states}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from sqlalchemy import func, select

    from centrex.cpaas.flows import store
    from centrex.cpaas.flows.engine import FlowEngine
    from centrex.store.db import make_engine, make_sessionmaker, transaction
    from centrex.store.migrate import upgrade
    from centrex.store.models import Tenant
    from centrex.store.models.flows import FlowExecution, FlowStep

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as s:
            tenant = Tenant(name="Flow Bench", sip_domain=f"fb-{uuid.uuid4().hex[:6]}.example.com")
            s.add(tenant)
            s.flush()
            flow = store.create_flow(s, tenant.id, "bench", definition())
            store.publish(s, flow)
            tenant_id, flow_id = tenant.id, flow.id
        flows = FlowEngine(sessions)

        def one(n: int) -> str:
            row = flows.start_by_rest(tenant_id, flow_id, "+16175550111", "+16175550100", {"n": n})
            return flows.wait(row.id, 120) or "gone"

        started = time.perf_counter()
        statuses: dict[str, int] = {}
        with ThreadPoolExecutor(args.concurrency) as pool:  # as the API's worker threads start them
            for status in pool.map(one, range(args.executions)):
                statuses[status] = statuses.get(status, 0) + 1
        elapsed = time.perf_counter() - started
        flows.stop()
        with sessions() as s:
            steps = s.scalar(select(func.count()).select_from(FlowStep)) or 0
            ended = s.scalar(select(func.count()).where(FlowExecution.status == "ended")) or 0
        engine.dispose()
    print(
        f"database: {engine.dialect.name}; executions: {args.executions} ({ended} ended), "
        f"concurrency {args.concurrency}, {steps} steps logged, statuses seen {statuses}"
    )
    print(
        f"{steps / elapsed:,.0f} flow steps/s on one core ({args.executions / elapsed:,.1f} executions/s, "
        f"{elapsed:.1f} s)"
    )


if __name__ == "__main__":
    main()
