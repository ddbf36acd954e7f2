"""Quiet hours: when a campaign may reach a contact, by the contact's local time.

- Federal: 47 CFR 64.1200(c)(1) (TCPA) — no telephone solicitation "before the hour of 8 a.m. or
  after 9 p.m. (local time at the called party's location)"; it is applied to every campaign, SMS
  and voice, marketing and informational, and to contacts outside the US too (the safe default).
- States with stricter windows: the table ``state_quiet_hours.csv`` beside this module (state, days,
  local start, local end, the statute it comes from; compiled from the sources in
  shared/reference/cpaas-e911-numbers.md §2.2 — data, to be reviewed by counsel and replaced as laws
  change). A day a state closes (``closed``) has no window. The window used is the intersection of
  the federal one and the state's for that weekday.
- A contact whose number has several time zones (toll-free, overlays) is reached only when the time
  is inside the window in every one of them (the reference's "intersection of windows").

A contact outside its window is not dropped: ``next_allowed`` says when it may be reached and the
runner defers it to then (issue 20 §2).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

FEDERAL_START = time(8, 0)  # 47 CFR 64.1200(c)(1)
FEDERAL_END = time(21, 0)
TABLE = Path(__file__).with_name("state_quiet_hours.csv")
DAYS = {
    "all": range(7),
    "mon-fri": range(5),
    "mon-sat": range(6),
    "sat": (5,),
    "sun": (6,),
}
FALLBACK_ZONE = "America/New_York"  # a number with no known zone (should not happen for valid numbers)


@dataclass(frozen=True, slots=True)
class Window:
    start: time
    end: time
    source: str

    def contains(self, local: time) -> bool:
        return self.start <= local < self.end


@cache
def state_table(path: Path = TABLE) -> dict[tuple[str, int], Window | None]:
    """(state, weekday 0=Monday) → that state's window (None: closed that day)."""
    table: dict[tuple[str, int], Window | None] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            state = row["state"].strip().upper()
            closed = row["start"].strip() == "closed"
            window = (
                None
                if closed
                else Window(
                    time.fromisoformat(row["start"].strip()),
                    time.fromisoformat(row["end"].strip()),
                    row["source"],
                )
            )
            for day in DAYS[row["days"].strip()]:
                table[(state, day)] = window
    return table


def window_for(state: str | None, weekday: int) -> Window | None:
    """The allowed window of a weekday: federal 8 a.m.–9 p.m. narrowed by the state's, if stricter."""
    federal = Window(FEDERAL_START, FEDERAL_END, "47 CFR 64.1200(c)(1)")
    if not state:
        return federal
    key = (state.upper(), weekday)
    table = state_table()
    if key not in table:
        return federal
    own = table[key]
    if own is None:
        return None
    start, end = max(federal.start, own.start), min(federal.end, own.end)
    if start >= end:
        return None
    return Window(start, end, own.source)


def _zones(zones: Sequence[str]) -> list[ZoneInfo]:
    return [ZoneInfo(z) for z in (zones or (FALLBACK_ZONE,))]


def allowed_at(when: datetime, zones: Sequence[str], state: str | None) -> bool:
    """May the contact be reached at ``when`` (aware)? In every one of its zones."""
    for zone in _zones(zones):
        local = when.astimezone(zone)
        window = window_for(state, local.weekday())
        if window is None or not window.contains(local.time()):
            return False
    return True


def _openings(now: datetime, zone: ZoneInfo, state: str | None, days: int) -> Iterable[datetime]:
    start_day = now.astimezone(zone).date()
    for offset in range(days + 1):
        day = start_day + timedelta(days=offset)
        window = window_for(state, day.weekday())
        if window is not None:
            yield datetime.combine(day, window.start, tzinfo=zone).astimezone(UTC)


def next_allowed(now: datetime, zones: Sequence[str], state: str | None) -> datetime | None:
    """``now`` if allowed, else the first moment within 8 days when the contact may be reached in
    all of its zones (None if there is none: every day closed)."""
    if allowed_at(now, zones, state):
        return now
    candidates = sorted(t for zone in _zones(zones) for t in _openings(now, zone, state, 8) if t > now)
    for t in candidates:
        if allowed_at(t, zones, state):
            return t
    return None
