"""Paging and intercom in the call path (issue 17 §3), through CallEngine: a paging group's
extension rings every member's phone at once with the auto-answer headers and a one-way offer, the
pager is answered on the relay and heard by every phone that answered (the relay's fan-out), busy,
DND and non-answering members are skipped, a member may leave, the pager's BYE ends the page; the
intercom code rings one extension the same way, two-way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from centrex.calls.events import CallEnded
from centrex.calls.features import effective
from centrex.pbx.paging import ALERT_INFO, Paging, PagingGroupInfo
from centrex.sip.message import Request, Response

from .engine_harness import Bench, Sent, in_dialog, make_bench
from .helpers import DOMAIN_A
from .test_calls_transfer import Anchor

PORTS = {"1001": 5061, "1002": 5062, "1003": 5063, "1004": 5064}


def phone_answer(port: int) -> bytes:
    """A desk phone's answer to a page: it receives on 10.0.1.<n>:<port + 1000>, sends nothing."""
    host = f"10.0.1.{port - 5060}"
    return (
        f"v=0\r\no=- 2 2 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {port + 1000} RTP/AVP 0\r\na=recvonly\r\n"
    ).encode()


@dataclass
class FanOutAnchor(Anchor):
    fan: list[list[tuple[str, int]]] = field(default_factory=list)

    def can_fan_out(self, call_id: str) -> bool:
        return True

    def fan_out(self, call_id: str, leg: str, addresses: list[tuple[str, int]]) -> None:
        assert leg == "b"
        self.fan.append(sorted(addresses))


def page_bench(members: tuple[str, ...] = ("1002", "1003", "1004")) -> tuple[Bench, FanOutAnchor]:
    b = make_bench()
    anchor = FanOutAnchor()
    b.engine.media = anchor
    tenant = b.org.tenant_a
    group = PagingGroupInfo(
        uuid.uuid4(), tenant.id, "Warehouse", "7750", tuple(b.user(e).id for e in members)
    )
    b.engine.service(Paging).groups = lambda t, ext: group if (t, ext) == (tenant.id, "7750") else None
    for ext, port in PORTS.items():
        b.register(ext, port)
    b.net.take()
    return b, anchor


def by_port(b: Bench) -> dict[int, Sent]:
    return {s.addr[1]: s for s in b.invites() if s.addr is not None}


def final(b: Bench) -> list[Response]:
    return [r for r in b.responses() if r.status >= 200]


def test_a_page_rings_every_member_with_auto_answer_and_all_hear_the_pager() -> None:
    b, anchor = page_bench()
    b.call("1001", "7750")
    legs = by_port(b)
    assert sorted(legs) == [5062, 5063, 5064]
    ok = final(b)[-1]
    assert ok.status == 200 and b"m=audio 40000" in ok.body  # the pager is answered on the relay's a side
    for leg in legs.values():
        invite = leg.message
        assert isinstance(invite, Request)
        assert invite.headers.get("Call-Info") == f"<sip:{DOMAIN_A}>;answer-after=0"
        assert invite.headers.get("Alert-Info") == ALERT_INFO
        assert b"a=sendonly" in invite.body and b"a=sendrecv" not in invite.body  # one-way
        assert b"m=audio 40002" in invite.body  # every phone is offered the relay's b side
    for port, leg in legs.items():
        b.respond(leg, 200, to_tag=f"m{port}", body=phone_answer(port))
    assert anchor.fan[-1] == [("10.0.1.2", 6062), ("10.0.1.3", 6063), ("10.0.1.4", 6064)]
    acks = [s for s in b.net.sent if isinstance(s.message, Request) and s.message.method == "ACK"]
    assert len(acks) == 3 and not b.net.cancels  # three answers, none cancelled (not a hunt group)
    assert b.engine.service(Paging).active() == {next(iter(b.engine.calls)): 3}


def test_busy_dnd_refusing_and_silent_members_are_skipped_and_the_page_goes_on() -> None:
    b, _anchor = page_bench()
    b.engine.activity.answered(b.user("1003").id)  # on a call
    b.call("1001", "7750")
    assert sorted(by_port(b)) == [5062, 5064]
    b.net.take()
    b2, _anchor2 = page_bench()
    b2.set_user("1004", do_not_disturb=True)
    b2.call("1001", "7750")
    legs = by_port(b2)
    assert sorted(legs) == [5062, 5063]
    b2.respond(legs[5063], 486)  # busy at the phone: left out
    b2.tick(1)
    assert not b2.net.cancels and final(b2)[-1].status == 200  # the pager was answered, still paging
    b2.tick(9)  # 1002 rang but never auto-answered: cancelled; nobody listens: the page ends
    assert len(b2.net.cancels) == 1
    byes = [s for s in b2.net.sent if isinstance(s.message, Request) and s.message.method == "BYE"]
    assert byes and byes[-1].addr == ("10.0.0.9", 5061)  # the pager is hung up
    assert b2.ended and b2.ended[-1].hangup_cause == "paging_nobody"


def test_a_member_leaves_and_the_pager_hanging_up_ends_the_page_for_everyone() -> None:
    b, anchor = page_bench()
    b.call("1001", "7750")
    legs = by_port(b)
    for port, leg in legs.items():
        b.respond(leg, 200, to_tag=f"m{port}", body=phone_answer(port))
    b.net.take()
    gone = legs[5063].message
    assert isinstance(gone, Request)
    bye = in_dialog("BYE", gone.call_id, "m5063", gone.from_.tag or "", 1, "z9hG4bKbye3")
    b.request(bye, ("10.0.0.9", 5063))
    assert [r.status for r in b.responses()] == [200]
    assert anchor.fan[-1] == [("10.0.1.2", 6062), ("10.0.1.4", 6064)]
    assert b.engine.calls  # the page goes on
    b.net.take()
    pager_bye = in_dialog("BYE", b.a_invite.call_id, "fa1001", _a_tag(b), 3, "z9hG4bKpbye")
    b.request(pager_bye, ("10.0.0.9", 5061))
    byes = [s for s in b.net.sent if isinstance(s.message, Request) and s.message.method == "BYE"]
    assert sorted(s.addr[1] for s in byes if s.addr) == [5062, 5064]  # the ones still listening
    assert not b.engine.calls and isinstance(b.ended[-1], CallEnded)
    cdr = b.ended[-1]
    assert (cdr.from_, cdr.to, cdr.disposition, cdr.hangup_cause) == (
        "1001",
        "7750",
        "answered",
        "caller_bye",
    )
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [
        ("1002", "answered"),
        ("1003", "answered"),
        ("1004", "answered"),
    ]
    assert b.engine.service(Paging).active() == {}
    assert not b.engine.activity.busy(b.user("1002").id)  # members are free again


def _a_tag(b: Bench) -> str:
    [call] = list(b.engine.calls.values())
    return call.a_tag


def test_paging_without_the_relay_is_refused_and_911_is_not_a_page() -> None:
    b, _ = page_bench()
    b.engine.media = None
    b.call("1001", "7750")
    assert final(b)[-1].status == 503 and not b.invites()
    b2, _ = page_bench()
    b2.call("1001", "911")
    assert not any(s.message.headers.get("Call-Info") for s in b2.invites())  # type: ignore[union-attr]


def test_intercom_rings_one_extension_with_auto_answer_two_way() -> None:
    b, _ = page_bench()
    b.call("1001", "*901003")
    [leg] = b.invites()
    invite = leg.message
    assert isinstance(invite, Request) and leg.addr == ("10.0.0.9", 5063)
    assert invite.headers.get("Call-Info") == f"<sip:{DOMAIN_A}>;answer-after=0"
    assert invite.headers.get("Alert-Info") == ALERT_INFO
    assert b"sendonly" not in invite.body  # two-way
    b.respond(leg, 200, to_tag="ic", body=phone_answer(5063).replace(b"a=recvonly", b"a=sendrecv"))
    assert final(b)[-1].status == 200


def test_intercom_to_a_busy_or_unknown_extension_and_a_tenant_code() -> None:
    b, _ = page_bench()
    b.set_user("1003", do_not_disturb=True)
    b.call("1001", "*901003")
    assert final(b)[-1].status == 486 and not b.invites()
    b.net.take()
    b.call("1001", "*909999", port=5061)
    assert final(b)[-1].status == 404
    b.net.take()
    tenant = b.org.directory.tenants[DOMAIN_A]
    b.org.directory.tenants[DOMAIN_A] = replace(tenant, feature_codes=effective({"intercom": "*77"}))
    b.call("1001", "*771002")
    [leg] = b.invites()
    assert leg.addr == ("10.0.0.9", 5062) and leg.message.headers.get("Call-Info")  # type: ignore[union-attr]


def test_a_late_answer_is_hung_up_and_a_repeated_answer_acked_again() -> None:
    b, anchor = page_bench()
    b.call("1001", "7750")
    legs = by_port(b)
    b.respond(legs[5062], 200, to_tag="m2", body=phone_answer(5062))
    b.respond(legs[5062], 200, to_tag="m2", body=phone_answer(5062))  # the 200 again: ACK again
    sent = [s.message for s in b.net.sent if isinstance(s.message, Request)]
    assert [m.method for m in sent].count("ACK") == 2 and anchor.fan[-1] == [("10.0.1.2", 6062)]
    b.tick(9)  # 1003 and 1004 cancelled: not auto-answering
    assert len(b.net.cancels) == 2
    b.net.take()
    b.respond(legs[5063], 200, to_tag="m3", body=phone_answer(5063))  # answered after the CANCEL
    [ack, bye] = [s for s in b.net.take() if isinstance(s.message, Request)]
    assert (ack.message.method, bye.message.method, bye.addr) == ("ACK", "BYE", ("10.0.0.9", 5063))
    assert anchor.fan[-1] == [("10.0.1.2", 6062)]  # not a listener
