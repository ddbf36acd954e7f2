"""Response clocks on the operator's business calendar (hosted-pbx.txt Monitoring 2): priority 1 is
8 wall-clock hours, priority 2 is 24 business hours — by default 08:00-17:00 America/New_York,
Monday to Friday except Federal Reserve holidays. Fixed instants: no clock is read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from centrex.billing.periods import business_calendar
from centrex.config import Settings
from centrex.ops.alarm_policy import AlarmPolicy
from centrex.ops.business_hours import BusinessHours, parse_hours, parse_zone, response_due

NY = parse_zone("America/New_York")


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture(scope="module")
def hours() -> BusinessHours:
    return AlarmPolicy.from_settings(Settings()).hours  # the defaults


def test_the_defaults_are_nine_to_five_new_york_on_the_us_bank_calendar(hours: BusinessHours) -> None:
    assert (hours.opens, hours.closes, hours.zone.key) == (time(8), time(17), "America/New_York")
    assert date(2026, 12, 25) in hours.holidays  # Christmas, a Friday
    assert not hours.is_business_day(date(2026, 12, 25))
    assert not hours.is_business_day(date(2026, 12, 5))  # Saturday


def test_priority_1_is_eight_wall_clock_hours_even_on_a_weekend(hours: BusinessHours) -> None:
    raised = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)  # Saturday night
    assert response_due(1, raised, hours) == datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def test_priority_2_counts_only_business_hours(hours: BusinessHours) -> None:
    # Monday 10:00: 7 h Monday, 9 h Tuesday, 8 h Wednesday -> Wednesday 16:00.
    assert response_due(2, et(2026, 12, 7, 10), hours) == et(2026, 12, 9, 16)


def test_priority_2_raised_friday_afternoon_skips_the_weekend(hours: BusinessHours) -> None:
    # Friday 16:00: 1 h Friday, 9 Monday, 9 Tuesday, 5 Wednesday -> Wednesday 13:00.
    assert response_due(2, et(2026, 12, 4, 16), hours) == et(2026, 12, 9, 13)


def test_priority_2_raised_on_saturday_starts_monday_morning(hours: BusinessHours) -> None:
    assert response_due(2, et(2026, 12, 5, 12), hours) == et(2026, 12, 9, 14)


def test_priority_2_raised_at_night_starts_next_morning(hours: BusinessHours) -> None:
    # Tuesday 23:30: nothing counts until Wednesday 08:00; 9 + 9 + 6 -> Friday 14:00.
    assert response_due(2, et(2026, 12, 8, 23, 30), hours) == et(2026, 12, 11, 14)


def test_priority_2_skips_a_holiday(hours: BusinessHours) -> None:
    # Thursday 24 Dec 09:00: 8 h Thursday, Christmas Friday off, weekend, 9 Monday, 7 Tuesday.
    assert response_due(2, et(2026, 12, 24, 9), hours) == et(2026, 12, 29, 15)
    # With no holiday calendar Christmas is a working Friday: 8 + 9 + 7 -> Monday 15:00.
    plain = BusinessHours(hours.opens, hours.closes, hours.zone, business_calendar("none"))
    assert response_due(2, et(2026, 12, 24, 9), plain) == et(2026, 12, 28, 15)


def test_priority_2_across_the_change_to_daylight_time(hours: BusinessHours) -> None:
    # Friday 12 March 2027 at closing time; DST starts Sunday 14 March: 9 + 9 + 6 -> Wednesday
    # 14:00 EDT, which is 18:00 UTC (it would be 19:00 UTC in winter).
    due = response_due(2, et(2027, 3, 12, 17), hours)
    assert due == et(2027, 3, 17, 14) == datetime(2027, 3, 17, 18, 0, tzinfo=UTC)


def test_the_operator_sets_its_own_hours_zone_and_calendar() -> None:
    settings = Settings(
        business_hours="09:00-13:00", business_timezone="Europe/London", business_calendar="GB"
    )
    hours = AlarmPolicy.from_settings(settings).hours
    london = parse_zone("Europe/London")
    # Thursday 24 Dec 2026 12:00: 1 h; Christmas (Friday) and Boxing Day (substitute, Monday 28)
    # are off in England, and so is New Year's Day (Friday 1 Jan): 1 + 4 (Tue 29) + 4 (Wed 30)
    # + 4 (Thu 31) + 4 (Mon 4 Jan) + 4 (Tue 5) + 3 (Wed 6) = 24 -> Wednesday 6 Jan 12:00.
    due = response_due(2, datetime(2026, 12, 24, 12, tzinfo=london), hours)
    assert due == datetime(2027, 1, 6, 12, tzinfo=london)
    assert hours.between(datetime(2026, 12, 24, 12, tzinfo=london), due) == timedelta(hours=24)


def test_bad_settings_say_what_is_accepted() -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_hours("nine to five")
    with pytest.raises(ValueError, match="open before it closes"):
        parse_hours("17:00-08:00")
    with pytest.raises(ValueError, match="IANA"):
        parse_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="priority must be 1 or 2"):
        response_due(3, et(2026, 12, 7, 10), BusinessHours(time(8), time(17), NY))
