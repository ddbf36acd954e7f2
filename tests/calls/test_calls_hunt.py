"""Hunt groups in the call path (hosted-pbx.txt MAC 5; issue #4 point 4): simultaneous,
sequential, round-robin and longest-idle, members skipped when on DND or already in a call,
and no-answer fall-through — driven through CallEngine."""

from __future__ import annotations

import uuid

from centrex.calls.directory import HuntGroupInfo

from .engine_harness import SDP, Bench, make_bench


def group_bench(
    strategy: str, members: tuple[str, ...] = ("1002", "1003"), fall_to: str | None = None
) -> Bench:
    b = make_bench()
    tenant = b.org.tenant_a
    g = HuntGroupInfo(
        uuid.uuid4(), tenant.id, "Sales", "2000", strategy, 15, fall_to, tuple(b.user(e).id for e in members)
    )
    b.org.directory.groups[g.id] = g
    b.register("1001", 5061)
    for i, ext in enumerate(("1002", "1003", "1004")):
        b.register(ext, 5070 + i)
    b.net.take()
    return b


def rung(b: Bench) -> list[int]:
    """The phone ports INVITEd since the last take (5070 = 1002, 5071 = 1003, 5072 = 1004)."""
    return [s.addr[1] for s in b.invites() if s.addr is not None]


def test_simultaneous_rings_every_member_and_the_first_answer_wins() -> None:
    b = group_bench("simultaneous")
    b.call("1001", "2000")
    legs = b.invites()
    assert sorted(rung(b)) == [5070, 5071]
    b.respond(legs[1], 200, to_tag="x", body=SDP)
    assert len(b.net.cancels) == 1
    assert [r.status for r in b.responses() if r.status >= 200][-1] == 200


def test_sequential_rings_one_member_at_a_time_then_falls_through() -> None:
    b = group_bench("sequential", fall_to="1004")
    b.call("1001", "2000")
    assert rung(b) == [5070]
    b.net.take()
    b.tick(15.5)  # 1002 did not answer in ring_seconds
    assert rung(b) == [5071] and len(b.net.cancels) == 1
    [leg] = b.invites()
    b.net.take()
    b.respond(leg, 486)  # 1003 busy: next member — none left — fall through to 1004
    assert rung(b) == [5072]
    assert 181 in [r.status for r in b.responses()]


def test_round_robin_starts_with_the_next_member_on_each_call() -> None:
    b = group_bench("round_robin")
    firsts = []
    for port in (5061, 5063, 5065):
        b.net.take()
        b.call("1001", "2000", port=port)
        firsts.append(rung(b)[0])
    assert firsts == [5070, 5071, 5070]


def test_longest_idle_rings_the_member_idle_longest_first() -> None:
    b = group_bench("longest_idle")
    # 1002 takes a call and hangs up: 1003 (never called) is now idle longer.
    b.call("1001", "2000")
    [leg] = b.invites()
    assert leg.addr == ("10.0.0.9", 5070)
    b.respond(leg, 200, to_tag="t1", body=SDP)
    call = next(iter(b.engine.calls.values()))
    b.engine.end(call, b.now, "answered", "test", 200)  # the call ends (what a BYE does)
    b.net.take()
    b.tick(1)
    b.call("1001", "2000", port=5063)
    assert rung(b)[0] == 5071


def test_members_on_dnd_or_in_a_call_are_skipped_and_nobody_left_is_480() -> None:
    b = group_bench("sequential")
    b.set_user("1002", do_not_disturb=True)
    b.call("1001", "2000")
    assert rung(b) == [5071]
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="busy-now", body=SDP)  # 1003 is now in a call
    b.net.take()
    b.call("1001", "2000", port=5063)
    assert rung(b) == []
    assert [r.status for r in b.responses() if r.status >= 200] == [480]
