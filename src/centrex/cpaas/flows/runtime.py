"""Runs one execution: from the trigger state, widget after widget, along the transition each
widget's Outcome picks, until a state whose transition has no ``next`` (the flow ends there).

Every step is logged (flow_steps: state, type, event, next, outputs, duration) and emitted as a
``flow.step`` event (cpaas/events.py; webhooks and insights take it) with the execution's SID as
subject, so a receiver orders the steps by ``sequence``. A widget that raises, an unknown widget
type, a transition to a state that does not exist or more than ``max_steps`` steps end the execution
``failed`` with the reason; it never raises to the caller.

Start functions: ``start_by_rest`` / ``start_by_message`` (engine.py), ``FlowCalls.admit`` and
``run`` (call_trigger.py); each writes its row through store.create_execution. The API may end an
execution while it runs (store.end_by_api): a call's walk finds it ended before its next widget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.events import emit_event
from centrex.cpaas.flows import store
from centrex.cpaas.flows.templates import TemplateError
from centrex.cpaas.flows.widgets import FlowContext, HandedOver, Outcome, lookup

log = logging.getLogger(__name__)

# A loop in a flow (A → B → A …) ends here instead of running for ever: the setting flow_max_steps.
MAX_STEPS = 1000


def _transition(state: dict[str, Any], outcome: Outcome) -> dict[str, Any] | None:
    transitions: list[dict[str, Any]] = state.get("transitions") or []
    if outcome.transition is not None and 0 <= outcome.transition < len(transitions):
        return transitions[outcome.transition]
    return next((t for t in transitions if t.get("event") == outcome.event), None)


async def _run_widget(ctx: FlowContext, state: dict[str, Any]) -> Outcome:
    widget = lookup(str(state.get("type")))
    if widget is None:
        raise LookupError(f"no widget runs type {state.get('type')!r} here")
    return await widget(ctx, dict(state.get("properties") or {}))


async def run_execution(
    ctx: FlowContext,
    definition: dict[str, Any],
    sessions: sessionmaker[Session],
    *,
    start: str | None = None,
    seq_start: int = 0,
    max_steps: int = MAX_STEPS,
) -> str:
    """Walk the flow; returns the execution's final status ("ended" or "failed"), or "handed" when
    another process took its wait up (waits.py: nothing is ended here then)."""
    states = {s["name"]: s for s in definition.get("states", [])}
    name: str | None = start or definition.get("initial_state")
    widgets_out: dict[str, Any] = ctx.data.setdefault("widgets", {})
    seq = seq_start
    error: str | None = None
    while name is not None:
        state = states.get(name)
        if state is None:
            error = f"transition to unknown state {name!r}"
            break
        if seq >= max_steps:
            error = f"more than {max_steps} steps: a loop in the flow?"
            break
        if ctx.channel == "voice" and not await asyncio.to_thread(
            store.is_active, sessions, ctx.tenant_id, ctx.execution_id
        ):
            # Ended by the API (store.end_by_api). A call's widgets take seconds, so one read
            # each costs nothing; other walks are cancelled by the engine instead (end_run).
            return "ended"
        seq += 1
        ctx.state, ctx.seq = state, seq
        started = time.perf_counter()
        try:
            outcome = await _run_widget(ctx, state)
        except HandedOver:
            return "handed"
        except (TemplateError, LookupError, ValueError, TypeError, KeyError) as exc:
            error = f"{name}: {exc}"[:300]
            outcome = Outcome("error", {"error": str(exc)[:300]})
        except Exception as exc:  # a widget's bug must not leave the execution active for ever
            log.exception("flow %s state %s", ctx.flow_sid, name)
            error = f"{name}: {type(exc).__name__}: {exc}"[:300]
            outcome = Outcome("error", {"error": error})
        duration_ms = int((time.perf_counter() - started) * 1000)
        widgets_out[name] = outcome.outputs
        transition = None if error else _transition(state, outcome)
        next_name = transition.get("next") if transition else None
        next_name = str(next_name) if next_name else None
        # Queued, not committed here: the loop may be the service's (SIP, calls); steplog.py writes.
        store.log_step(sessions, ctx, seq, name, str(state.get("type")), outcome, next_name, duration_ms)
        emit_event(
            ctx.tenant_id,
            "flow.step",
            {
                "execution_sid": ctx.execution_sid,
                "flow_sid": ctx.flow_sid,
                "channel": ctx.channel,
                "step": seq,
                "state": name,
                "widget_type": state.get("type"),
                "event": outcome.event,
                "next": next_name,
                "duration_ms": duration_ms,
            },
            subject=ctx.execution_sid,
        )
        if error:
            break
        name = next_name
    status = "failed" if error else "ended"
    await store.end_execution(sessions, ctx, status, error)
    return status
