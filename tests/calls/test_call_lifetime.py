"""Calls that always end (issue 13 §3), driven without sockets: the tenant's longest call, the
relay's no-media report, and the dialogs the journal keeps so a restart can still hang up."""

from __future__ import annotations

from dataclasses import replace

from centrex.calls.dialog_record import CSEQ_MARGIN, DialogRecord, records_from_json
from centrex.calls.events import CallDialogs
from centrex.sip.message import Request, Response

from .engine_harness import Bench, in_dialog, make_bench
from .helpers import DOMAIN_A


def ready() -> Bench:
    b = make_bench()
    b.register("1001", 5061)
    b.register("1002", 5062)
    b.net.take()
    return b


def answer(b: Bench, at: float = 1.0) -> tuple[str, Request]:
    b.call("1001", "1002")
    leg = b.invites()[0]
    b.now = at
    b.respond(leg, 200, to_tag="b1", body=b"v=0 answer")
    ok = [r for r in b.responses() if r.status == 200][-1]
    b.net.take()
    assert isinstance(leg.message, Request)
    return ok.to.tag or "", leg.message


def byes(b: Bench) -> list[tuple[str, tuple[str, int] | None]]:
    return [
        (s.message.call_id, s.addr)
        for s in b.net.take()
        if isinstance(s.message, Request) and s.message.method == "BYE"
    ]


def limit_calls(b: Bench, seconds: int) -> None:
    tenant = b.org.directory.tenants[DOMAIN_A]
    b.org.directory.tenants[DOMAIN_A] = replace(tenant, max_call_s=seconds)


def test_a_call_past_the_tenants_longest_call_is_hung_up_on_both_sides() -> None:
    b = ready()
    limit_calls(b, 90)
    _, leg = answer(b, at=1.0)
    b.tick(80.0)  # t = 81: not yet
    assert b.ended == [] and byes(b) == []
    b.tick(10.0)  # t = 91: 90 s after the answer
    assert sorted(byes(b)) == sorted(
        [(b.a_invite.call_id, ("10.0.0.9", 5061)), (leg.call_id, ("10.0.0.9", 5062))]
    )
    [cdr] = b.ended
    assert (cdr.disposition, cdr.hangup_cause, cdr.duration_ms) == ("answered", "max_duration", 90_000)
    assert b.engine.active_calls == 0


def test_a_hold_re_invite_does_not_restart_the_longest_call_clock() -> None:
    b = ready()
    limit_calls(b, 60)
    a_tag, _ = answer(b, at=0.0)
    b.now = 30.0
    b.request(
        in_dialog("INVITE", b.a_invite.call_id, "fa1001", a_tag, 3, "z9hG4bKhold", b"v=0 hold"),
        ("10.0.0.9", 5061),
    )
    relayed = [s for s in b.net.take() if isinstance(s.message, Request) and s.message.method == "INVITE"]
    b.respond(relayed[0], 200, to_tag="b1", body=b"v=0 held")
    b.tick(30.0)
    assert [c.hangup_cause for c in b.ended] == ["max_duration"]


def test_a_call_whose_media_stopped_is_hung_up_and_its_cdr_says_why() -> None:
    b = ready()
    answer(b, at=2.0)
    call = next(iter(b.engine.calls))
    b.now = 62.0
    b.engine.media_stopped(str(call), b.now)
    assert len(byes(b)) == 2
    [cdr] = b.ended
    assert (cdr.disposition, cdr.hangup_cause, cdr.sip_code, cdr.duration_ms) == (
        "answered",
        "media_timeout",
        408,
        60_000,
    )


def test_no_media_report_for_a_ringing_or_unknown_call_changes_nothing() -> None:
    b = ready()
    b.call("1001", "1002")
    b.net.take()
    call = next(iter(b.engine.calls))
    b.engine.media_stopped(str(call), b.now)
    b.engine.media_stopped("not-a-uuid", b.now)
    assert b.ended == [] and b.engine.active_calls == 1


def test_the_journal_gets_both_dialogs_at_the_answer_and_a_restart_can_end_them() -> None:
    b = ready()
    seen: list[CallDialogs] = []
    b.engine.on_call_dialogs = seen.append
    a_tag, leg = answer(b)
    [ev] = seen
    a, callee = ev.dialogs
    assert (a.call_id, a.local_tag, a.remote_tag, (a.host, a.port)) == (
        b.a_invite.call_id,
        a_tag,
        "fa1001",
        ("10.0.0.9", 5061),
    )
    assert (callee.call_id, callee.remote_tag, (callee.host, callee.port)) == (
        leg.call_id,
        "b1",
        ("10.0.0.9", 5062),
    )
    # What the journal stores comes back whole, and its BYE is one the phone accepts: its own
    # Call-ID and tags, our CSeq past anything sent since.
    [again] = records_from_json([callee.as_json()])
    assert again == callee
    bye = again.bye()
    assert (bye.method, bye.call_id, bye.from_.tag, bye.to.tag) == ("BYE", leg.call_id, leg.from_.tag, "b1")
    assert bye.cseq.seq == callee.local_seq + CSEQ_MARGIN + 1 and str(bye.uri) == "sip:phone@10.0.0.9:5062"
    # After a restart the engine sends them.
    other = make_bench()
    assert other.engine.end_dialogs([a, callee]) == 2
    sent = [s for s in other.net.take() if isinstance(s.message, Request)]
    assert [(s.message.method, s.addr) for s in sent] == [
        ("BYE", ("10.0.0.9", 5061)),
        ("BYE", ("10.0.0.9", 5062)),
    ]


def test_damaged_journal_dialogs_are_skipped() -> None:
    good = DialogRecord(
        "c", "l", "r", "<sip:a@x>", "<sip:b@y>", "sip:b@10.0.0.1:5060", (), 1, "UDP", "10.0.0.1", 5060
    )
    assert records_from_json([{"call_id": "x"}, "junk", good.as_json()]) == [good]
    assert records_from_json(None) == []


def test_no_answer_no_dialogs() -> None:
    b = ready()
    seen: list[CallDialogs] = []
    b.engine.on_call_dialogs = seen.append
    b.call("1001", "1002")
    b.respond(b.invites()[0], 486)
    assert seen == [] and [r.status for r in b.responses() if isinstance(r, Response)][-1] == 486


def test_a_stopping_switch_ends_every_call_cleanly() -> None:
    b = ready()
    b.register("1003", 5063)
    answer(b, at=1.0)
    b.call("1003", "1001", port=5063)  # still ringing when the switch stops
    ringing_leg = b.invites()[-1]
    b.net.take()
    b.now = 5.0
    assert b.engine.hang_up_all(b.now) == 2
    sent = b.net.take()
    assert len([s for s in sent if isinstance(s.message, Request) and s.message.method == "BYE"]) == 2
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [503]
    assert ringing_leg.key in b.net.cancels
    assert sorted((c.disposition, c.hangup_cause) for c in b.ended) == [
        ("answered", "shutdown"),
        ("failed", "shutdown"),
    ]
    assert b.engine.active_calls == 0
