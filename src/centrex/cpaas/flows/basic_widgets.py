"""The widgets that need no channel: trigger, split-based-on (Studio's conditions), set-variables,
run-subflow. Registered on import."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from centrex.cpaas.flows.widgets import FlowContext, Outcome, register

TRIGGER_EVENTS = {
    "rest": "incomingRequest",
    "message": "incomingMessage",
    "voice": "incomingCall",
    "subflow": "incomingParent",
}


async def trigger(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    return Outcome(TRIGGER_EVENTS.get(ctx.channel, "incomingRequest"))


# -- split-based-on --------------------------------------------------------------------------------
def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None


def _date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        return None


def _time(text: str) -> time | None:
    text = text.strip()
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p"):
        try:
            return datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    return None


def _any_of(value: str) -> list[str]:
    return [v.strip().lower() for v in value.split(",") if v.strip()]


def _ordered(a: Any, b: Any, less: bool) -> bool:
    if a is None or b is None:
        return False
    return bool(a < b) if less else bool(a > b)


def condition_holds(kind: str, subject: str, value: str) -> bool:
    """Studio's split conditions; text comparisons ignore case, as Studio's do."""
    s, v = subject.strip().lower(), value.strip().lower()
    match kind:
        case "equal_to":
            return s == v
        case "not_equal_to":
            return s != v
        case "matches_any_of":
            return s in _any_of(value)
        case "does_not_match_any_of":
            return s not in _any_of(value)
        case "is_blank":
            return s == ""
        case "is_not_blank":
            return s != ""
        case "contains":
            return v in s
        case "does_not_contain":
            return v not in s
        case "starts_with":
            return s.startswith(v)
        case "does_not_start_with":
            return not s.startswith(v)
        case "regex":
            try:
                return re.search(value, subject) is not None
            except re.error as exc:
                raise ValueError(f"regex {value!r}: {exc}") from exc
        case "less_than" | "greater_than":
            return _ordered(_number(subject), _number(value), kind == "less_than")
        case "is_before_date" | "is_after_date":
            return _ordered(_date(subject), _date(value), kind == "is_before_date")
        case "is_before_time" | "is_after_time":
            return _ordered(_time(subject), _time(value), kind == "is_before_time")
    raise ValueError(f"unknown split condition type {kind!r}")


async def split_based_on(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    subject = ctx.render(str(props.get("input", "")))
    for i, t in enumerate(ctx.state.get("transitions") or []):
        if t.get("event") != "match":
            continue
        conditions = t.get("conditions") or []
        if not conditions:
            continue
        if all(
            condition_holds(
                str(c.get("type", "")),
                ctx.render(str(c["arguments"][0])) if c.get("arguments") else subject,
                ctx.render(str(c.get("value", ""))),
            )
            for c in conditions
        ):
            return Outcome("match", {"input": subject, "matched": conditions[0].get("friendly_name", "")}, i)
    return Outcome("noMatch", {"input": subject})


# -- set-variables ---------------------------------------------------------------------------------
async def set_variables(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    changed: dict[str, Any] = {}
    for item in props.get("variables") or []:
        key = str(item.get("key", "")).strip()
        if not key:
            raise ValueError("set-variables: a variable without a key")
        value = ctx.render(str(item.get("value", "")))
        ctx.variables[key] = value
        changed[key] = value
    return Outcome("next", changed)


# -- run-subflow -----------------------------------------------------------------------------------
async def run_subflow(ctx: FlowContext, props: dict[str, Any]) -> Outcome:
    if ctx.engine is None:
        raise ValueError("run-subflow: no flow engine")
    params = {str(p.get("key")): ctx.render(str(p.get("value", ""))) for p in props.get("parameters") or []}
    status, variables = await ctx.engine.run_subflow(
        ctx, str(props.get("flow_sid", "")), props.get("flow_revision", "LatestPublished"), params
    )
    return Outcome("completed" if status == "ended" else "failed", variables)


register("trigger", trigger)
register("split-based-on", split_based_on)
register("set-variables", set_variables)
register("run-subflow", run_subflow)
