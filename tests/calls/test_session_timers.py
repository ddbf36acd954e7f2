"""RFC 4028 session timers and RFC 3262 PRACK through the call core (issue 13 §2, §3), driven
without sockets: 422 for a too-short session, the interval and refresher in our 200 and in our
INVITE to the callee, refreshes sent and received, and a session nobody refreshed ending both
sides with a CDR that says why."""

from __future__ import annotations

from centrex.sip.events import ResponseReceived, TransactionTimedOut
from centrex.sip.message import Request, Response, make_response
from centrex.sip.session_timer import TimerPolicy

from .engine_harness import Bench, Sent, in_dialog, invite_req, make_bench

SHORT = TimerPolicy(session_expires=4, min_se=2, allow_short=True)


def ready() -> Bench:
    b = make_bench()
    b.engine.session_timers.policy = SHORT
    b.register("1001", 5061)
    b.register("1002", 5062)
    b.net.take()
    return b


def call_with_timer(b: Bench, session_expires: str = "4;refresher=uac") -> None:
    """1001 calls 1002 offering a session timer it will refresh itself."""
    first = invite_req("1001", "1002", call_id="st-call", port=5061)
    first.headers.add("Supported", "timer")
    first.headers.add("Session-Expires", session_expires)
    b.request(first, ("10.0.0.9", 5061))
    challenge = b.net.take()[-1].message
    assert isinstance(challenge, Response) and challenge.status == 407
    second = invite_req("1001", "1002", call_id="st-call", cseq=2, port=5061, branch="z9hG4bKa2")
    second.headers.add("Supported", "timer")
    second.headers.add("Session-Expires", session_expires)
    from .helpers import answer

    second.headers.add("Proxy-Authorization", answer(challenge, second, "1001"))
    b.a_invite = second
    b.request(second, ("10.0.0.9", 5061))


def respond(b: Bench, sent: Sent, status: int, extra: list[tuple[str, str]], to_tag: str = "b1") -> None:
    assert isinstance(sent.message, Request) and sent.key is not None
    resp = make_response(
        sent.message, status, to_tag=to_tag, extra=[("Contact", "<sip:phone@10.0.0.9:5062>"), *extra]
    )
    if status == 200 and sent.message.method == "INVITE":
        resp.body = b"v=0 answer"
        resp.headers.add("Content-Type", "application/sdp")
    b.engine.handle(ResponseReceived(resp, sent.addr or ("0", 0), sent.key), sent.transport, b.now)


def requests(b: Bench, method: str) -> list[Sent]:
    return [s for s in b.net.take() if isinstance(s.message, Request) and s.message.method == method]


def test_a_session_shorter_than_our_min_se_is_refused_with_422() -> None:
    b = ready()
    req = invite_req("1001", "1002", call_id="short")
    req.headers.add("Session-Expires", "1")
    b.request(req, ("10.0.0.9", 5061))
    [r] = b.responses()
    assert (r.status, r.headers.get("Min-SE")) == (422, "2")
    assert b.engine.active_calls == 0


def test_our_200_and_our_invite_carry_the_timer_and_an_unrefreshed_session_ends_both_sides() -> None:
    b = ready()
    call_with_timer(b)
    [leg] = b.invites()
    assert leg.message.headers.get("Session-Expires") == "4" and leg.message.headers.get("Min-SE") == "2"
    assert "timer" in (leg.message.headers.get("Supported") or "")
    b.now = 1.0
    respond(b, leg, 200, [])  # the callee knows nothing of timers: no timer on its side
    [ok] = [r for r in b.responses() if r.status == 200]
    assert ok.headers.get("Session-Expires") == "4;refresher=uac" and ok.headers.get("Require") == "timer"
    b.net.take()
    b.tick(2.5)  # t = 3.5: not yet (4 - 4/3 = 2.67 s after the answer at 1.0 is 3.67)
    assert b.ended == []
    b.tick(0.5)  # t = 4.0: the caller never refreshed
    assert len(requests(b, "BYE")) == 2
    [cdr] = b.ended
    assert (cdr.disposition, cdr.hangup_cause, cdr.sip_code) == ("answered", "session_expired", 408)
    assert cdr.duration_ms == 3000  # from the answer to the timer turn that found it over


def test_a_refresh_relayed_through_the_call_keeps_it_up() -> None:
    b = ready()
    call_with_timer(b)
    [leg] = b.invites()
    b.now = 1.0
    respond(b, leg, 200, [])
    [ok] = [r for r in b.responses() if r.status == 200]
    b.net.take()
    b.now = 3.0  # the caller refreshes with a re-INVITE at half the interval
    refresh = in_dialog("INVITE", "st-call", "fa1001", ok.to.tag or "", 3, "z9hG4bKref", b"v=0 again")
    refresh.headers.add("Session-Expires", "4;refresher=uac")
    refresh.headers.add("Supported", "timer")
    b.request(refresh, ("10.0.0.9", 5061))
    [fwd] = requests(b, "INVITE")
    b.respond(fwd, 200, body=b"v=0 answer")
    [relayed] = [r for r in b.responses() if r.status == 200]
    assert relayed.headers.get("Session-Expires") == "4;refresher=uac"
    b.tick(1.0)  # t = 4.0: past the first deadline (3.67), but refreshed at 3.0
    assert b.ended == []
    b.tick(1.5)  # t = 5.5: 2.67 s after the refresh at 3.0 is 5.67
    assert b.ended == []
    b.tick(0.5)  # t = 6.0
    assert [c.hangup_cause for c in b.ended] == ["session_expired"]


def answered_with_callee_timer(b: Bench, allow: str = "INVITE, ACK, BYE, UPDATE") -> Sent:
    b.call("1001", "1002")
    [leg] = b.invites()
    b.now = 1.0
    respond(b, leg, 200, [("Session-Expires", "4"), ("Allow", allow)])  # no refresher: we (the UAC) refresh
    b.net.take()
    return leg


def test_we_refresh_the_callee_with_update_and_a_refresh_nobody_answers_ends_the_call() -> None:
    b = ready()
    answered_with_callee_timer(b)
    b.tick(2.0)  # t = 3: half the interval after the answer at 1
    [update] = requests(b, "UPDATE")
    assert (
        update.addr == ("10.0.0.9", 5062)
        and update.message.headers.get("Session-Expires") == "4;refresher=uac"
    )
    assert update.message.body == b""
    b.tick(0.5)
    assert b.ended == []
    b.tick(0.5)  # t = 4: 2.67 s after the answer, no answer to the UPDATE
    assert len(requests(b, "BYE")) == 2
    assert [c.hangup_cause for c in b.ended] == ["session_expired"]


def test_an_answered_refresh_keeps_the_call_and_a_failed_one_ends_it() -> None:
    b = ready()
    answered_with_callee_timer(b)
    b.tick(2.0)
    [update] = requests(b, "UPDATE")
    respond(b, update, 200, [("Session-Expires", "4;refresher=uac")])
    b.tick(1.5)  # t = 4.5: refreshed at 3
    assert b.ended == []
    b.tick(0.5)  # t = 5: the next refresh, which the callee refuses
    [again] = requests(b, "UPDATE")
    respond(b, again, 481, [])
    assert [c.hangup_cause for c in b.ended] == ["session_refresh_failed"]


def test_a_refresh_that_times_out_ends_the_call() -> None:
    b = ready()
    answered_with_callee_timer(b)
    b.tick(2.0)
    [update] = requests(b, "UPDATE")
    assert update.key is not None
    b.engine.handle(TransactionTimedOut(update.key, "F"), "UDP", b.now)
    assert [c.hangup_cause for c in b.ended] == ["session_refresh_failed"]


def test_a_callee_without_update_is_refreshed_by_re_invite_with_its_sdp() -> None:
    b = ready()
    leg = answered_with_callee_timer(b, allow="INVITE, ACK, BYE")
    b.tick(2.0)
    [reinvite] = requests(b, "INVITE")
    assert reinvite.message.body == leg.message.body and reinvite.message.to.tag == "b1"
    respond(b, reinvite, 200, [("Session-Expires", "4;refresher=uac")])
    assert [s.message.method for s in b.net.take() if isinstance(s.message, Request)] == ["ACK"]


def test_the_callees_422_is_retried_with_its_min_se() -> None:
    b = ready()
    b.call("1001", "1002")
    [leg] = b.invites()
    b.net.take()
    respond(b, leg, 422, [("Min-SE", "10")], to_tag="")
    [again] = requests(b, "INVITE")
    assert (
        again.message.headers.get("Session-Expires") == "10" and again.message.call_id == leg.message.call_id
    )
    assert again.message.cseq.seq == leg.message.cseq.seq + 1


def test_a_bodyless_update_is_a_refresh_answered_here() -> None:
    b = ready()
    call_with_timer(b)
    [leg] = b.invites()
    respond(b, leg, 200, [])
    [ok] = [r for r in b.responses() if r.status == 200]
    b.net.take()
    update = in_dialog("UPDATE", "st-call", "fa1001", ok.to.tag or "", 3, "z9hG4bKupd")
    update.headers.add("Session-Expires", "4;refresher=uac")
    update.headers.add("Supported", "timer")
    b.request(update, ("10.0.0.9", 5061))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    assert [s for s in sent if isinstance(s.message, Request)] == []  # not relayed


def test_reliable_provisionals_are_pracked_once_each_and_the_bye_goes_past_their_cseq() -> None:
    b = ready()
    b.call("1001", "1002")
    [leg] = b.invites()
    b.net.take()
    reliable = [("Require", "100rel"), ("RSeq", "7")]
    respond(b, leg, 180, reliable)
    respond(b, leg, 180, reliable)  # retransmitted: PRACKed again, relayed once
    sent = b.net.take()
    pracks = [s.message for s in sent if isinstance(s.message, Request) and s.message.method == "PRACK"]
    assert [p.headers.get("RAck") for p in pracks] == [f"7 {leg.message.cseq.seq} INVITE"] * 2
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [180]
    respond(b, leg, 200, [])
    b.net.take()
    call = next(iter(b.engine.calls.values()))
    b.engine.hang_up(call, b.now, "test", 200)
    [bye] = [s.message for s in requests(b, "BYE") if s.message.call_id == leg.message.call_id]
    assert bye.cseq.seq > max(p.cseq.seq for p in pracks)
