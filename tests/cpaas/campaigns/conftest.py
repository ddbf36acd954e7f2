"""Campaign tests: the live API and the SMSC simulator of the messaging tests, and contacts whose
local time is day or night now — computed from the clock at test time, never written in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from centrex.cpaas.campaigns.location import BadNumber, locate
from centrex.cpaas.campaigns.quiet_hours import allowed_at
from tests.cpaas.messaging.conftest import app_server as app_server
from tests.cpaas.messaging.conftest import carrier as carrier

# Places spread round the clock (UTC-10 … UTC+11): a valid number of each, whose last two digits vary.
PLACES = (
    "+18085550100",  # Honolulu, HI
    "+14155550100",  # San Francisco, CA
    "+12125550100",  # New York, NY
    "+551123456700",  # São Paulo
    "+442071234500",  # London
    "+33123456700",  # Paris
    "+919876543200",  # India
    "+81312345600",  # Tokyo
    "+61291234500",  # Sydney
)
MARGIN = timedelta(minutes=30)  # far from a window's edge while the test runs


def numbers_where(awake: bool, count: int, now: datetime | None = None) -> list[str]:
    """``count`` valid numbers of one place where it is now (and for the next half hour) inside
    (``awake``) or outside the allowed hours."""
    now = now or datetime.now(UTC)
    for prefix in PLACES:
        found = []
        for candidate in _tails(prefix):
            try:
                place = locate(candidate)
            except BadNumber:
                continue
            zones, state = place.time_zones, place.state
            if all(allowed_at(t, zones, state) is awake for t in (now, now + MARGIN)):
                found.append(place.number)
            else:
                break  # the place does not fit: the next one
            if len(found) == count:
                return found
    raise AssertionError(f"no place where it is {'day' if awake else 'night'} now ({now})")


def _tails(example: str) -> Iterator[str]:
    for i in range(100):
        yield f"{example[:-2]}{i:02d}"
