"""BLF (RFC 4235 dialog event package) through the CallEngine: a watcher that is not in the call
sees 1002's phone ring, answer and hang up; subscriptions are refused, refreshed and expire as
RFC 6665 says; a ringing BLF key can be picked up with the directed pickup code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from centrex.pbx.blf import DialogEvents
from centrex.pbx.subscriptions import MAX_PER_DEVICE, MIN_EXPIRES
from centrex.sip.message import Request, Response

from .blf_helpers import NS, dialog_states, notifies, subscribe, subscribe_req, version
from .engine_harness import Bench, in_dialog, make_bench
from .helpers import DOMAIN_B
from .test_calls_transfer import ANSWER, Anchor

WATCHER = ("10.0.0.9", 5064)


def bench() -> Bench:
    b = make_bench()
    b.engine.media = Anchor()
    for ext, port in (("1001", 5061), ("1002", 5062), ("1003", 5063), ("1004", 5064)):
        b.register(ext, port)
    return b


def test_a_watcher_sees_ringing_then_confirmed_then_terminated_for_a_call_it_is_not_in() -> None:
    b = bench()
    ok, [first] = subscribe(b, "1004", "1002")
    assert ok.status == 200 and ok.headers.get("Expires") == "3600"
    assert first.call_id == "blf-1" and (first.headers.get("Subscription-State") or "").startswith("active")
    assert dialog_states(first) == [] and version(first) == 0  # idle: the key is green
    root = ET.fromstring(first.body)
    assert root.get("entity") == "sip:1002@a.example.com" and root.get("state") == "full"

    b.call("1001", "1002")
    [ring] = b.invites()
    b.net.take()
    b.respond(ring, 180, to_tag="ph1002")
    [early] = [n for n in notifies(b) if n.call_id == "blf-1"]
    assert dialog_states(early) == [("recipient", "early")] and version(early) == 1
    dialog = ET.fromstring(early.body).find("d:dialog", NS)
    assert dialog is not None
    # What a phone needs to pick the call up: the dialog's identifiers and who is calling.
    assert dialog.get("call-id") == ring.message.call_id and dialog.get("local-tag") == "ph1002"
    assert dialog.get("remote-tag") == ring.message.from_.tag  # type: ignore[union-attr]
    assert dialog.findtext("d:remote/d:identity", "", NS) == "sip:1001@a.example.com"
    assert dialog.find("d:remote/d:target", NS).get("uri") == "sip:1001@a.example.com"  # type: ignore[union-attr]

    b.respond(ring, 200, to_tag="ph1002", body=ANSWER)
    [confirmed] = [n for n in notifies(b) if n.call_id == "blf-1"]
    assert dialog_states(confirmed) == [("recipient", "confirmed")] and version(confirmed) == 2

    # 1001 hangs up.
    bye = in_dialog("BYE", b.a_invite.call_id, "fa1001", _a_tag(b), 3, "z9hG4bKbye1")
    b.request(bye, ("10.0.0.9", 5061))
    [ended] = [n for n in notifies(b) if n.call_id == "blf-1"]
    assert dialog_states(ended) == [("recipient", "terminated")] and version(ended) == 3
    # The next change starts from idle again: nothing left to report.
    b.call("1001", "1003")
    [ring3] = b.invites()
    b.respond(ring3, 180, to_tag="ph1003")
    assert [n for n in notifies(b) if n.call_id == "blf-1"] == []  # 1003's call is not 1002's


def _a_tag(b: Bench) -> str:
    call = next(iter(b.engine.calls.values()))
    return call.a_tag


def test_the_callers_own_key_shows_its_outgoing_call() -> None:
    b = bench()
    subscribe(b, "1004", "1001")
    b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 180, to_tag="ph1002")
    [early] = notifies(b)
    assert dialog_states(early) == [("initiator", "early")]
    b.respond(ring, 200, to_tag="ph1002", body=ANSWER)
    [confirmed] = notifies(b)
    assert dialog_states(confirmed) == [("initiator", "confirmed")]


def test_a_caller_giving_up_turns_the_ringing_key_off() -> None:
    b = bench()
    subscribe(b, "1004", "1002")
    key = b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 180, to_tag="ph1002")
    assert dialog_states(notifies(b)[0]) == [("recipient", "early")]
    b.cancel(key)
    assert [dialog_states(n) for n in notifies(b)] == [[("recipient", "terminated")]]


def test_directed_pickup_of_a_ringing_blf_key() -> None:
    """1004's key for 1002 blinks; 1004 dials the pickup code with 1002's extension (what a
    Yealink BLF key does with its "directed pickup code") and gets the call; 1002's key goes dark
    and 1004's own key (watched by 1003) shows it talking."""
    b = bench()
    subscribe(b, "1004", "1002")
    subscribe(b, "1003", "1004", call_id="blf-2", port=5063)
    b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 180, to_tag="ph1002")
    b.net.take()
    b.call("1004", "*81002", port=5064)
    sent = b.net.take()
    oks = [s.message for s in sent if isinstance(s.message, Response) and s.message.status == 200]
    assert {r.call_id for r in oks} >= {b.a_invite.call_id}  # the caller is answered (by 1004)
    assert b.net.cancels == [ring.key]  # 1002 stops ringing
    b.tick(1.5)  # the pickup's answer and the cancelled leg are read on the next timer turn
    by_sub = {}
    for n in notifies(b):
        by_sub.setdefault(n.call_id, []).append(dialog_states(n))
    assert by_sub["blf-1"][-1] == [("recipient", "terminated")]
    assert by_sub["blf-2"][-1] == [("recipient", "confirmed")]


def test_subscription_refresh_expiry_and_unsubscribe() -> None:
    b = bench()
    ok, _ = subscribe(b, "1004", "1002", expires=120)
    assert ok.headers.get("Expires") == "120"
    tag = ok.to.tag
    # Refresh in the dialog before it expires.
    b.now += 100
    b.request(subscribe_req("1004", "1002", cseq=3, expires=120, to_tag=tag), WATCHER)
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    [again] = [s.message for s in sent if isinstance(s.message, Request)]
    assert again.headers.get("Subscription-State") == "active;expires=120"
    b.tick(60)
    assert notifies(b) == []  # refreshed: still active
    b.tick(70)  # 130 s after the refresh: expired
    [last] = notifies(b)
    assert last.headers.get("Subscription-State") == "terminated;reason=timeout"
    assert not b.engine.service(DialogEvents).subs
    device = b.org.directory.devices[(b.org.tenant_a.id, "1004")]
    assert device.id not in b.engine.service(DialogEvents).limit.held  # its slot is given back
    # An expired subscription's refresh is refused as no longer existing.
    b.request(subscribe_req("1004", "1002", cseq=4, expires=120, to_tag=tag), WATCHER)
    assert [r.status for r in b.responses()] == [481]


def test_unsubscribe_sends_a_terminated_notify() -> None:
    b = bench()
    ok, _ = subscribe(b, "1004", "1002")
    b.request(subscribe_req("1004", "1002", cseq=3, expires=0, to_tag=ok.to.tag), WATCHER)
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    [last] = [s.message for s in sent if isinstance(s.message, Request)]
    assert (last.headers.get("Subscription-State") or "").startswith("terminated")


def test_too_brief_an_expiry_is_423_with_min_expires() -> None:
    b = bench()
    resp, sent = subscribe(b, "1004", "1002", expires=MIN_EXPIRES - 1)
    assert resp.status == 423 and resp.headers.get("Min-Expires") == str(MIN_EXPIRES) and sent == []


def test_another_tenants_domain_is_403_and_an_unknown_extension_404() -> None:
    b = bench()
    resp, _ = subscribe(b, "1004", "1002", domain=DOMAIN_B)
    assert resp.status == 403 and "tenant" in (resp.reason or "")
    resp, _ = subscribe(b, "1004", "7777", call_id="blf-x")
    assert resp.status == 404


def test_the_per_phone_limit_is_403_with_its_reason() -> None:
    b = bench()
    blf = b.engine.service(DialogEvents)
    device = b.org.directory.devices[(b.org.tenant_a.id, "1004")]
    blf.limit.held[device.id] = MAX_PER_DEVICE
    resp, sent = subscribe(b, "1004", "1002")
    assert resp.status == 403 and str(MAX_PER_DEVICE) in (resp.reason or "") and sent == []
    blf.limit.held[device.id] = MAX_PER_DEVICE - 1
    resp, _ = subscribe(b, "1004", "1002", call_id="blf-y")
    assert resp.status == 200


def test_another_tenants_watcher_of_the_same_extension_sees_nothing() -> None:
    """Tenant B also has a 1002: its watcher gets tenant B's 1002, never tenant A's calls."""
    b = bench()
    subscribe(b, "1004", "1002")
    ok, [first] = subscribe(
        b, "2001", "1002", domain=DOMAIN_B, watcher_domain=DOMAIN_B, call_id="blf-b", port=5071
    )
    assert ok.status == 200 and ET.fromstring(first.body).get("entity") == "sip:1002@b.example.com"
    b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 180, to_tag="ph1002")
    assert [n.call_id for n in notifies(b)] == ["blf-1"]


def test_a_fetch_is_answered_once_and_kept_by_nobody() -> None:
    b = bench()
    ok, [only] = subscribe(b, "1004", "1002", expires=0)
    assert ok.status == 200 and (only.headers.get("Subscription-State") or "").startswith("terminated")
    blf = b.engine.service(DialogEvents)
    assert not blf.subs and not blf.watchers and not blf.limit.held
