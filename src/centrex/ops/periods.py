"""When a scheduled job is due (ops/scheduler.py): daily at HH:MM UTC, monthly on day N at HH:MM
UTC, or every N seconds. Pure: time in, period out.

A period has a key ("2026-12-06", "2026-12", or the start of an N-second slot) and a start. The job
is due for the latest period whose start has passed until a run for that key succeeds; a service
that was down at 03:00 runs the day's job when it comes back, once.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Period(Protocol):
    def latest(self, now: datetime) -> tuple[str, datetime]:
        """The key and start of the latest period that started at or before ``now``."""
        ...

    def next_start(self, now: datetime) -> datetime:
        """The start of the first period after ``now``."""
        ...

    def describe(self) -> str: ...


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now: a naive datetime; give a UTC time")
    return now.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Daily:
    hour: int = 0
    minute: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.hour < 24 and 0 <= self.minute < 60):
            raise ValueError(f"Daily({self.hour}, {self.minute}): not a time of day")

    def latest(self, now: datetime) -> tuple[str, datetime]:
        now = _utc(now)
        start = now.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if start > now:
            start -= timedelta(days=1)
        return f"{start:%Y-%m-%d}", start

    def next_start(self, now: datetime) -> datetime:
        return self.latest(now)[1] + timedelta(days=1)

    def describe(self) -> str:
        return f"daily at {self.hour:02d}:{self.minute:02d} UTC"


@dataclass(frozen=True, slots=True)
class Monthly:
    """On ``day`` of each month (1-28, so every month has it) at HH:MM UTC."""

    day: int = 1
    hour: int = 0
    minute: int = 0

    def __post_init__(self) -> None:
        if not (1 <= self.day <= 28 and 0 <= self.hour < 24 and 0 <= self.minute < 60):
            raise ValueError(f"Monthly({self.day}, {self.hour}, {self.minute}): day 1-28 and a time of day")

    def _start(self, year: int, month: int) -> datetime:
        return datetime(year, month, self.day, self.hour, self.minute, tzinfo=UTC)

    def latest(self, now: datetime) -> tuple[str, datetime]:
        now = _utc(now)
        start = self._start(now.year, now.month)
        if start > now:
            year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
            start = self._start(year, month)
        return f"{start:%Y-%m}", start

    def next_start(self, now: datetime) -> datetime:
        start = self.latest(now)[1]
        days = calendar.monthrange(start.year, start.month)[1]
        nxt = start + timedelta(days=days)  # same day of the next month (day <= 28)
        return nxt

    def describe(self) -> str:
        return f"monthly on day {self.day} at {self.hour:02d}:{self.minute:02d} UTC"


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``seconds``, in slots counted from the Unix epoch (so every node agrees on them)."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"Every({self.seconds}): at least 1 second")

    def latest(self, now: datetime) -> tuple[str, datetime]:
        stamp = int(_utc(now).timestamp()) // self.seconds * self.seconds
        start = datetime.fromtimestamp(stamp, UTC)
        return f"{start:%Y-%m-%dT%H:%M:%S}", start

    def next_start(self, now: datetime) -> datetime:
        return self.latest(now)[1] + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds} s"
