"""Presence (RFC 3856, PIDF bodies of RFC 3863) through the CallEngine: a colleague shows
available, busy on a call, DND, and unavailable when no phone of theirs is registered."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from centrex.sip.message import Request

from .blf_helpers import notifies, subscribe
from .engine_harness import Bench, make_bench
from .test_calls_transfer import ANSWER, Anchor

PIDF = {
    "p": "urn:ietf:params:xml:ns:pidf",
    "dm": "urn:ietf:params:xml:ns:pidf:data-model",
    "r": "urn:ietf:params:xml:ns:pidf:rpid",
}


def shown(note: Request) -> tuple[str, str, str]:
    """(basic, RPID activity or "", note) of a presence NOTIFY."""
    assert note.headers.get("Event") == "presence"
    assert note.headers.get("Content-Type") == "application/pidf+xml"
    root = ET.fromstring(note.body)
    assert root.get("entity") == "sip:1002@a.example.com"
    activities = root.find("dm:person/r:activities", PIDF)
    activity = activities[0].tag.split("}")[1] if activities is not None and len(activities) else ""
    return (
        root.findtext("p:tuple/p:status/p:basic", "", PIDF),
        activity,
        root.findtext("p:tuple/p:note", "", PIDF),
    )


def bench() -> Bench:
    b = make_bench()
    b.engine.media = Anchor()
    for ext, port in (("1001", 5061), ("1004", 5064)):
        b.register(ext, port)
    return b


def test_presence_follows_registration_calls_and_dnd() -> None:
    b = bench()
    ok, [first] = subscribe(b, "1004", "1002", event="presence", call_id="pres-1")
    assert ok.status == 200
    assert shown(first) == ("closed", "", "Unavailable")  # 1002 has no phone registered
    b.register("1002", 5062)
    b.tick(2.5)
    [available] = notifies(b)
    assert shown(available) == ("open", "", "Available")
    b.tick(2.5)
    assert notifies(b) == []  # nothing changed: nothing sent

    b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 200, to_tag="ph1002", body=ANSWER)
    [busy] = notifies(b)
    assert shown(busy) == ("open", "on-the-phone", "On the phone")
    b.set_user("1002", do_not_disturb=True)
    b.tick(2.5)
    [dnd] = notifies(b)
    assert shown(dnd) == ("closed", "busy", "Do not disturb")
    b.set_user("1002", do_not_disturb=False)
    b.tick(2.5)
    assert shown(notifies(b)[0])[2] == "On the phone"


def test_presence_of_the_caller_ends_with_its_call() -> None:
    from .engine_harness import in_dialog

    b = bench()
    b.register("1002", 5062)
    subscribe(b, "1004", "1002", event="presence", call_id="pres-2")
    b.call("1002", "1001", port=5062)
    [ring] = b.invites()
    b.respond(ring, 200, to_tag="ph1001", body=ANSWER)
    assert shown(notifies(b)[0])[2] == "On the phone"
    call = next(iter(b.engine.calls.values()))
    b.request(
        in_dialog("BYE", b.a_invite.call_id, "fa1002", call.a_tag, 3, "z9hG4bKbyeX"), ("10.0.0.9", 5062)
    )
    assert shown(notifies(b)[0]) == ("open", "", "Available")
