"""Quiet hours (47 CFR 64.1200(c)(1) and the state table) and where a contact is (phonenumbers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centrex.cpaas.campaigns.location import BadNumber, e164, locate
from centrex.cpaas.campaigns.quiet_hours import allowed_at, next_allowed, state_table, window_for

NY = "America/New_York"


def at(local: str, zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_numbers_are_stored_e164_and_located_from_the_area_code() -> None:
    assert e164("(212) 555-0100") == "+12125550100"
    nyc = locate("212-555-0100")
    assert (nyc.number, nyc.state, nyc.time_zones, nyc.source) == (
        "+12125550100",
        "NY",
        ("America/New_York",),
        "number",
    )
    assert locate("+1 305 555 0100").state == "FL"  # the geocoder says only "Florida"
    given = locate("+12125550100", state="tx", time_zone="America/Chicago")
    assert (given.state, given.time_zones, given.source) == ("TX", ("America/Chicago",), "given")
    assert locate("+81312345678").state is None and locate("+81312345678").time_zones == ("Asia/Tokyo",)
    with pytest.raises(BadNumber):
        e164("12345")
    with pytest.raises(BadNumber):
        locate("+12125550100", time_zone="Mars/Olympus")
    with pytest.raises(BadNumber):
        locate("+12125550100", state="ZZ")


def test_federal_window_is_8_to_9_local() -> None:
    assert allowed_at(at("2026-12-07T08:00", NY), [NY], "NY")
    assert allowed_at(at("2026-12-07T20:59", NY), [NY], "NY")
    assert not allowed_at(at("2026-12-07T07:59", NY), [NY], "NY")
    assert not allowed_at(at("2026-12-07T21:00", NY), [NY], "NY")
    # Deferred, not dropped: at 10 p.m. the next time is 8 a.m. the next morning, local.
    assert next_allowed(at("2026-12-07T22:00", NY), [NY], "NY") == at("2026-12-08T08:00", NY)


def test_stricter_states_from_the_table() -> None:
    assert state_table()[("FL", 0)] is not None
    assert not allowed_at(at("2026-12-07T20:30", NY), [NY], "FL")  # Florida: 8 p.m.
    assert window_for("CT", 0).start.hour == 9  # type: ignore[union-attr]
    assert "301.051" in window_for("TX", 6).source  # type: ignore[union-attr]
    chicago = "America/Chicago"
    assert not allowed_at(at("2026-12-06T11:00", chicago), [chicago], "TX")  # Sunday: from noon
    assert allowed_at(at("2026-12-06T12:00", chicago), [chicago], "TX")
    assert window_for("RI", 6) is None  # Rhode Island: no Sundays
    assert next_allowed(at("2026-12-06T12:00", NY), [NY], "RI") == at("2026-12-07T09:00", NY)


def test_several_zones_must_all_be_inside() -> None:
    zones = ["America/New_York", "America/Los_Angeles"]
    assert not allowed_at(at("2026-12-07T09:00", NY), zones, None)  # 6 a.m. in Los Angeles
    assert next_allowed(at("2026-12-07T09:00", NY), zones, None) == at("2026-12-07T11:00", NY)
    assert not allowed_at(at("2026-12-07T20:30", "America/Los_Angeles"), zones, None)
