"""Per-trunk limits (issue 15 §1): simultaneous calls and new calls per second on a trunk, counted
in both directions — calls from a carrier or a tenant's PBX trunk, and calls sent to a carrier
gateway or a PBX trunk. Sans-I/O: ``routing/trunk_calls.py`` asks it and tells it what happened.

A call over a limit is refused with 503 and an RFC 3326 Reason naming the limit and the trunk, and
no Retry-After (a PBX trunk would retry at once, RFC 3261 §21.5.4); a call going out skips a trunk
at its limit for the next target of its route (failover) before it is refused. A call that no rule
may refuse for capacity (911, e911/numbers.py) is counted but never refused or skipped.
The counts are this process's (one switch node), like capacity/admission.py's.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum

from centrex.calls.services import Refusal
from centrex.routing.model import Trunk

CPS_WINDOW_S = 1.0


class TrunkLimit(StrEnum):
    CALLS = "calls"  # simultaneous calls
    CPS = "cps"  # new calls per second


LIMIT_TEXT = {TrunkLimit.CALLS: "trunk call limit", TrunkLimit.CPS: "trunk calls-per-second limit"}


def trunk_refusal(limit: TrunkLimit, trunk: Trunk) -> Refusal:
    return Refusal(503, f"trunk_{limit.value}", f"Service Unavailable ({LIMIT_TEXT[limit]}: {trunk.name})")


def reason_header(refusal: Refusal) -> tuple[str, str]:
    return ("Reason", f'SIP;cause={refusal.status};text="{refusal.reason}"')


@dataclass
class TrunkLimits:
    active: Counter[uuid.UUID] = field(default_factory=Counter)  # trunk → calls up
    starts: dict[uuid.UUID, deque[float]] = field(default_factory=dict)  # trunk → recent new calls
    held: dict[uuid.UUID, dict[str, uuid.UUID]] = field(default_factory=dict)  # call → side → trunk
    refused: Counter[tuple[uuid.UUID, str]] = field(default_factory=Counter)  # (trunk, limit) → calls

    def over(self, trunk: Trunk, now: float) -> TrunkLimit | None:
        """The limit one more call on ``trunk`` would break now, or None."""
        if trunk.max_calls is not None and self.active[trunk.id] >= trunk.max_calls:
            return TrunkLimit.CALLS
        if trunk.max_cps is not None:
            recent = self.starts.get(trunk.id)
            if recent is not None:
                while recent and recent[0] <= now - CPS_WINDOW_S:
                    recent.popleft()
                if len(recent) >= trunk.max_cps:
                    return TrunkLimit.CPS
        return None

    def take(self, call_id: uuid.UUID, side: str, trunk: Trunk, now: float) -> None:
        """The call now uses ``trunk`` on ``side`` ("in" or "out"; a new "out" replaces the last)."""
        self.release(call_id, side)
        self.held.setdefault(call_id, {})[side] = trunk.id
        self.active[trunk.id] += 1
        if trunk.max_cps is not None:
            self.starts.setdefault(trunk.id, deque()).append(now)

    def count_refused(self, trunk: Trunk, limit: TrunkLimit) -> None:
        self.refused[(trunk.id, limit.value)] += 1

    def release(self, call_id: uuid.UUID, side: str | None = None) -> None:
        sides = self.held.get(call_id)
        if not sides:
            return
        for s in [side] if side is not None else list(sides):
            trunk_id = sides.pop(s, None) if s is not None else None
            if trunk_id is not None:
                self.active[trunk_id] -= 1
                if self.active[trunk_id] <= 0:
                    del self.active[trunk_id]
        if not sides:
            del self.held[call_id]

    def calls_on(self, trunk_id: uuid.UUID) -> int:
        return self.active.get(trunk_id, 0)
