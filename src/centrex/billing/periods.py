"""Date arithmetic for billing periods (calendar months, terms, business days)."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache


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


def add_business_days(day: date, count: int, holidays: Container[date] = ()) -> date:
    """The date `count` business days (Mon-Fri, not a holiday) after `day`. `holidays` is any
    container of dates: a set, or a `BusinessCalendar`."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current


# --- business-day calendars ---------------------------------------------------------------------

# "US" is the Federal Reserve's holiday schedule (the `holidays` package's financial calendar XFED):
# the days banks do not settle payments, which is what a cure period for a payment means (cpaas.txt
# §3.4). It differs from the federal government's: a holiday on a Saturday closes no bank (Friday
# 3 July 2026 is a business day here), one on a Sunday closes the Monday.
US_BANK_CALENDAR = "XFED"
NO_HOLIDAYS = "none"


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """The holidays that are not business days: "US" (Federal Reserve bank holidays, the default),
    "none" (Monday to Friday only), another financial calendar of the `holidays` package ("XNYS",
    "ECB", ...) or an ISO 3166 country code for that country's public holidays ("CA", "GB", ...).
    A container of dates, so it can be passed wherever `holidays` is taken."""

    name: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in _holidays_of_year(self.name, day.year)

    def holidays_in(self, year: int) -> frozenset[date]:
        return _holidays_of_year(self.name, year)


def business_calendar(name: str) -> BusinessCalendar:
    """The calendar named by CENTREX_BUSINESS_CALENDAR, or ValueError naming what is accepted."""
    import holidays  # imported here: it takes ~60 ms, and most commands never count business days

    code = name.strip()
    if code.lower() == NO_HOLIDAYS:
        return BusinessCalendar(NO_HOLIDAYS)
    if code.upper() == "US":
        return BusinessCalendar("US")
    known = holidays.list_supported_financial().keys() | holidays.list_supported_countries().keys()
    if code.upper() in known:
        return BusinessCalendar(code.upper())
    raise ValueError(
        f"CENTREX_BUSINESS_CALENDAR {name!r}: use US (Federal Reserve bank holidays), none, a financial"
        " calendar such as XNYS, or an ISO 3166 country code"
    )


@lru_cache(maxsize=256)
def _holidays_of_year(name: str, year: int) -> frozenset[date]:
    # One frozen set per calendar and year: immutable, so shared safely between request threads.
    import holidays

    if name == NO_HOLIDAYS:
        return frozenset()
    if name == "US":
        return frozenset(holidays.financial_holidays(US_BANK_CALENDAR, years=year))
    if name in holidays.list_supported_financial():
        return frozenset(holidays.financial_holidays(name, years=year))
    return frozenset(holidays.country_holidays(name, years=year))


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter(day: date) -> tuple[date, date, date]:
    """First days of the three months of the calendar quarter before the one containing `day`."""
    start = add_months(quarter_start(day), -3)
    return start, add_months(start, 1), add_months(start, 2)
