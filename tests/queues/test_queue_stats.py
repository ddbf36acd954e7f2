"""Queue statistics from events, with every figure worked out by hand in the comments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from centrex.pbx.queue_model import QueueEvent
from centrex.pbx.queue_stats import LiveStats, live_stats, live_window, p90, period_stats, period_window

Q, T = uuid.uuid4(), uuid.uuid4()
A, B = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
START, END = datetime(2026, 1, 5, 10, 0, tzinfo=UTC), datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 1, 5, hh, mm, ss, tzinfo=UTC)


def call(
    entered: datetime, outcome: str | None = None, wait_s: float = 0, agent: uuid.UUID | None = None
) -> list[QueueEvent]:
    cid = uuid.uuid4()
    out = [QueueEvent("entered", Q, T, entered, cid)]
    if outcome:
        wait_ms = round(wait_s * 1000)
        out.append(QueueEvent(outcome, Q, T, entered + timedelta(milliseconds=wait_ms), cid, agent, wait_ms))
    return out


def hour_of_calls() -> list[QueueEvent]:
    return [
        QueueEvent("agent_login", Q, T, at(9, 55), None, A),
        QueueEvent("agent_login", Q, T, at(9, 56), None, B),
        *call(at(10, 0), "answered", 5, A),
        *call(at(10, 1), "answered", 12, A),
        *call(at(10, 2), "answered", 20, B),  # exactly 20 s: within a 20 s service level
        *call(at(10, 3), "answered", 20.001, B),  # 1 ms over
        *call(at(10, 4), "answered", 45, A),
        *call(at(10, 5), "abandoned", 30),
        *call(at(10, 6), "overflowed", 300),
        *call(at(9, 59, 59), "answered", 11, B),  # entered before the period: not counted
        *call(at(10, 59, 59), "answered", 10, A),  # answered after the end: counted (entered in it)
        *call(at(11, 0), "answered", 1, B),  # the end is exclusive
        *call(at(10, 30)),  # still waiting
    ]


def test_an_hour_of_calls_counted_by_when_they_entered() -> None:
    s = period_stats(hour_of_calls(), START, END)
    # entered 10:00, 10:01, 10:02, 10:03, 10:04, 10:05, 10:06, 10:30, 10:59:59
    assert (s.offered, s.answered, s.abandoned, s.overflowed, s.waiting) == (9, 6, 1, 1, 1)
    # waits of the answered: 5000 + 12000 + 20000 + 20001 + 45000 + 10000 = 112001 ms / 6 = 18666.8
    assert s.average_wait_ms == 18667
    # nearest rank: ceil(0.9 * 6) = 6th smallest of the six = 45000
    assert s.p90_wait_ms == 45000
    # 5, 12, 20 and 10 s are within 20 s; 8 calls have left the queue (6 + 1 + 1): 4 / 8
    assert (s.service_level_s, s.service_level_pct) == (20, 50.0)
    # A: 10:00, 10:01, 10:04, 10:59:59; B: 10:02, 10:03
    assert s.answered_by_agent == {A: 4, B: 2}
    assert list(s.answered_by_agent) == [A, B]


def test_service_level_threshold_is_the_callers_choice() -> None:
    events = hour_of_calls()
    assert period_stats(events, START, END, service_level_s=10).service_level_pct == 25.0  # 5 s, 10 s: 2/8
    assert period_stats(events, START, END, service_level_s=30).service_level_pct == 62.5  # + 20.001: 5/8
    assert period_stats(events, START, END, service_level_s=60).service_level_pct == 75.0  # all 6 answered


def test_percent_rounded_half_up_to_a_tenth() -> None:
    events = [
        *call(at(10, 1), "answered", 3, A),
        *call(at(10, 2), "abandoned", 40),
        *call(at(10, 3), "overflowed", 300),
    ]
    assert period_stats(events, START, END).service_level_pct == 33.3  # 1/3
    events += call(at(10, 4), "answered", 4, B)
    events += call(at(10, 5), "answered", 25, B)
    events += call(at(10, 6), "answered", 2, A)
    # 3 within of 6 left = 50.0; add one more within: 4 of 7 = 57.142.. -> 57.1
    assert period_stats(events, START, END).service_level_pct == 50.0
    events += call(at(10, 7), "answered", 1, A)
    assert period_stats(events, START, END).service_level_pct == 57.1
    # 2 of 3 = 66.666.. -> 66.7
    two_of_three = [*call(at(10, 1), "answered", 1, A), *call(at(10, 2), "answered", 2, A)]
    two_of_three += call(at(10, 3), "abandoned", 9)
    assert period_stats(two_of_three, START, END).service_level_pct == 66.7


def test_average_rounds_half_up_and_p90_of_ten() -> None:
    events = [e for i in range(10) for e in call(at(10, i), "answered", i + 1, A)]  # 1 .. 10 s
    s = period_stats(events, START, END)
    assert s.average_wait_ms == 5500  # 55000 / 10
    assert s.p90_wait_ms == 9000  # the 9th smallest of 10
    assert p90([]) is None and p90([7]) == 7
    # 1 ms and 2 ms: 1.5 rounds up to 2
    assert (
        period_stats(
            [*call(at(10, 1), "answered", 0.001), *call(at(10, 2), "answered", 0.002)], START, END
        ).average_wait_ms
        == 2
    )


def test_an_empty_period_has_no_averages() -> None:
    s = period_stats([], START, END)
    assert (s.offered, s.answered, s.average_wait_ms, s.p90_wait_ms, s.service_level_pct) == (
        0,
        0,
        None,
        None,
        None,
    )
    assert s.answered_by_agent == {}
    only_waiting = period_stats(call(at(10, 30)), START, END)
    assert (only_waiting.offered, only_waiting.waiting, only_waiting.service_level_pct) == (1, 1, None)


def test_a_caller_who_enters_again_is_offered_twice() -> None:
    cid = uuid.uuid4()
    events = [
        QueueEvent("entered", Q, T, at(10, 0), cid),
        QueueEvent("overflowed", Q, T, at(10, 5), cid, None, 300_000),
        QueueEvent("entered", Q, T, at(10, 5, 1), cid),  # the overflow destination is this queue
        QueueEvent("answered", Q, T, at(10, 5, 9), cid, B, 8000),
        QueueEvent("answered", Q, T, at(10, 6), uuid.uuid4(), A, 1000),  # no entry seen: ignored
    ]
    s = period_stats(events, START, END)
    assert (s.offered, s.overflowed, s.answered, s.average_wait_ms, s.answered_by_agent) == (
        2,
        1,
        1,
        8000,
        {B: 1},
    )


def test_live_callers_waiting_and_the_longest_wait() -> None:
    now = at(10, 10)
    events = [
        *hour_of_calls()[:-1],
        *call(at(10, 6)),  # waiting 4 min = 240000 ms
        *call(at(10, 9, 30)),  # 30000 ms
        *call(at(10, 3, 59)),  # older than max wait 300 s + 60 s grace: lost by the switch, not waiting
    ]
    events = [e for e in events if e.at >= live_window(now, 300)]
    assert live_window(now, 300) == at(10, 4)
    assert live_stats(events, now, agents_logged_in=2, max_wait_s=300) == LiveStats(2, 240000, 2)
    assert live_stats([], now, 0, 300) == LiveStats(0, 0, 0)


def test_period_window_reaches_past_the_end_by_max_wait_and_grace() -> None:
    assert period_window(START, END, 300) == (START, END + timedelta(seconds=360))
