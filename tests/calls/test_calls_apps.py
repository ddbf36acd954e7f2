"""The engine's side of the app server (issue #4): busy / no answer / unavailable to voicemail,
feature codes to the mailbox, message-waiting NOTIFY — driven through CallEngine."""

from __future__ import annotations

import uuid

import pytest

from centrex.pbx.apps import Apps
from centrex.pbx.mwi import MessageWaiting
from centrex.sip.message import Request

from .engine_harness import SDP, Bench, make_bench

APP = ("127.0.0.1", 5999)


def bench(*, app: bool = True) -> Bench:
    b = make_bench()
    b.set_user("1002", voicemail=True)
    if app:
        b.engine.service(Apps).address = APP
    b.register("1001", 5061)
    return b


def app_invites(b: Bench) -> list[Request]:
    return [s.message for s in b.invites() if s.addr == APP and isinstance(s.message, Request)]


def test_unregistered_user_with_a_mailbox_goes_to_voicemail_with_the_reason_and_caller() -> None:
    b = bench()
    b.call("1001", "1002")
    [inv] = app_invites(b)
    assert str(inv.uri).startswith(f"sip:vm-deposit.{b.user('1002').id}@127.0.0.1:5999")
    assert inv.headers.get("X-Centrex-Reason") == "unavailable"
    assert inv.headers.get("X-Centrex-Caller") == "1001"
    assert inv.headers.get("X-Centrex-Caller-User") == str(b.user("1001").id)
    assert inv.headers.get("X-Centrex-Tenant") == str(b.org.tenant_a.id)
    assert inv.body == SDP
    sent = next(s for s in b.invites() if s.addr == APP)
    b.respond(sent, 200, to_tag="vm", body=SDP)
    assert [r.status for r in b.responses() if r.status >= 200] == [200]


def test_busy_and_no_answer_go_to_voicemail_with_their_greeting() -> None:
    b = bench()
    b.register("1002", 5070)
    b.call("1001", "1002")
    [ring] = b.invites()
    b.respond(ring, 486)
    [inv] = app_invites(b)
    assert inv.headers.get("X-Centrex-Reason") == "busy"
    b.net.take()
    b.call("1001", "1002", port=5063)
    assert not app_invites(b)
    b.tick(b.user("1002").forward_no_answer_seconds + 0.5)
    [inv] = app_invites(b)
    assert inv.headers.get("X-Centrex-Reason") == "no-answer"
    assert b.net.cancels, "the ringing phone was cancelled"


def test_without_a_mailbox_busy_stays_busy_and_without_an_app_server_feature_codes_are_404() -> None:
    b = bench(app=False)
    b.call("1001", "1002")
    assert [r.status for r in b.responses() if r.status >= 200] == [480]
    b.net.take()
    b.call("1001", "*97", port=5063)
    assert [r.status for r in b.responses() if r.status >= 200] == [404]


def test_star97_reaches_the_callers_own_mailbox() -> None:
    b = bench()
    b.call("1001", "*97")
    [inv] = app_invites(b)
    assert str(inv.uri).startswith("sip:vm-main@") and inv.headers.get("X-Centrex-Caller-User") == str(
        b.user("1001").id
    )


def test_message_waiting_notify_goes_to_every_registered_phone_of_the_user() -> None:
    b = bench()
    b.register("1002", 5070)
    b.net.take()
    user = b.user("1002")
    assert b.engine.service(MessageWaiting).notify(b.org.tenant_a.id, user.id, 2, 1, b.now) == 1
    [sent] = b.net.take()
    note = sent.message
    assert isinstance(note, Request) and note.method == "NOTIFY" and sent.addr == ("10.0.0.9", 5070)
    assert note.headers.get("Event") == "message-summary"
    assert note.body.decode().startswith("Messages-Waiting: yes\r\n")
    assert "Voice-Message: 2/1" in note.body.decode()
    # Another tenant's user id is refused.
    assert b.engine.service(MessageWaiting).notify(b.org.tenant_b.id, user.id, 1, 0, b.now) == 0


TWO_CODECS = (
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
)
APP_ANSWER = (
    b"v=0\r\no=- 5 5 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
)


def test_an_app_hands_the_answered_caller_back_to_the_switch_by_refer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An attendant's choice: the app REFERs its call to 1002; the caller stays answered (no second
    200), 1002 is offered only the codec the caller was answered with, and rings as usual."""
    from . import engine_harness
    from .engine_harness import in_dialog
    from .test_calls_transfer import Anchor

    monkeypatch.setattr(engine_harness, "SDP", TWO_CODECS)  # the caller offers PCMA and PCMU
    b = bench()
    b.engine.media = Anchor()
    b.register("1002", 5070)
    b.net.take()
    b.call("1001", "*97")
    [to_app] = [s for s in b.invites() if s.addr == APP]
    assert b"RTP/AVP 8 0 101" in to_app.message.body  # type: ignore[union-attr]
    b.respond(to_app, 200, to_tag="app1", body=APP_ANSWER)  # the app takes PCMU
    assert len([r for r in b.responses() if r.status == 200]) == 1
    b.net.take()
    app_invite = to_app.message
    assert isinstance(app_invite, Request)
    refer = in_dialog("REFER", app_invite.call_id, "app1", app_invite.from_.tag or "", 1, "z9hG4bKaa1")
    refer.headers.add("Refer-To", "<sip:1002@a.example.com>")
    b.request(refer, APP)
    sent = b.net.take()
    assert [s.message.status for s in sent if not isinstance(s.message, Request)] == [202]
    assert [s.message.method for s in sent if isinstance(s.message, Request)][:2] == ["NOTIFY", "BYE"]
    [ring] = [s for s in sent if isinstance(s.message, Request) and s.message.method == "INVITE"]
    assert ring.addr == ("10.0.0.9", 5070)
    body = ring.message.body  # type: ignore[union-attr]
    assert b"RTP/AVP 0 101" in body and b"PCMA" not in body
    b.respond(ring, 200, to_tag="u2", body=APP_ANSWER)
    assert not [r for r in b.responses() if r.status == 200], "the caller is not answered twice"
    call = next(iter(b.engine.calls.values()))
    assert call.answered is not None and call.answered.label == "1002"


def test_an_app_refer_to_an_unknown_extension_is_404_and_the_app_keeps_the_call() -> None:
    from .engine_harness import in_dialog
    from .test_calls_transfer import Anchor

    b = bench()
    b.engine.media = Anchor()
    b.call("1001", "*97")
    [to_app] = [s for s in b.invites() if s.addr == APP]
    b.respond(to_app, 200, to_tag="app1", body=APP_ANSWER)
    b.net.take()
    assert isinstance(to_app.message, Request)
    refer = in_dialog(
        "REFER", to_app.message.call_id, "app1", to_app.message.from_.tag or "", 1, "z9hG4bKaa2"
    )
    refer.headers.add("Refer-To", "<sip:7777@a.example.com>")
    b.request(refer, APP)
    assert [r.status for r in b.responses()] == [404]
    assert b.engine.active_calls == 1 and not b.ended


def subscribe_req(
    ext: str,
    *,
    cseq: int = 1,
    branch: str = "z9hG4bKsub1",
    expires: int = 3600,
    auth: str | None = None,
    to_tag: str | None = None,
) -> Request:
    from .helpers import msg

    lines = [
        f"SUBSCRIBE sip:{ext}@a.example.com SIP/2.0",
        f"Via: SIP/2.0/UDP 10.0.0.9:5070;branch={branch}",
        "Max-Forwards: 70",
        f"From: <sip:{ext}@a.example.com>;tag=sub{ext}",
        f"To: <sip:{ext}@a.example.com>" + (f";tag={to_tag}" if to_tag else ""),
        "Call-ID: mwi-sub-1",
        f"CSeq: {cseq} SUBSCRIBE",
        f"Contact: <sip:{ext}@10.0.0.9:5070>",
        "Event: message-summary",
        f"Expires: {expires}",
        "Content-Length: 0",
    ]
    if auth:
        lines.insert(-1, f"Proxy-Authorization: {auth}")
    return msg("\n".join(lines))


def test_a_phone_subscribes_to_message_summary_and_gets_its_notifies_in_the_dialog() -> None:
    """RFC 3842 / RFC 6665: challenged like any request, 200 with Expires, a NOTIFY with the counts
    at once; later changes come in that dialog, not as unsolicited NOTIFYs; Expires: 0 ends it."""
    from centrex.sip.message import Response

    from .helpers import answer

    b = bench()
    b.register("1002", 5070)
    b.engine.service(MessageWaiting).counts = lambda tenant, user: (3, 1)
    b.net.take()
    b.request(subscribe_req("1002"), ("10.0.0.9", 5070))
    [challenge] = [s.message for s in b.net.take() if isinstance(s.message, Response)]
    assert challenge.status == 407
    req = subscribe_req("1002", cseq=2, branch="z9hG4bKsub2")
    req.headers.add("Proxy-Authorization", answer(challenge, req, "1002"))
    b.request(req, ("10.0.0.9", 5070))
    sent = b.net.take()
    [ok] = [s.message for s in sent if isinstance(s.message, Response)]
    assert ok.status == 200 and ok.headers.get("Expires") == "3600"
    [first] = [s.message for s in sent if isinstance(s.message, Request)]
    assert first.method == "NOTIFY" and first.call_id == "mwi-sub-1"
    assert "Voice-Message: 3/1" in first.body.decode() and first.headers.get(
        "Subscription-State", ""
    ).startswith("active")
    # A new message: one NOTIFY, in the subscription's dialog.
    assert b.engine.service(MessageWaiting).notify(b.org.tenant_a.id, b.user("1002").id, 4, 1, b.now) == 1
    [again] = [s.message for s in b.net.take() if isinstance(s.message, Request)]
    assert again.call_id == "mwi-sub-1" and "Voice-Message: 4/1" in again.body.decode()
    # Unsubscribe.
    b.request(
        subscribe_req("1002", cseq=3, branch="z9hG4bKsub3", expires=0, to_tag=ok.to.tag), ("10.0.0.9", 5070)
    )
    sent = b.net.take()
    assert [s.message.status for s in sent if isinstance(s.message, Response)] == [200]
    [last] = [s.message for s in sent if isinstance(s.message, Request)]
    assert (last.headers.get("Subscription-State") or "").startswith("terminated")
    b.engine.service(MessageWaiting).notify(b.org.tenant_a.id, b.user("1002").id, 0, 5, b.now)
    [unsolicited] = [s.message for s in b.net.take() if isinstance(s.message, Request)]
    assert unsolicited.call_id != "mwi-sub-1"  # back to unsolicited NOTIFYs


def test_subscribe_to_another_event_is_489() -> None:
    from centrex.sip.message import Response

    b = bench()
    req = subscribe_req("1002")
    req.headers.set("Event", "as-feature-event")
    b.request(req, ("10.0.0.9", 5070))
    [resp] = [s.message for s in b.net.take() if isinstance(s.message, Response)]
    assert resp.status == 489


def test_an_attendant_or_conference_extension_goes_to_its_app() -> None:
    b = bench()
    menu, bridge = uuid.uuid4(), uuid.uuid4()
    b.org.directory.attendants[menu] = (b.org.tenant_a.id, "5000")
    b.engine.service(Apps).conference_by_extension = lambda tenant, ext: (
        f"conf.{bridge}" if ext == "6000" else None
    )
    uris, finals = [], []
    for ext, port in (("5000", 5061), ("6000", 5063), ("6001", 5065)):
        b.call("1001", ext, port=port)
        uris += [str(s.message.uri) for s in b.invites() if s.addr == APP]  # type: ignore[union-attr]
        finals += [r.status for r in b.responses() if r.status >= 400]
    assert uris[0].startswith(f"sip:aa.{menu}@") and uris[1].startswith(f"sip:conf.{bridge}@")
    assert len(uris) == 2 and finals == [404]
