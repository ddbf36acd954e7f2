"""The B2BUA without sockets: every flow of the SIP core issue, driven event by event."""

from centrex.calls.dialling import restriction_allows
from centrex.calls.directory import Restriction
from centrex.numbers.classes import CallClass
from centrex.sip.message import Request, Response

from .engine_harness import SDP, Bench, in_dialog, make_bench


def ready() -> Bench:
    b = make_bench()
    b.register("1001", 5061)
    b.register("1002", 5062)
    return b


def statuses(b: Bench) -> list[int]:
    return [r.status for r in b.responses()]


def test_invite_is_challenged_with_407_and_unregistered_caller_refused() -> None:
    b = make_bench()
    b.register("1002", 5062)
    b.call("1001", "1002")  # authenticated, but 1001 has no registration
    assert statuses(b)[-1] == 403
    assert b.invites() == []


def test_call_forks_to_all_contacts_with_caller_id_from_the_user_record() -> None:
    b = ready()
    b.register("1002", 5072)  # a second phone of the same user
    b.call("1001", "1002")
    invites = b.invites()
    assert sorted(s.addr for s in invites) == [("10.0.0.9", 5062), ("10.0.0.9", 5072)]
    for s in invites:
        assert isinstance(s.message, Request)
        assert s.message.from_.display_name == "User 1001"
        assert str(s.message.from_.uri) == "sip:1001@a.example.com"
        assert s.message.body == SDP
    assert len({s.message.call_id for s in invites}) == 2  # new dialogs, not the caller's Call-ID


def test_ringing_answer_and_bye_from_caller() -> None:
    b = ready()
    b.call("1001", "1002")
    leg = b.invites()[0]
    b.net.take()
    b.respond(leg, 180, to_tag="b1")
    b.respond(leg, 180, to_tag="b1")
    assert statuses(b) == [180]  # relayed once
    b.net.take()
    b.now = 1.0
    b.respond(leg, 200, to_tag="b1", body=b"v=0 answer")
    sent = b.net.take()
    acks = [s for s in sent if isinstance(s.message, Request) and s.message.method == "ACK"]
    oks = [s.message for s in sent if isinstance(s.message, Response)]
    assert len(acks) == 1 and acks[0].addr == ("10.0.0.9", 5062)
    assert oks[0].status == 200 and oks[0].body == b"v=0 answer"
    a_tag = oks[0].to.tag
    assert a_tag
    b.now = 6.0
    bye = in_dialog("BYE", b.a_invite.call_id, "fa1001", a_tag, 3, "z9hG4bKbye")
    b.request(bye, ("10.0.0.9", 5061))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    byes = [s for s in sent if isinstance(s.message, Request) and s.message.method == "BYE"]
    assert byes[0].addr == ("10.0.0.9", 5062)
    assert byes[0].message.call_id == leg.message.call_id
    [cdr] = b.ended
    assert (cdr.disposition, cdr.hangup_cause, cdr.duration_ms, cdr.from_, cdr.to) == (
        "answered",
        "caller_bye",
        5000,
        "1001",
        "1002",
    )
    assert b.engine.active_calls == 0


def answered(b: Bench) -> tuple[str, object]:
    b.call("1001", "1002")
    leg = b.invites()[0]
    b.respond(leg, 200, to_tag="b1", body=b"v=0 answer")
    ok = [r for r in b.responses() if r.status == 200][-1]
    b.net.take()
    return ok.to.tag or "", leg


def test_a_request_with_the_callees_call_id_but_wrong_tags_is_481() -> None:
    b = ready()
    _a_tag, leg = answered(b)
    msg = leg.message  # type: ignore[attr-defined]
    b.request(in_dialog("BYE", msg.call_id, "forged", msg.from_.tag, 1, "z9hG4bKf"), ("10.0.0.9", 5062))
    assert statuses(b)[-1] == 481
    assert b.ended == []


def test_early_media_183_is_relayed_with_its_sdp() -> None:
    b = ready()
    b.call("1001", "1002")
    b.respond(b.invites()[0], 183, to_tag="b1", body=b"v=0 early")
    early = b.responses()[-1]
    assert early.status == 183 and early.body == b"v=0 early"


def test_dialling_a_number_of_the_tenant_rings_its_user_on_net() -> None:
    b = ready()
    b.org.directory.numbers[(b.org.tenant_a.id, "+12175281002")] = b.user("1002").id
    b.call("1001", "2175281002")
    assert [s.addr for s in b.invites()] == [("10.0.0.9", 5062)]
    b.respond(b.invites()[0], 486, to_tag="x")
    assert b.ended[0].call_class == "on_net"


def test_a_forwarding_loop_ends_with_480() -> None:
    b = ready()
    b.register("1003", 5063)
    b.set_user("1002", forward_always="1003")
    b.set_user("1003", forward_always="1002")
    b.call("1001", "1002")
    assert statuses(b)[-1] == 480 and b.invites() == []
    assert b.ended[0].hangup_cause == "forward_loop"


def test_bye_from_callee() -> None:
    b = ready()
    a_tag, leg = answered(b)
    msg = leg.message  # type: ignore[attr-defined]
    bye = in_dialog("BYE", msg.call_id, "b1", msg.from_.tag, 1, "z9hG4bKbbye")
    b.request(bye, ("10.0.0.9", 5062))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    [to_a] = [s for s in sent if isinstance(s.message, Request)]
    assert to_a.message.method == "BYE" and to_a.addr == ("10.0.0.9", 5061)
    assert to_a.message.call_id == b.a_invite.call_id and to_a.message.from_.tag == a_tag
    assert b.ended[0].hangup_cause == "callee_bye"


def test_reinvite_hold_is_relayed_and_acked() -> None:
    b = ready()
    a_tag, _leg = answered(b)
    hold = in_dialog("INVITE", b.a_invite.call_id, "fa1001", a_tag, 3, "z9hG4bKhold", body=b"a=sendonly")
    b.request(hold, ("10.0.0.9", 5061))
    [fwd] = b.net.take()
    assert isinstance(fwd.message, Request) and fwd.message.method == "INVITE"
    assert fwd.message.body == b"a=sendonly" and fwd.message.to.tag == "b1"
    b.respond(fwd, 200, body=b"a=recvonly")
    sent = b.net.take()
    assert [s.message.method for s in sent if isinstance(s.message, Request)] == ["ACK"]
    [ok] = [s.message for s in sent if isinstance(s.message, Response)]
    assert ok.status == 200 and ok.body == b"a=recvonly" and ok.cseq.seq == 3


def test_cancel_while_ringing_cancels_every_leg() -> None:
    b = ready()
    b.register("1002", 5072)
    key = b.call("1001", "1002")
    legs = b.invites()
    b.respond(legs[0], 180, to_tag="b1")
    b.cancel(key)
    assert sorted(k.branch for k in b.net.cancels) == sorted(s.key.branch for s in legs)  # type: ignore[union-attr]
    assert b.ended[0].disposition == "cancelled" and b.ended[0].sip_code == 487
    # A late 200 from a cancelled leg is ACKed and hung up.
    b.net.take()
    b.respond(legs[1], 200, to_tag="late")
    assert [s.message.method for s in b.net.take() if isinstance(s.message, Request)] == ["ACK", "BYE"]


def test_first_answer_wins_and_other_legs_are_cancelled() -> None:
    b = ready()
    b.register("1002", 5072)
    b.call("1001", "1002")
    legs = b.invites()
    b.respond(legs[1], 200, to_tag="b2")
    assert b.net.cancels == [legs[0].key]


def test_busy_everywhere_is_486() -> None:
    b = ready()
    b.call("1001", "1002")
    b.respond(b.invites()[0], 486, to_tag="b1")
    assert statuses(b)[-1] == 486
    assert b.ended[0].disposition == "busy"


def test_no_registration_is_480_and_unknown_extension_404() -> None:
    b = ready()
    b.call("1001", "1003")
    assert statuses(b)[-1] == 480
    b.call("1001", "1999")
    assert statuses(b)[-1] == 404


def test_calls_never_cross_tenants() -> None:
    b = ready()
    b.register("2001", 5090, domain="b.example.com")
    b.call("1001", "2001")  # 2001 exists only in tenant B
    assert statuses(b)[-1] == 404
    assert b.invites() == []


def test_forward_always_and_dnd() -> None:
    b = ready()
    b.register("1003", 5063)
    b.set_user("1002", forward_always="1003")
    b.call("1001", "1002")
    assert [s.addr for s in b.invites()] == [("10.0.0.9", 5063)]
    assert 181 in statuses(b)
    b.net.take()
    b.set_user("1002", forward_always=None, do_not_disturb=True)
    b.call("1001", "1002", port=5071)
    assert statuses(b)[-1] == 486 and b.invites() == []
    b.net.take()
    b.set_user("1002", forward_busy="1003")
    b.call("1001", "1002", port=5081)
    assert [s.addr for s in b.invites()] == [("10.0.0.9", 5063)]


def test_busy_forwards_when_forward_busy_is_set() -> None:
    b = ready()
    b.register("1003", 5063)
    b.set_user("1002", forward_busy="1003")
    b.call("1001", "1002")
    b.respond(b.invites()[0], 486, to_tag="b1")
    assert [s.addr for s in b.invites()] == [("10.0.0.9", 5062), ("10.0.0.9", 5063)]


def test_no_answer_forwards_after_n_seconds() -> None:
    b = ready()
    b.register("1003", 5063)
    b.set_user("1002", forward_no_answer="1003", forward_no_answer_seconds=5)
    b.call("1001", "1002")
    first = b.invites()[0]
    b.respond(first, 180, to_tag="b1")
    b.tick(4.9)
    assert b.net.cancels == []
    b.tick(0.2)
    assert b.net.cancels == [first.key]
    assert [s.addr for s in b.invites()][-1] == ("10.0.0.9", 5063)
    leg2 = b.invites()[-1]
    b.respond(leg2, 200, to_tag="c1")
    assert statuses(b)[-1] == 200
    b.respond(first, 487, to_tag="b1")  # the cancelled leg ends quietly
    assert b.engine.active_calls == 1


def test_leg_timeout_without_forwarding_is_480() -> None:
    b = ready()
    b.call("1001", "1002")
    b.timeout(b.invites()[0].key)  # type: ignore[arg-type]
    assert statuses(b)[-1] == 480


def test_restriction_classes_and_emergency() -> None:
    none = Restriction("Internal only", allow_local=False, allow_long_distance=False, allow_toll_free=False)
    assert restriction_allows(none, CallClass.ON_NET)
    assert not restriction_allows(none, CallClass.LOCAL)
    assert not restriction_allows(none, CallClass.INTERNATIONAL)
    assert restriction_allows(none, CallClass.EMERGENCY)
    b = ready()
    b.call("1001", "9011442079460000")  # international: Standard class refuses it
    assert statuses(b)[-1] == 403
    b.call("1001", "911", port=5071)  # never refused as restricted; no PSAP route in this build
    assert statuses(b)[-1] == 503


def test_options_answered_and_unknown_dialog_481() -> None:
    b = ready()
    opt = in_dialog("OPTIONS", "o1", "x", "y", 1, "z9hG4bKo")
    opt.headers.remove("To")
    opt.headers.add("To", "<sip:192.0.2.1>")
    b.request(opt, ("10.0.0.9", 5061))
    assert statuses(b)[-1] == 200
    b.request(in_dialog("BYE", "nope", "x", "y", 1, "z9hG4bKn"), ("10.0.0.9", 5061))
    assert statuses(b)[-1] == 481
