"""Blind transfer with REFER (RFC 3515, RFC 5589 §6; issue #4 point 6) through CallEngine: the
referrer gets 202 and NOTIFYs, the target is offered the relay's side the referrer used, and the
side that stays never sees a change."""

from __future__ import annotations

from dataclasses import dataclass, field

from centrex.sip.message import Request, Response

from .engine_harness import Bench, in_dialog, make_bench

ANSWER = b"v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
TARGET = b"v=0\r\no=- 3 3 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n"


@dataclass
class Anchor:
    """Where the engine told the relay each side is (the real relay: tests/interop)."""

    remotes: list[tuple[str, str, int]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return ("192.0.2.1", 40000), ("192.0.2.1", 40002)

    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None:
        self.remotes.append((leg, address, port))

    def close(self, call_id: str) -> None:
        self.closed.append(call_id)

    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None:
        self.remotes.append((f"music-{'on' if on else 'off'}", leg, payload_type))


def answered_call() -> tuple[Bench, Anchor, Request]:
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063)):
        b.register(ext, port)
    b.call("1001", "1002")
    [leg] = b.invites()
    assert b"c=IN IP4 192.0.2.1" in leg.message.body and b"m=audio 40002" in leg.message.body  # type: ignore[union-attr]
    b.respond(leg, 200, to_tag="b1", body=ANSWER)
    ok = [r for r in b.responses() if r.status == 200][-1]
    assert b"m=audio 40000" in ok.body  # the caller is answered with the relay's a side
    b.net.take()
    assert isinstance(leg.message, Request)
    return b, anchor, leg.message


def refer(b: Bench, leg: Request, target: str, cseq: int = 2) -> list:  # type: ignore[type-arg]
    req = in_dialog("REFER", leg.call_id, "b1", leg.from_.tag or "", cseq, f"z9hG4bKref{cseq}")
    req.headers.add("Refer-To", f"<sip:{target}@a.example.com>")
    req.headers.add("Referred-By", "<sip:1002@a.example.com>")
    b.request(req, ("10.0.0.9", 5062))
    return b.net.take()


def test_callee_transfers_the_caller_to_another_extension() -> None:
    b, anchor, leg = answered_call()
    sent = refer(b, leg, "1003")
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [202]
    [notify] = [s.message for s in sent if isinstance(s.message, Request) and s.message.method == "NOTIFY"]
    assert notify.body.startswith(b"SIP/2.0 100") and notify.headers.get("Event") == "refer;id=2"
    [to_target] = [s for s in sent if isinstance(s.message, Request) and s.message.method == "INVITE"]
    assert to_target.addr == ("10.0.0.9", 5063)
    assert b"m=audio 40002" in to_target.message.body  # the relay side 1002 used
    b.respond(to_target, 200, to_tag="c1", body=TARGET)
    sent = b.net.take()
    methods = [s.message.method for s in sent if isinstance(s.message, Request)]
    assert methods == ["ACK", "NOTIFY", "BYE"]
    final = next(s.message for s in sent if isinstance(s.message, Request) and s.message.method == "NOTIFY")
    assert final.body.startswith(b"SIP/2.0 200") and "terminated" in (
        final.headers.get("Subscription-State") or ""
    )
    assert ("b", "10.0.0.3", 7000) in anchor.remotes  # the relay now sends the caller's audio to 1003
    # The caller hangs up: the BYE goes to 1003, and the CDR says who ended up on the call.
    bye = in_dialog(
        "BYE", b.a_invite.call_id, "fa1001", next(iter(b.engine.calls.values())).a_tag, 3, "z9hG4bKbye"
    )
    b.request(bye, ("10.0.0.9", 5061))
    [to_c] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert to_c.message.method == "BYE" and to_c.addr == ("10.0.0.9", 5063)
    [cdr] = b.ended
    assert cdr.to == "1003" and [leg.extension for leg in cdr.legs] == ["1002", "1003"]


def test_referrer_hanging_up_early_does_not_end_the_call_and_a_failed_target_ends_it() -> None:
    b, _, leg = answered_call()
    sent = refer(b, leg, "1003")
    [to_target] = [s for s in sent if isinstance(s.message, Request) and s.message.method == "INVITE"]
    bye = in_dialog("BYE", leg.call_id, "b1", leg.from_.tag or "", 3, "z9hG4bKbye2")
    b.request(bye, ("10.0.0.9", 5062))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    assert not [s for s in sent if isinstance(s.message, Request)], "nothing sent to the caller"
    assert not b.ended
    b.respond(to_target, 486)
    [to_caller] = [s for s in b.net.take() if isinstance(s.message, Request) and s.message.method == "BYE"]
    assert to_caller.addr == ("10.0.0.9", 5061)
    assert b.ended[0].hangup_cause == "transfer_failed"


def test_transfer_to_an_unknown_extension_is_404_and_the_call_goes_on() -> None:
    b, _, leg = answered_call()
    sent = refer(b, leg, "7777")
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [404]
    assert not b.ended and b.engine.active_calls == 1


def test_attended_transfer_joins_the_caller_with_the_consulted_party() -> None:
    """RFC 5589 §7: 1002 talks to 1001 (call 1), consults 1003 (call 2), then REFERs 1001 to 1003
    with Replaces naming call 2. 1003 is re-INVITEd onto call 1's relay, 1002 leaves both calls,
    call 2 ends, and 1001 and 1003 talk."""
    from urllib.parse import quote as urlquote

    b, anchor, leg1 = answered_call()
    # Call 2: 1002 calls 1003, answered.
    b.call("1002", "1003", port=5062)
    [leg2] = b.invites()
    b.respond(leg2, 200, to_tag="c2", body=TARGET)
    ok2 = next(r for r in b.responses() if r.status == 200)
    call2_id, b_tag2, our_tag2 = b.a_invite.call_id, b.a_invite.from_.tag, ok2.to.tag
    b.net.take()
    replaces = urlquote(f"{call2_id};to-tag={our_tag2};from-tag={b_tag2}")
    req = in_dialog("REFER", leg1.call_id, "b1", leg1.from_.tag or "", 2, "z9hG4bKatt")
    req.headers.add("Refer-To", f"<sip:1003@a.example.com?Replaces={replaces}>")
    b.request(req, ("10.0.0.9", 5062))
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [202]
    [reinvite] = [s for s in sent if isinstance(s.message, Request) and s.message.method == "INVITE"]
    assert reinvite.addr == ("10.0.0.9", 5063) and b"m=audio 40002" in reinvite.message.body  # type: ignore[union-attr]
    b.respond(reinvite, 200, to_tag="c2", body=TARGET)
    sent = b.net.take()
    methods = [(s.message.method, s.addr) for s in sent if isinstance(s.message, Request)]
    assert ("ACK", ("10.0.0.9", 5063)) in methods
    assert [m for m, _ in methods].count("BYE") == 2 and all(
        a == ("10.0.0.9", 5062) for m, a in methods if m == "BYE"
    )
    assert ("b", "10.0.0.3", 7000) in anchor.remotes
    [ended] = b.ended
    assert ended.hangup_cause == "attended_transfer"
    # 1001 hangs up: the BYE goes to 1003 in its (call 2) dialog.
    call1 = next(iter(b.engine.calls.values()))
    bye = in_dialog("BYE", call1.a_invite.call_id, "fa1001", call1.a_tag, 3, "z9hG4bKbyeA")
    b.request(bye, ("10.0.0.9", 5061))
    [to_c] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert to_c.message.method == "BYE" and to_c.addr == ("10.0.0.9", 5063)
    assert to_c.message.call_id == leg2.message.call_id  # type: ignore[union-attr]
    assert b.ended[-1].to == "1003" and b.ended[-1].legs[-1].extension == "1003"
