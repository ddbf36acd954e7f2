"""A flow definition checked on save: JSON Schema first (the shape of Studio's flow JSON), then the
rules a schema cannot say (names unique, the initial state a trigger), then the lint.

- ``validate`` → the errors that make a definition unusable: [{"path", "problem"}] (the API answers
  422 with them). The `jsonschema` package (Draft 2020-12, the reference implementation for Python):
  every error names where it is (``states/2/type``) and what is wrong.
- ``lint`` → warnings a saved draft may have: [{"state", "problem", "severity"}]. ``error``: a
  transition to a state that does not exist (publishing is refused: 409). ``warning``: a state no
  path from the trigger reaches (unreachable), or a dead end — a state whose work only matters to a
  later state (a trigger, split, HTTP request, gather, reply awaited, subflow) with no
  transition leading anywhere, so the flow ends having computed something it never uses.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

WIDGET_TYPES = (
    "trigger",
    "say-play",
    "gather-input-on-call",
    "split-based-on",
    "set-variables",
    "send-message",
    "send-and-wait-for-reply",
    "make-http-request",
    "connect-call-to",
    "record-voicemail",
    "enqueue-call",
    "run-subflow",
)
# Widgets whose outputs or decision only matter to what follows them. Not set-variables: a subflow
# ends with it to hand its variables back to the parent.
DEAD_END_TYPES = frozenset(
    {
        "trigger",
        "split-based-on",
        "make-http-request",
        "gather-input-on-call",
        "send-and-wait-for-reply",
        "run-subflow",
    }
)

_offset = {
    "type": "object",
    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
    "required": ["x", "y"],
}
_transition = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "minLength": 1},
        "next": {"type": ["string", "null"]},
        "conditions": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["event"],
}
_state = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
        "type": {"enum": list(WIDGET_TYPES)},
        "transitions": {"type": "array", "items": _transition},
        "properties": {"type": "object", "properties": {"offset": _offset}},
    },
    "required": ["name", "type", "transitions", "properties"],
}
FLOW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "initial_state": {"type": "string", "minLength": 1},
        "flags": {"type": "object"},
        "states": {"type": "array", "items": _state, "minItems": 1, "maxItems": 500},
    },
    "required": ["initial_state", "states"],
}
_validator = Draft202012Validator(FLOW_SCHEMA)


def _path(parts: Any) -> str:
    return "/".join(str(p) for p in parts) or "(the definition)"


def validate(definition: Any) -> list[dict[str, str]]:
    errors = [
        {"path": _path(e.absolute_path), "problem": e.message}
        for e in sorted(_validator.iter_errors(definition), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if errors:
        return errors
    names: dict[str, int] = {}
    for i, state in enumerate(definition["states"]):
        if state["name"] in names:
            errors.append(
                {"path": f"states/{i}/name", "problem": f"state name {state['name']!r} is used twice"}
            )
        names.setdefault(state["name"], i)
    initial = definition["initial_state"]
    if initial not in names:
        errors.append(
            {"path": "initial_state", "problem": f"initial_state {initial!r} is no state of the flow"}
        )
    elif definition["states"][names[initial]]["type"] != "trigger":
        errors.append({"path": "initial_state", "problem": f"initial_state {initial!r} is not a trigger"})
    triggers = [s["name"] for s in definition["states"] if s["type"] == "trigger"]
    if len(triggers) > 1:
        errors.append({"path": "states", "problem": f"a flow has one trigger; found {', '.join(triggers)}"})
    return errors


def lint(definition: dict[str, Any]) -> list[dict[str, str]]:
    """Only for a definition that ``validate`` accepted."""
    states = {s["name"]: s for s in definition["states"]}
    warnings: list[dict[str, str]] = []
    for state in definition["states"]:
        for t in state["transitions"]:
            target = t.get("next")
            if target and target not in states:
                warnings.append(
                    {
                        "state": state["name"],
                        "problem": f"transition {t['event']!r} leads to unknown state {target!r}",
                        "severity": "error",
                    }
                )
    reached = {definition["initial_state"]}
    todo = [definition["initial_state"]]
    while todo:
        for t in states[todo.pop()]["transitions"]:
            target = t.get("next")
            if target in states and target not in reached:
                reached.add(target)
                todo.append(target)
    for state in definition["states"]:
        name = state["name"]
        if name not in reached:
            warnings.append(
                {
                    "state": name,
                    "problem": "unreachable: no path from the trigger leads here",
                    "severity": "warning",
                }
            )
        if state["type"] in DEAD_END_TYPES and not any(t.get("next") for t in state["transitions"]):
            warnings.append(
                {
                    "state": name,
                    "problem": f"dead end: no transition of this {state['type']} leads anywhere, "
                    "so what it does is never used",
                    "severity": "warning",
                }
            )
    return warnings


def has_errors(warnings: list[dict[str, str]]) -> bool:
    return any(w.get("severity") == "error" for w in warnings)
