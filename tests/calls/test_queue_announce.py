"""Queue position announcements (issue #4 point 4): a waiting caller hears "You are caller number N"
over the music once on entry and every ``announce_position_s`` after, N its place among the
queue's waiting callers; it stops when an agent answers, and a later caller moves up — through
CallEngine with the relay port recorded (the audio itself: tests/interop)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from centrex.apps.prompts import PromptLibrary
from centrex.media.g711 import Pcm
from centrex.pbx.queue_model import position_phrase
from centrex.pbx.queues import QUEUE_FIRST_ANNOUNCE_S, Queues
from centrex.sip.message import Request

from .engine_harness import Bench, in_dialog
from .test_calls_queues import queue_bench
from .test_calls_transfer import ANSWER, Anchor

PROMPTS = PromptLibrary(None, "tones")


@dataclass
class AnnouncingAnchor(Anchor):
    """The relay port, with the prompts it was asked to play (call id, leg, payload type, audio)."""

    played: list[tuple[str, str, int, Pcm]] = field(default_factory=list)

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None:
        self.played.append((call_id, leg, payload_type, pcm))


def positions(anchor: AnnouncingAnchor, b: Bench, caller_call_id: str) -> list[int]:
    """Which "caller number N" each prompt played to that call said (matched against the audio)."""
    said = []
    for call_id, leg, pt, pcm in anchor.played:
        if call_id != caller_call_id:
            continue
        assert leg == "a" and pt == 0
        [n] = [n for n in range(1, 6) if np.array_equal(pcm, PROMPTS.phrase(position_phrase(n)))]
        said.append(n)
    return said


def bench(**settings: object) -> tuple[Bench, AnnouncingAnchor]:
    b, _, _, _ = queue_bench(**settings)
    anchor = AnnouncingAnchor()
    b.engine.media = anchor
    b.engine.service(Queues).prompt_audio = PROMPTS.phrase
    return b, anchor


def queued_call_ids(b: Bench) -> list[str]:
    return [str(c.id) for c in sorted(b.engine.calls.values(), key=lambda c: c.started_mono) if c.queue]


def test_two_waiting_callers_hear_their_positions_at_the_interval_until_answered() -> None:
    b, anchor = bench(agents=("1002",), agent_ring_s=120, announce_position_s=20)
    b.call("1001", "3000")  # offered to 1002 at once, waits while it rings
    [agent_leg] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    b.tick(0.5)
    assert not anchor.played  # not before the caller's media is up
    b.tick(QUEUE_FIRST_ANNOUNCE_S)
    first = queued_call_ids(b)[0]
    assert positions(anchor, b, first) == [1]  # once on entry
    b.tick(3.5)  # t = 5: a second caller, behind the first
    b.call("1001", "3000", port=5065)
    second = queued_call_ids(b)[1]
    b.tick(QUEUE_FIRST_ANNOUNCE_S + 0.01)
    assert positions(anchor, b, second) == [2]
    b.tick(14)  # t = 20: nothing yet for either (every 20 s from their first)
    assert (positions(anchor, b, first), positions(anchor, b, second)) == ([1], [2])
    b.tick(1.5)  # t = 21.5
    assert positions(anchor, b, first) == [1, 1]
    b.tick(5)  # t = 26.5
    assert positions(anchor, b, second) == [2, 2]
    # 1002 answers the first caller: no more announcements for it; the second moves up.
    b.respond(agent_leg, 200, to_tag="agent", body=ANSWER)
    b.tick(20)  # t = 46.5
    assert positions(anchor, b, first) == [1, 1]
    assert positions(anchor, b, second) == [2, 2, 1]
    b.tick(20)
    assert positions(anchor, b, first) == [1, 1] and positions(anchor, b, second) == [2, 2, 1, 1]


def test_a_caller_who_hangs_up_hears_nothing_more_and_the_next_one_moves_up() -> None:
    b, anchor = bench(agents=(), announce_position_s=10)
    b.call("1001", "3000")
    first = queued_call_ids(b)[0]
    call = b.engine.calls[next(iter(b.engine.calls))]
    ok = next(r for r in b.responses() if r.status == 200)
    b.call("1001", "3000", port=5065)
    second = queued_call_ids(b)[1]
    b.tick(QUEUE_FIRST_ANNOUNCE_S + 0.01)
    assert (positions(anchor, b, first), positions(anchor, b, second)) == ([1], [2])
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", ok.to.tag or "", 3, "z9hG4bKqa1")
    b.request(bye, ("10.0.0.9", 5061))
    b.tick(10)
    assert (positions(anchor, b, first), positions(anchor, b, second)) == ([1], [2, 1])


def test_overflow_ends_the_announcements_and_zero_means_never() -> None:
    b, anchor = bench(agents=(), max_wait_s=30, overflow_destination="1004", announce_position_s=10)
    b.call("1001", "3000")
    first = queued_call_ids(b)[0]
    for _ in range(29):
        b.tick(1)
    assert positions(anchor, b, first) == [1, 1, 1]  # t = 1, 11, 21
    b.tick(1.5)  # overflowed to 1004 at t = 30
    assert [s.addr for s in b.invites() if isinstance(s.message, Request)][-1] == ("10.0.0.9", 5064)
    for _ in range(30):
        b.tick(1)
    assert positions(anchor, b, first) == [1, 1, 1]

    b, anchor = bench(agents=(), announce_position_s=0)
    b.call("1001", "3000")
    b.tick(120)
    assert anchor.played == [] and queued_call_ids(b)


def test_without_prompts_or_an_announcing_anchor_the_caller_keeps_the_music() -> None:
    b, _, _, _ = queue_bench(agents=(), announce_position_s=10)  # the plain Anchor: no announce()
    b.engine.service(Queues).prompt_audio = PROMPTS.phrase
    b.call("1001", "3000")
    b.tick(25)
    assert queued_call_ids(b)  # still waiting, nothing broke
    b, anchor = bench(agents=(), announce_position_s=10)
    b.engine.service(Queues).prompt_audio = None
    b.call("1001", "3000")
    b.tick(25)
    assert anchor.played == [] and queued_call_ids(b)
