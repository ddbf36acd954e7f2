"""Business days of the cure period before suspension (cpaas.txt §3.4: "within five (5) business days
of written notice of non-payment"), counted on the operator's calendar: by default the US bank
holidays (the Federal Reserve's schedule), or "none" for Monday to Friday only. Real 2026 dates."""

from __future__ import annotations

from datetime import date

import pytest

from centrex.billing.collections import suspension_allowed_from
from centrex.billing.periods import add_business_days, business_calendar

US = business_calendar("US")
NONE = business_calendar("none")


def test_thanksgiving_is_not_a_business_day() -> None:
    # Notice Wed 25 Nov 2026. Thu 26 is Thanksgiving: not counted. Business days: Fri 27 (1),
    # Mon 30 (2), Tue 1 Dec (3), Wed 2 (4), Thu 3 (5) -> paid by Thu 3 Dec, suspension from Fri 4 Dec.
    notice = date(2026, 11, 25)
    assert date(2026, 11, 26) in US
    assert add_business_days(notice, 5, US) == date(2026, 12, 3)
    assert suspension_allowed_from(notice, US) == date(2026, 12, 4)
    # Monday to Friday only (the old answer): Thursday 26 counts, suspension one day earlier.
    assert suspension_allowed_from(notice, NONE) == date(2026, 12, 3)
    assert suspension_allowed_from(notice) == date(2026, 12, 3)


def test_christmas_and_new_year_across_the_year_end() -> None:
    # Notice Thu 24 Dec 2026 (Christmas Eve is a business day for banks). Fri 25 Christmas: not
    # counted; Mon 28 (1), Tue 29 (2), Wed 30 (3), Thu 31 (4); Fri 1 Jan 2027 New Year's Day: not
    # counted; Mon 4 Jan (5) -> suspension from Tue 5 Jan 2027.
    notice = date(2026, 12, 24)
    assert suspension_allowed_from(notice, US) == date(2027, 1, 5)
    # Without holidays: Fri 25 (1) ... Thu 31 (5) -> suspension from Fri 1 Jan 2027.
    assert suspension_allowed_from(notice, NONE) == date(2027, 1, 1)
    # Notice Mon 21 Dec: Tue 22, Wed 23, Thu 24, (Christmas), Mon 28, Tue 29 -> from Wed 30 Dec.
    assert suspension_allowed_from(date(2026, 12, 21), US) == date(2026, 12, 30)
    assert suspension_allowed_from(date(2026, 12, 21), NONE) == date(2026, 12, 29)


def test_bank_holidays_not_the_federal_governments_observed_days() -> None:
    # Independence Day 2026 is a Saturday: federal offices close Friday 3 July, banks do not (the
    # Federal Reserve opens the Friday before a Saturday holiday), so Friday 3 July is a business day.
    # Notice Mon 29 Jun: Tue 30 (1), Wed 1 (2), Thu 2 (3), Fri 3 (4), Mon 6 (5) -> from Tue 7 July.
    assert date(2026, 7, 3) not in US
    assert suspension_allowed_from(date(2026, 6, 29), US) == date(2026, 7, 7)
    # The same for New Year's Day 2028 (a Saturday): Friday 31 Dec 2027 is a banking day.
    assert date(2027, 12, 31) not in US and date(2028, 1, 1) in US
    # A Sunday holiday closes the banks on Monday: Independence Day 2027 -> Monday 5 July.
    assert date(2027, 7, 5) in US


def test_the_contract_example_without_holidays_is_unchanged() -> None:
    # cpaas.txt §3.4 example kept by tests/billing/test_collections.py: notice Mon 3 Mar 2025, no
    # holiday in the week -> suspension from Tue 11 Mar 2025 on either calendar.
    assert suspension_allowed_from(date(2025, 3, 3), US) == date(2025, 3, 11)
    assert suspension_allowed_from(date(2025, 3, 3), NONE) == date(2025, 3, 11)


def test_calendar_names() -> None:
    assert business_calendar(" us ").name == "US"
    assert business_calendar("NONE").name == "none"
    assert date(2026, 11, 26) not in NONE
    assert date(2026, 4, 3) in business_calendar("XNYS")  # Good Friday: the stock exchange closes
    assert date(2026, 4, 3) not in US  # ... the banks do not
    assert date(2026, 7, 1) in business_calendar("ca")  # Canada Day, a country's public holidays
    assert "not a date" not in US
    with pytest.raises(ValueError, match="CENTREX_BUSINESS_CALENDAR 'Mars'"):
        business_calendar("Mars")


def test_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from centrex.config import load_settings

    monkeypatch.delenv("CENTREX_BUSINESS_CALENDAR", raising=False)
    assert load_settings().business_calendar == "US"
    monkeypatch.setenv("CENTREX_BUSINESS_CALENDAR", "None")
    assert load_settings().business_calendar == "none"
    monkeypatch.setenv("CENTREX_BUSINESS_CALENDAR", "bank")
    with pytest.raises(ValueError, match="CENTREX_BUSINESS_CALENDAR 'bank': use US"):
        load_settings()
