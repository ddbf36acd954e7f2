"""Direct media (issue 4 point 1): a tenant that allows it has calls between two phones of one site,
that nobody records, go phone to phone — the callee is offered the caller's own SDP and the caller
gets the callee's answer unchanged — while everything else stays on the relay."""

from __future__ import annotations

import uuid
from dataclasses import replace

from centrex.calls.directory import SiteInfo
from centrex.pbx.apps import Apps
from centrex.sip.message import Request, Response

from .engine_harness import SDP, Bench, in_dialog, make_bench
from .helpers import DOMAIN_A
from .test_calls_transfer import ANSWER, Anchor

RELAY_B = b"c=IN IP4 192.0.2.1"  # what Anchor.open hands out


def bench(direct: bool = True) -> tuple[Bench, Anchor]:
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    b.engine.service(Apps).address = ("127.0.0.1", 5099)
    tenant = b.org.directory.tenants[DOMAIN_A]
    b.org.directory.tenants[DOMAIN_A] = replace(tenant, direct_media=direct)
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063)):
        b.register(ext, port)
    return b, anchor


def offered(b: Bench) -> bytes:
    [leg] = b.invites()
    assert isinstance(leg.message, Request)
    return leg.message.body


def test_two_phones_of_one_site_talk_directly() -> None:
    b, anchor = bench()
    b.call("1001", "1002")
    assert offered(b) == SDP  # the caller's own address and port: c=10.0.0.1, m=audio 4000
    call = next(iter(b.engine.calls.values()))
    assert call.direct and call.anchor is None and anchor.closed == [str(call.id)]
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="b1", body=ANSWER)
    ok = [r for r in b.responses() if r.status == 200][-1]
    assert ok.body == ANSWER  # the caller is answered with the callee's own address


def test_without_direct_media_the_relay_is_offered() -> None:
    b, anchor = bench(direct=False)
    b.call("1001", "1002")
    assert RELAY_B in offered(b) and b"m=audio 40002" in offered(b)
    assert anchor.closed == []


def test_phones_of_different_sites_stay_on_the_relay() -> None:
    b, _ = bench()
    other = SiteInfo(uuid.uuid4(), "312555", "IL")
    b.org.directory.sites[other.id] = other
    tenant_id = b.org.tenant_a.id
    device = b.org.directory.devices[(tenant_id, "1002")]
    b.org.directory.devices[(tenant_id, "1002")] = replace(device, site_id=other.id)
    b.call("1001", "1002")
    assert RELAY_B in offered(b)


def test_a_call_anyone_may_record_stays_on_the_relay() -> None:
    b, _ = bench()
    asked: list[tuple[uuid.UUID, tuple[uuid.UUID, ...]]] = []

    def may_record(tenant: uuid.UUID, users: tuple[uuid.UUID, ...]) -> bool:
        asked.append((tenant, users))
        return True

    b.engine.may_record = may_record
    b.call("1001", "1002")
    assert RELAY_B in offered(b)
    assert asked == [(b.org.tenant_a.id, (b.user("1001").id, b.user("1002").id))]


def test_no_answer_to_voicemail_takes_the_relay_back_before_anyone_answers() -> None:
    b, _ = bench()
    b.set_user("1002", voicemail=True, forward_no_answer_seconds=5)
    b.call("1001", "1002")
    assert offered(b) == SDP
    b.net.take()
    b.tick(6)
    [to_app] = [s for s in b.invites() if s.addr == ("127.0.0.1", 5099)]
    assert isinstance(to_app.message, Request) and RELAY_B in to_app.message.body
    call = next(iter(b.engine.calls.values()))
    assert not call.direct and call.anchor is not None


def test_pickup_of_a_ringing_direct_call_puts_it_on_the_relay() -> None:
    b, _ = bench()
    b.call("1001", "1002")
    caller_call_id = b.a_invite.call_id
    b.net.take()
    b.call("1003", "*81002", port=5063)
    oks = [r for r in b.responses() if r.status == 200]
    to_caller = next(r for r in oks if r.call_id == caller_call_id)
    assert b"m=audio 40000" in to_caller.body  # the relay's a side


def test_a_direct_call_cannot_be_parked_or_transferred() -> None:
    b, _ = bench()
    b.call("1001", "1002")
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="b1", body=ANSWER)
    b.net.take()
    assert isinstance(leg.message, Request)
    req = in_dialog("REFER", leg.message.call_id, "b1", leg.message.from_.tag or "", 2, "z9hG4bKpk")
    req.headers.add("Refer-To", "<sip:*70@a.example.com>")
    b.request(req, ("10.0.0.9", 5062))
    assert [s.message.status for s in b.net.take() if isinstance(s.message, Response)] == [501]
