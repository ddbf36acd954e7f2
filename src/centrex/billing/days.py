"""The days the modules on storage and the API work with: today (UTC), a billing month as typed in a
request or on the command line, and the first instant of a day in UTC (stored times are UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from centrex.store.errors import Invalid


def today() -> date:
    return datetime.now(UTC).date()


def parse_period(text: str, field: str = "period") -> date:
    """A billing month "2026-10" as its first day."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise Invalid(
            f"{field} must be a month as YYYY-MM, got {text!r}", field=field, rule="period"
        ) from None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
