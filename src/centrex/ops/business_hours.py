"""The operator's business hours, and the response clocks of alarms and trouble tickets. Pure: time in,
time out (the caller passes ``now``).

hosted-pbx.txt, "Hosted IP-PBX Service Monitoring Repair Response Intervals" (Monitoring 2): the
response interval "is measured from the time CNI-Independents is notified via monitoring system
alarm":

    a. Priority 1: Within (8) hours of receipt of a system monitoring alert
    b. Priority 2: Within (24) CNI-Independents' business hours of a system monitoring alert

Priority 1 counts wall-clock hours; priority 2 counts only the operator's business hours: its
working hours (settings ``business_hours``, default 08:00-17:00) in its time zone
(``business_timezone``, default America/New_York) on business days — Monday to Friday that are not
a holiday of ``business_calendar`` (billing/periods.py, default "US": Federal Reserve holidays).
With the defaults a day holds 9 business hours, so 24 of them are two full days and 6 hours.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

P1_RESPONSE = timedelta(hours=8)  # hosted-pbx.txt Monitoring 2.a: "Within (8) hours"
P2_RESPONSE_BUSINESS_HOURS = 24  # hosted-pbx.txt Monitoring 2.b: "Within (24) ... business hours"
PRIORITIES = (1, 2)


def parse_hours(text: str) -> tuple[time, time]:
    """'08:00-17:00' -> (08:00, 17:00); ValueError saying what is wrong."""
    try:
        opens_s, closes_s = text.strip().split("-", 1)
        opens, closes = (time.fromisoformat(t.strip().zfill(5)) for t in (opens_s, closes_s))
    except ValueError:
        raise ValueError(f"must look like HH:MM-HH:MM (e.g. 08:00-17:00), got {text!r}") from None
    if opens >= closes:
        raise ValueError(f"{text!r}: the day must open before it closes")
    return opens, closes


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"not a time zone of the IANA database (e.g. America/New_York), got {name!r}"
        ) from None


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Working hours ``opens``-``closes`` (local time of ``zone``) on Monday to Friday, except the
    dates in ``holidays`` (a set, or a billing/periods.py BusinessCalendar)."""

    opens: time
    closes: time
    zone: ZoneInfo
    holidays: Container[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        # Built in local time, compared in UTC: arithmetic on aware datetimes of one zone is
        # wall-clock arithmetic in Python, wrong across a DST change.
        start = datetime.combine(day, self.opens, self.zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, self.zone).astimezone(UTC)
        return start, end

    def add(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` business hours after ``start`` (an alert outside the hours starts
        counting when the next business day opens)."""
        if start.tzinfo is None:
            raise ValueError("start: a naive datetime; give a UTC time")
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(UTC)
        day = cursor.astimezone(self.zone).date()
        for _ in range(3660):  # ten years of days: a calendar with no business day is a mistake
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                cursor = max(cursor, open_at)
                if cursor < close_at:
                    available = close_at - cursor
                    if remaining <= available:
                        return cursor + remaining
                    remaining -= available
                    cursor = close_at
            day += timedelta(days=1)
        raise ValueError("no business hours in the next ten years: check business_hours and the calendar")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero if end <= start)."""
        total = timedelta()
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        day = start.astimezone(self.zone).date()
        while day <= end.astimezone(self.zone).date():
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                lo, hi = max(start, open_at), min(end, close_at)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


def response_due(priority: int, raised_at: datetime, hours: BusinessHours) -> datetime:
    """When the response to an alert of this priority is due (hosted-pbx.txt Monitoring 2.a, 2.b)."""
    if priority == 1:
        return raised_at.astimezone(UTC) + P1_RESPONSE
    if priority == 2:
        return hours.add(raised_at, P2_RESPONSE_BUSINESS_HOURS)
    raise ValueError(f"priority must be 1 or 2, got {priority!r}")
