"""The widget interface: what every widget of a flow is, and the registry the runtime looks them up in.

A widget is ``async (ctx, props) -> Outcome``: ``props`` is the state's ``properties`` exactly as in
Studio's JSON (templates not yet rendered: a widget renders what it uses through ``ctx.render``);
the Outcome's ``event`` picks the state's transition ("success", "failed", "keypress", "noMatch",
"timeout", …) and its ``outputs`` are kept as ``widgets.<state name>.<key>`` for later templates.

Widgets register by Studio's type name: the non-call ones in basic_widgets.py, http_widget.py and
message_widgets.py; the call widgets (say-play, gather-input-on-call, …) in voice_widgets.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from centrex.cpaas.flows.templates import render
from centrex.cpaas.sids import sid_of


@dataclass
class Outcome:
    event: str  # a transition event of the state
    outputs: dict[str, Any] = field(default_factory=dict)  # kept as widgets.<state name>.<key>
    transition: int | None = None  # split-based-on: the index of the matching transition in the state


class HandedOver(Exception):
    """Another process claimed this execution's wait (waits.py): the walk stops without ending it."""


@dataclass
class FlowContext:
    """One execution as a widget sees it. ``data`` is what templates read:
    ``{"flow": {"sid", "variables", "data", "channel": {"address"}}, "trigger": {...},
    "widgets": {name: outputs}, "contact": {"channel": {"address"}}}``."""

    tenant_id: uuid.UUID
    execution_id: uuid.UUID
    flow_id: uuid.UUID
    channel: str  # "voice" | "message" | "rest" | "subflow"
    call: Any | None = None  # a CallChannel (call_channel.py) when the trigger was a call
    data: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # the state being run: name, type, transitions
    engine: Any | None = None  # the FlowEngine (engine.py): messaging, replies, HTTP, subflows
    depth: int = 0  # run-subflow nesting
    seq: int = 0  # the step being run (1, 2, …)
    resume: dict[str, Any] | None = None  # a parked wait taken up: the reply or the timeout (waits.py)

    @property
    def execution_sid(self) -> str:
        return sid_of("FN", self.execution_id)

    @property
    def flow_sid(self) -> str:
        return sid_of("FW", self.flow_id)

    @property
    def variables(self) -> dict[str, Any]:
        flow: dict[str, Any] = self.data.setdefault("flow", {})
        variables: dict[str, Any] = flow.setdefault("variables", {})
        return variables

    @property
    def contact_address(self) -> str:
        return str(self.data.get("contact", {}).get("channel", {}).get("address", ""))

    @property
    def flow_address(self) -> str:
        return str(self.data.get("flow", {}).get("channel", {}).get("address", ""))

    def render(self, template: str) -> str:
        """Liquid over {flow, trigger, widgets, contact} (templates.py). Raises TemplateError."""
        return render(template, self.data)


Widget = Callable[[FlowContext, dict[str, Any]], Awaitable[Outcome]]

_registry: dict[str, Widget] = {}


def register(widget_type: str, widget: Widget) -> None:
    """Make ``widget`` run the states of this Studio type (a later registration replaces one)."""
    _registry[widget_type] = widget


def lookup(widget_type: str) -> Widget | None:
    return _registry.get(widget_type)


def registered() -> set[str]:
    return set(_registry)
