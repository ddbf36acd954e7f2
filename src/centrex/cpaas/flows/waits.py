"""Waits that outlive the process: a send-and-wait-for-reply parks its execution in the store.

While it waits, the execution row says so — ``current_state = "wait:<state>"`` and the context (the
flow's variables, the widgets' outputs so far, the message sent, the deadline) under ``_wait`` —
written through the step log's writer, so after the steps before it. Whoever takes the wait up
claims it with one compare-and-set (``current_state`` from ``wait:<state>`` to ``<state>``), so it
goes on exactly once:

- this process's own waiter, when the reply comes here or the timeout passes (the usual case);
- another process, when the reply reaches it (a second node, or this node after a restart): it
  finds the parked execution by (tenant, the flow's number, the contact) and resumes it at the
  waiting state with the reply (``FlowContext.resume``), without sending the question again;
- a restarted process, for waits whose deadline passes while nobody waits in memory: resumed with
  the timeout transition (``resume_timeouts``, started by `centrex serve`).

A process that loses the claim (its waiter woke after another took the execution over) stops the
walk without ending the execution (``HandedOver``)."""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows.steplog import jsonable, step_log
from centrex.cpaas.flows.widgets import FlowContext, HandedOver
from centrex.store.db import transaction
from centrex.store.models.flows import FlowExecution

if TYPE_CHECKING:
    from centrex.cpaas.flows.engine import FlowEngine

log = logging.getLogger(__name__)
PREFIX = "wait:"
KEY = "_wait"


@dataclass(frozen=True)
class Parked:
    execution_id: uuid.UUID
    tenant_id: uuid.UUID
    flow_id: uuid.UUID
    revision: int
    channel: str
    state: str
    seq: int
    deadline: datetime
    outbound: dict[str, Any]
    context: dict[str, Any]


def _marker(state: str) -> str:
    return (PREFIX + state)[:100]


async def park(ctx: FlowContext, timeout_s: float, outbound: dict[str, Any]) -> None:
    """Write the wait (after the steps before it); returns once it is stored."""
    name = str(ctx.state.get("name"))
    context = jsonable(copy.deepcopy(dict(ctx.data)))
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    context[KEY] = {"state": name, "seq": ctx.seq, "deadline": deadline.isoformat(), "outbound": outbound}
    assert ctx.engine is not None
    done = step_log(ctx.engine.sessions).end(
        ctx.tenant_id, ctx.execution_id, {"current_state": _marker(name), "context": context}
    )
    await asyncio.wrap_future(done)


def claim(sessions: sessionmaker[Session], tenant_id: uuid.UUID, execution_id: uuid.UUID, state: str) -> bool:
    """Take the wait up: True for exactly one caller."""
    with transaction(sessions) as s:
        done = s.execute(
            update(FlowExecution)
            .where(
                FlowExecution.id == execution_id,
                FlowExecution.tenant_id == tenant_id,
                FlowExecution.status == "active",
                FlowExecution.current_state == _marker(state),
            )
            .values(current_state=state[:100])
        )
        return bool(getattr(done, "rowcount", 0) == 1)


def _parked(row: FlowExecution) -> Parked | None:
    wait = (row.context or {}).get(KEY)
    if not isinstance(wait, dict):
        return None
    try:
        deadline = datetime.fromisoformat(str(wait["deadline"]))
        context = {k: v for k, v in (row.context or {}).items() if k != KEY}
        return Parked(
            row.id, row.tenant_id, row.flow_id, row.revision, row.channel, str(wait["state"]),
            int(wait["seq"]), deadline, dict(wait.get("outbound") or {}), context,
        )  # fmt: skip
    except (KeyError, ValueError, TypeError):
        return None


def drop(row: FlowExecution) -> str:
    """The execution ends while it may be parked (the API ended it): its marker and the wait's
    context go, so nothing reads it as waiting. The state it was at ("" before its first step)."""
    state = (row.current_state or "").removeprefix(PREFIX)
    row.current_state = state or None
    row.context = {k: v for k, v in (row.context or {}).items() if k != KEY}
    return state


def waiting_for(s: Session, tenant_id: uuid.UUID, flow_address: str, contact: str) -> Parked | None:
    """The newest execution of the tenant parked on a reply from ``contact`` to ``flow_address``."""
    row = s.scalars(
        select(FlowExecution)
        .where(
            FlowExecution.tenant_id == tenant_id,
            FlowExecution.flow_address == flow_address[:64],
            FlowExecution.contact_address == contact[:64],
            FlowExecution.status == "active",
            FlowExecution.current_state.like(PREFIX + "%"),
        )
        .order_by(FlowExecution.created_at.desc())
        .limit(1)
    ).first()
    return _parked(row) if row is not None else None


def all_parked(sessions: sessionmaker[Session]) -> list[Parked]:
    """Every parked execution (every tenant): a restarted service's timeouts."""
    with sessions() as s:
        rows = s.scalars(
            select(FlowExecution).where(
                FlowExecution.status == "active", FlowExecution.current_state.like(PREFIX + "%")
            )
        )
        return [p for p in (_parked(r) for r in rows) if p is not None]


async def resume_timeouts(engine: FlowEngine) -> None:
    """At start: each wait nobody holds in memory any more takes its timeout transition at its
    deadline (at once if it passed while the service was down), unless a reply claims it first."""
    parked = await asyncio.to_thread(all_parked, engine.sessions)

    async def at_deadline(p: Parked) -> None:
        delay = (p.deadline - datetime.now(UTC)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        if p.execution_id in engine.running:
            return  # waiting in this process after all: its own waiter times out
        await asyncio.to_thread(engine.resume, p, {"timeout": True})

    engine.timeouts = [asyncio.ensure_future(at_deadline(p)) for p in parked]
    if parked:
        log.info("flows: %d waits taken up after a restart", len(parked))


async def take_up(ctx: FlowContext) -> None:
    """This process's waiter woke (a reply here, or its timeout): claim the wait, or stop."""
    assert ctx.engine is not None
    name = str(ctx.state.get("name"))
    if not await asyncio.to_thread(claim, ctx.engine.sessions, ctx.tenant_id, ctx.execution_id, name):
        raise HandedOver(f"{ctx.execution_sid}: taken up elsewhere")
