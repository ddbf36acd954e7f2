"""Park timeout (issue #4 point 6): a parked call nobody takes back within the tenant's
``park_timeout_s`` rings the phones of the user who parked it ("Park <slot>: <caller>"); unanswered
in the parker's no-answer time it goes to their voicemail, or without a mailbox stays parked and
rings them again later. Taking it back with *71<slot> first (or while it rings) prevents that —
through CallEngine with the relay port recorded."""

from __future__ import annotations

from dataclasses import replace

from centrex.pbx.apps import Apps
from centrex.sip.message import Request, Response

from .engine_harness import Bench, in_dialog, make_bench
from .helpers import DOMAIN_A
from .test_calls_pickup import answered_by_1002, park
from .test_calls_transfer import ANSWER, Anchor

APP = ("127.0.0.1", 5999)
TIMEOUT_S = 60


def parked_bench(*, voicemail: bool = False, no_answer_s: int = 15) -> tuple[Bench, Anchor, str]:
    """1001 calls 1002, who answers and parks the call in slot 1; the tenant's timeout is 60 s."""
    b = make_bench()
    b.org.directory.tenants[DOMAIN_A] = replace(b.org.tenant_a, park_timeout_s=TIMEOUT_S)
    b.set_user("1002", voicemail=voicemail, forward_no_answer_seconds=no_answer_s)
    b.engine.service(Apps).address = APP
    anchor = Anchor()
    b.engine.media = anchor
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063)):
        b.register(ext, port)
    leg, caller_tag = answered_by_1002(b)
    park(b, leg)
    assert next(iter(b.engine.calls.values())).parked == 1
    return b, anchor, caller_tag


def to_port(b: Bench, port: int) -> list[Request]:
    return [s.message for s in b.invites() if s.addr == ("10.0.0.9", port) and isinstance(s.message, Request)]


def test_an_unclaimed_parked_call_rings_the_parker_back_and_they_talk_again() -> None:
    b, anchor, caller_tag = parked_bench()
    call = next(iter(b.engine.calls.values()))
    b.tick(TIMEOUT_S - 1)
    assert not b.invites()  # still parked, with music
    b.tick(1.5)
    [recall] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    assert isinstance(recall.message, Request)
    frm = recall.message.from_
    assert frm.display_name == "Park 1: User 1001" and frm.uri.user == "1001"  # type: ignore[union-attr]
    assert recall.message.to.uri.user == "1002"  # type: ignore[union-attr]
    assert b"m=audio 40002" in recall.message.body  # offered the relay's b side
    assert call.parked == 1 and call.recalling
    b.net.take()
    b.respond(recall, 180)
    assert not b.responses()  # the caller, answered long ago, hears music, not a second 180
    b.respond(recall, 200, to_tag="back", body=ANSWER)
    sent = b.net.take()
    assert [s.message.method for s in sent if isinstance(s.message, Request)] == ["ACK"]
    assert not [s for s in sent if isinstance(s.message, Response)]  # the caller is not re-answered
    assert ("music-off", "a", 0) in anchor.remotes
    assert call.parked is None and not call.recalling and call.answered is not None
    # Talking again: the caller's BYE reaches 1002's phone.
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", caller_tag, 3, "z9hG4bKbyeP")
    b.request(bye, ("10.0.0.9", 5061))
    [to_1002] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert to_1002.message.method == "BYE" and to_1002.addr == ("10.0.0.9", 5062)
    cdr = b.ended[-1]
    assert (cdr.to, cdr.disposition) == ("1002", "answered")
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [("1002", "answered")] * 2
    # The slot is free again: nothing parked, nothing to retrieve.
    b.call("1003", "*711", port=5063)
    assert [r.status for r in b.responses() if r.status >= 200][-1] == 404


def test_taking_the_call_back_before_the_timeout_means_no_ringback() -> None:
    b, _, _ = parked_bench()
    b.tick(TIMEOUT_S / 2)
    b.call("1003", "*711", port=5063)
    assert [r.status for r in b.responses() if r.status == 200]
    b.net.take()
    b.tick(TIMEOUT_S)
    b.tick(TIMEOUT_S)
    assert not b.invites()  # 1002's phone never rang again
    call = next(iter(b.engine.calls.values()))
    assert call.parked is None and call.answered is not None and call.answered.label == "1003"


def test_retrieving_while_it_rings_the_parker_stops_their_phone() -> None:
    b, _, _ = parked_bench()
    b.tick(TIMEOUT_S + 0.5)
    [recall] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    b.net.take()
    b.call("1003", "*711", port=5063)
    assert recall.key in b.net.cancels  # 1002's phone stops ringing
    assert [r.status for r in b.responses() if r.status == 200]
    call = next(iter(b.engine.calls.values()))
    assert call.answered is not None and call.answered.label == "1003" and not call.recalling
    b.respond(recall, 200, to_tag="late", body=ANSWER)  # a late answer is hung up
    assert [s.message.method for s in b.net.take() if isinstance(s.message, Request)] == ["ACK", "BYE"]


def test_an_unanswered_recall_goes_to_the_parkers_voicemail() -> None:
    b, anchor, _ = parked_bench(voicemail=True, no_answer_s=15)
    b.tick(TIMEOUT_S + 0.5)
    [recall] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    b.net.take()
    b.tick(14)
    assert not b.invites()
    b.tick(1.5)  # the parker's no-answer time
    assert recall.key in b.net.cancels
    [vm] = [s.message for s in b.invites() if s.addr == APP and isinstance(s.message, Request)]
    assert str(vm.uri).startswith(f"sip:vm-deposit.{b.user('1002').id}@")
    assert vm.headers.get("X-Centrex-Reason") == "no-answer"
    assert vm.headers.get("X-Centrex-Caller") == "1001"
    assert ("music-off", "a", 0) in anchor.remotes
    call = next(iter(b.engine.calls.values()))
    assert call.parked is None  # the slot is free: the caller is leaving a message


def test_without_a_mailbox_it_stays_parked_and_rings_the_parker_again_later() -> None:
    b, anchor, _ = parked_bench(voicemail=False, no_answer_s=15)
    b.tick(TIMEOUT_S + 0.5)
    assert len(to_port(b, 5062)) == 1
    b.net.take()
    b.tick(15.5)
    assert len(b.net.cancels) == 1 and not b.invites()
    call = next(iter(b.engine.calls.values()))
    assert call.parked == 1 and not call.recalling
    assert anchor.remotes.count(("music-off", "a", 0)) == 0  # still hearing music
    b.tick(TIMEOUT_S)
    [again] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    # Busy this time (486): back to the slot at once, the next ringback a timeout later.
    b.net.take()
    b.respond(again, 486)
    assert call.parked == 1 and not call.recalling and not b.invites()
    b.tick(TIMEOUT_S + 0.5)
    assert len(to_port(b, 5062)) == 1


def test_a_caller_who_hangs_up_during_the_ringback_stops_it() -> None:
    b, _, caller_tag = parked_bench()
    call = next(iter(b.engine.calls.values()))
    b.tick(TIMEOUT_S + 0.5)
    [recall] = [s for s in b.invites() if s.addr == ("10.0.0.9", 5062)]
    b.net.take()
    bye = in_dialog("BYE", call.a_invite.call_id, "fa1001", caller_tag, 3, "z9hG4bKbyeH")
    b.request(bye, ("10.0.0.9", 5061))
    assert recall.key in b.net.cancels
    assert b.ended[-1].hangup_cause == "caller_bye_parked" and not b.engine.calls


def test_a_tenant_timeout_of_zero_never_rings_back() -> None:
    b = make_bench()
    b.org.directory.tenants[DOMAIN_A] = replace(b.org.tenant_a, park_timeout_s=0)
    b.engine.media = Anchor()
    for ext, port in (("1001", 5061), ("1002", 5062)):
        b.register(ext, port)
    leg, _ = answered_by_1002(b)
    park(b, leg)
    b.tick(3600)
    assert not b.invites() and next(iter(b.engine.calls.values())).parked == 1
