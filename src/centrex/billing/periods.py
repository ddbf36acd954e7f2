"""Date arithmetic for billing periods (calendar months, terms, business days)."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Collection
from datetime import date, timedelta


def days_in_month(day: date) -> int:
    return _calendar.monthrange(day.year, day.month)[1]


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=days_in_month(day))


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day (30 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_month_start(day: date) -> date:
    return add_months(month_start(day), 1)


def previous_month_start(day: date) -> date:
    return add_months(month_start(day), -1)


def add_business_days(day: date, count: int, holidays: Collection[date] = ()) -> date:
    """The date `count` business days (Mon-Fri, not a holiday) after `day`."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter(day: date) -> tuple[date, date, date]:
    """First days of the three months of the calendar quarter before the one containing `day`."""
    start = add_months(quarter_start(day), -3)
    return start, add_months(start, 1), add_months(start, 2)
