"""Which events count toward which metrics (issue 20 §3: "every call, message and flow step an
event").

An event of the bus (cpaas/events.py) becomes zero or more ``Count``\\s: a metric, the value summed
into its ``total`` (talk time in ms, segments), the site (location) and the two parties (caller and
callee, sender and recipient). Call events after ``call.started`` name no site: the site of the call
is remembered from its start (``Calls``) for as long as the call lasts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_CALLS = 100_000  # calls in progress remembered (the oldest dropped first)

# metric → what it counts and what its total is (the portal's labels, docs/insights.md)
METRICS: dict[str, tuple[str, str]] = {
    "calls.started": ("calls started", ""),
    "calls.answered": ("calls answered", ""),
    "calls.ended": ("calls ended", "duration ms"),
    "calls.unanswered": ("calls not answered (busy, no answer, failed, cancelled, rejected)", ""),
    "messages.sent": ("messages accepted by the carrier", "segments"),
    "messages.delivered": ("messages delivered", "segments"),
    "messages.undelivered": ("messages not delivered", "segments"),
    "messages.failed": ("messages refused by the carrier", "segments"),
    "messages.received": ("messages received", "segments"),
    "flow.steps": ("flow steps executed", ""),
    "flow.steps.failed": ("flow steps ending in failed or timeout", ""),
    "voicemails.left": ("voicemail messages left", ""),
}


@dataclass(frozen=True, slots=True)
class Count:
    metric: str
    value: int = 0
    site: str = ""
    party_from: str = ""
    party_to: str = ""


def _s(value: object, limit: int = 64) -> str:
    return "" if value is None else str(value)[:limit]


class Calls:
    """call_id → (site, caller, callee) while a call lasts."""

    def __init__(self) -> None:
        self._calls: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, call_id: str, site: str, caller: str, callee: str) -> None:
        with self._lock:
            self._calls[call_id] = (site, caller, callee)
            if len(self._calls) > MAX_CALLS:
                self._calls.popitem(last=False)

    def get(self, call_id: str, *, end: bool = False) -> tuple[str, str, str] | None:
        with self._lock:
            return self._calls.pop(call_id, None) if end else self._calls.get(call_id)


def counts_of(event_type: str, data: dict[str, Any], calls: Calls) -> list[Count]:
    if event_type == "call.started":
        site, caller, callee = _s(data.get("site_id"), 36), _s(data.get("from")), _s(data.get("dialled"))
        calls.start(str(data.get("call_id")), site, caller, callee)
        return [Count("calls.started", 0, site, caller, callee)]
    if event_type == "call.answered":
        known = calls.get(str(data.get("call_id")))
        site, caller, callee = known or ("", "", _s(data.get("to")))
        return [Count("calls.answered", 0, site, caller, callee)]
    if event_type == "call.ended":
        known = calls.get(str(data.get("call_id")), end=True)
        site = known[0] if known else ""
        caller = _s(data.get("from")) or (known[1] if known else "")
        callee = _s(data.get("dialled")) or _s(data.get("to")) or (known[2] if known else "")
        out = [Count("calls.ended", int(data.get("duration_ms") or 0), site, caller, callee)]
        if data.get("disposition") != "answered":
            out.append(Count("calls.unanswered", 0, site, caller, callee))
        return out
    if event_type.startswith("message."):
        status = event_type.partition(".")[2]
        metric = f"messages.{status}"
        if metric not in METRICS:
            return []
        return [Count(metric, int(data.get("segments") or 1), "", _s(data.get("from")), _s(data.get("to")))]
    if event_type == "flow.step":
        caller = _s(data.get("contact") or data.get("from"))
        callee = _s(data.get("to"))
        out = [Count("flow.steps", 0, "", caller, callee)]
        if data.get("event") in ("failed", "timeout"):
            out.append(Count("flow.steps.failed", 0, "", caller, callee))
        return out
    if event_type == "voicemail.left":
        return [Count("voicemails.left", 0, "", _s(data.get("caller")), _s(data.get("extension")))]
    return []


def parties_of(data: dict[str, Any]) -> set[str]:
    """The parties an event names (for the party filter of change alert rules)."""
    return {str(data[k]) for k in ("from", "to", "dialled", "contact") if data.get(k)}
