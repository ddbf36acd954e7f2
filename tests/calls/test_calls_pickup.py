"""Call pickup (issue #4 point 6): *8<ext> takes the call ringing that extension, *8 a call
ringing a hunt group the picker belongs to — through CallEngine with media anchored."""

from __future__ import annotations

import uuid

from centrex.calls.directory import HuntGroupInfo
from centrex.sip.message import Request, Response

from .engine_harness import Bench, in_dialog, make_bench
from .test_calls_transfer import ANSWER, Anchor


def ringing_bench() -> tuple[Bench, Anchor]:
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063)):
        b.register(ext, port)
    return b, anchor


def finals(b: Bench) -> list[Response]:
    return [r for r in b.responses() if r.status >= 200]


def test_directed_pickup_answers_the_caller_and_the_picker_through_the_relay() -> None:
    b, anchor = ringing_bench()
    b.call("1001", "1002")
    [ring] = b.invites()
    caller_call_id = b.a_invite.call_id
    b.net.take()
    b.call("1003", "*81002", port=5063)
    sent = b.net.take()
    assert b.net.cancels == [ring.key]  # 1002 stops ringing
    oks = [s.message for s in sent if isinstance(s.message, Response) and s.message.status == 200]
    to_picker = next(r for r in oks if r.call_id != caller_call_id)
    to_caller = next(r for r in oks if r.call_id == caller_call_id)
    assert b"m=audio 40002" in to_picker.body and b"m=audio 40000" in to_caller.body
    assert b"PCMU" in to_picker.body and b"PCMU" in to_caller.body
    assert ("b", "10.0.0.1", 4000) in anchor.remotes  # the picker's media address for the relay
    picked = next(e for e in b.ended if e.hangup_cause == "picked_up")
    assert picked.from_ == "1003"
    # The caller hangs up: the BYE reaches the picker.
    bye = in_dialog("BYE", caller_call_id, "fa1001", to_caller.to.tag or "", 3, "z9hG4bKbyeP")
    b.request(bye, ("10.0.0.9", 5061))
    [to_1003] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert to_1003.message.method == "BYE" and to_1003.addr == ("10.0.0.9", 5063)
    cdr = b.ended[-1]
    assert cdr.disposition == "answered" and cdr.to == "1003"


def test_nothing_ringing_is_404() -> None:
    b, _ = ringing_bench()
    b.call("1003", "*81002", port=5063)
    assert [r.status for r in finals(b)] == [404]


def test_group_pickup_takes_a_call_ringing_the_pickers_hunt_group() -> None:
    b, _ = ringing_bench()
    tenant = b.org.tenant_a
    g = HuntGroupInfo(
        uuid.uuid4(),
        tenant.id,
        "Desk",
        "2000",
        "simultaneous",
        20,
        None,
        (b.user("1002").id, b.user("1003").id),
    )
    b.org.directory.groups[g.id] = g
    b.set_user("1003", do_not_disturb=True)  # 1003 is not rung, but may pick up
    b.call("1001", "2000")
    assert len(b.invites()) == 1
    b.net.take()
    b.call("1003", "*8", port=5063)
    assert 200 in [r.status for r in finals(b)] and len(b.net.cancels) == 1


def answered_by_1002(b: Bench) -> tuple[Request, str]:
    b.call("1001", "1002")
    [leg] = b.invites()
    b.respond(
        leg,
        200,
        to_tag="b1",
        body=ANSWER,
    )
    ok = [r for r in b.responses() if r.status == 200][-1]
    b.net.take()
    assert isinstance(leg.message, Request)
    return leg.message, ok.to.tag or ""


def park(b: Bench, leg: Request, slot: str = "") -> list:  # type: ignore[type-arg]
    req = in_dialog("REFER", leg.call_id, "b1", leg.from_.tag or "", 2, "z9hG4bKpark")
    req.headers.add("Refer-To", f"<sip:*70{slot}@a.example.com>")
    b.request(req, ("10.0.0.9", 5062))
    return b.net.take()


def test_park_releases_the_parker_plays_music_and_star71_takes_the_call_back() -> None:
    b, anchor = ringing_bench()
    leg, caller_tag = answered_by_1002(b)
    sent = park(b, leg)
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [202]
    methods = [s.message.method for s in sent if isinstance(s.message, Request)]
    assert methods == ["NOTIFY", "BYE"]  # the parker is told it worked and released
    assert ("music-on", "a", 0) in anchor.remotes
    call = next(iter(b.engine.calls.values()))
    assert call.parked == 1
    b.call("1003", "*711", port=5063)
    oks = [r for r in b.responses() if r.status == 200]
    assert oks and b"m=audio 40002" in oks[-1].body
    assert ("music-off", "a", 0) in anchor.remotes and call.parked is None
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", caller_tag, 3, "z9hG4bKbyeR")
    b.net.take()
    b.request(bye, ("10.0.0.9", 5061))
    [to_1003] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert to_1003.message.method == "BYE" and to_1003.addr == ("10.0.0.9", 5063)
    assert b.ended[-1].to == "1003"


def test_a_parked_caller_may_hang_up_and_an_empty_slot_is_404() -> None:
    b, _ = ringing_bench()
    leg, caller_tag = answered_by_1002(b)
    call = next(iter(b.engine.calls.values()))
    park(b, leg, "3")
    assert call.parked == 3
    b.call("1003", "*714", port=5063)
    assert [r.status for r in finals(b)][-1] == 404
    b.net.take()
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", caller_tag, 3, "z9hG4bKbyeQ")
    b.request(bye, ("10.0.0.9", 5061))
    assert [r.status for r in b.responses()] == [200]
    assert b.ended[-1].hangup_cause == "caller_bye_parked" and not b.engine.calls
