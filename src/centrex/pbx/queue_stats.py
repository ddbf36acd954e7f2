"""Call-center queue statistics (issue 4 point 4), live and for a period, made from QueueEvents.

Pure functions over events; the API reads the events of one queue over a time range
(``live_window`` / ``period_window``) and hands them here.

A call's life in a queue is ``entered`` followed by one outcome: ``answered`` (by an agent, with
the wait), ``abandoned`` (the caller hung up while waiting) or ``overflowed`` (max wait reached,
sent to the overflow destination). A caller may enter again later (overflow into the same queue, a
transfer back): each entry is its own offered call. Statistics for a period count the calls that
*entered* in it, whenever their outcome came, so offered = answered + abandoned + overflowed +
still waiting, and a report for a past period does not change once its callers have left.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from centrex.pbx.queue_model import QueueEvent

ENTERED, ANSWERED, ABANDONED, OVERFLOWED = "entered", "answered", "abandoned", "overflowed"
AGENT_LOGIN, AGENT_LOGOUT = "agent_login", "agent_logout"
KINDS = frozenset({ENTERED, ANSWERED, ABANDONED, OVERFLOWED, AGENT_LOGIN, AGENT_LOGOUT})
OUTCOMES = frozenset({ANSWERED, ABANDONED, OVERFLOWED})

# A caller leaves the queue at max_wait_s at the latest (overflow). An entry older than that plus
# this margin with no outcome is a call the switch lost (a restart), not a caller still waiting.
GRACE_S = 60
DEFAULT_SERVICE_LEVEL_S = 20


@dataclass(frozen=True, slots=True)
class LiveStats:
    waiting: int  # callers in the queue now
    longest_wait_ms: int  # 0 when nobody waits
    agents_logged_in: int


@dataclass(frozen=True, slots=True)
class PeriodStats:
    start: datetime
    end: datetime
    offered: int
    answered: int
    abandoned: int
    overflowed: int
    waiting: int  # entered in the period, no outcome yet
    average_wait_ms: int | None  # of answered calls; None when none was answered
    p90_wait_ms: int | None
    service_level_s: int
    service_level_pct: float | None  # None when no call has left the queue yet
    answered_by_agent: dict[uuid.UUID, int] = field(default_factory=dict)


def live_window(now: datetime, max_wait_s: int) -> datetime:
    """The oldest event that can still describe a caller waiting now."""
    return now - timedelta(seconds=max(0, max_wait_s) + GRACE_S)


def period_window(start: datetime, end: datetime, max_wait_s: int) -> tuple[datetime, datetime]:
    """Events to read for the period [start, end): a call that entered just before ``end`` has its
    outcome up to max wait later."""
    return start, end + timedelta(seconds=max(0, max_wait_s) + GRACE_S)


def _entries(events: Iterable[QueueEvent]) -> list[tuple[QueueEvent, QueueEvent | None]]:
    """Each ``entered`` event with its outcome (or None), in time order."""
    ordered = sorted((e for e in events if e.call_id is not None), key=lambda e: e.at)
    open_: dict[uuid.UUID, int] = {}
    pairs: list[tuple[QueueEvent, QueueEvent | None]] = []
    for event in ordered:
        assert event.call_id is not None
        if event.kind == ENTERED:
            open_[event.call_id] = len(pairs)
            pairs.append((event, None))
        elif event.kind in OUTCOMES and event.call_id in open_:
            i = open_.pop(event.call_id)
            pairs[i] = (pairs[i][0], event)
    return pairs


def live_stats(
    events: Iterable[QueueEvent], now: datetime, agents_logged_in: int, max_wait_s: int
) -> LiveStats:
    """Callers waiting now and the longest of their waits. ``events``: the queue's events since
    ``live_window(now, max_wait_s)``; entries older than that window are not counted."""
    oldest = live_window(now, max_wait_s)
    waits = [
        max(0, round((now - entry.at).total_seconds() * 1000))
        for entry, outcome in _entries(events)
        if outcome is None and oldest <= entry.at <= now
    ]
    return LiveStats(len(waits), max(waits, default=0), agents_logged_in)


def p90(values: list[int]) -> int | None:
    """The 90th percentile by the nearest-rank method: the smallest value with at least 90% of
    the values at or below it (of 10 waits, the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def period_stats(
    events: Iterable[QueueEvent],
    start: datetime,
    end: datetime,
    service_level_s: int = DEFAULT_SERVICE_LEVEL_S,
) -> PeriodStats:
    """Offered, answered, abandoned and overflowed calls that entered in [start, end); waits of the
    answered ones (average rounded half up to the ms, p90); service level = answered within
    ``service_level_s`` seconds (wait <= the threshold) as a % of the calls that have left the
    queue (answered, abandoned or overflowed), to 0.1 rounded half up; answered calls per agent."""
    pairs = [(e, o) for e, o in _entries(events) if start <= e.at < end]
    outcomes = Counter(o.kind for _, o in pairs if o is not None)
    answered = [o for _, o in pairs if o is not None and o.kind == ANSWERED]
    waits = [o.wait_ms or 0 for o in answered]
    left = sum(outcomes.values())
    within = sum(1 for w in waits if w <= service_level_s * 1000)
    pct = (
        float((Decimal(100 * within) / Decimal(left)).quantize(Decimal("0.1"), ROUND_HALF_UP))
        if left
        else None
    )
    by_agent = Counter(o.agent_id for o in answered if o.agent_id is not None)
    return PeriodStats(
        start=start,
        end=end,
        offered=len(pairs),
        answered=outcomes[ANSWERED],
        abandoned=outcomes[ABANDONED],
        overflowed=outcomes[OVERFLOWED],
        waiting=len(pairs) - left,
        average_wait_ms=(sum(waits) * 2 + len(waits)) // (2 * len(waits)) if waits else None,
        p90_wait_ms=p90(waits),
        service_level_s=service_level_s,
        service_level_pct=pct,
        answered_by_agent=dict(sorted(by_agent.items(), key=lambda kv: (-kv[1], str(kv[0])))),
    )
