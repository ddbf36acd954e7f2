"""The engine's side of the app server (issue #4): busy / no answer / unavailable to voicemail,
feature codes to the mailbox, message-waiting NOTIFY — driven through CallEngine."""

from __future__ import annotations

from centrex.sip.message import Request

from .engine_harness import SDP, Bench, make_bench

APP = ("127.0.0.1", 5999)


def bench(*, app: bool = True) -> Bench:
    b = make_bench()
    b.set_user("1002", voicemail=True)
    if app:
        b.engine.app_address = APP
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
    assert b.engine.notify_mwi(b.org.tenant_a.id, user.id, 2, 1, b.now) == 1
    [sent] = b.net.take()
    note = sent.message
    assert isinstance(note, Request) and note.method == "NOTIFY" and sent.addr == ("10.0.0.9", 5070)
    assert note.headers.get("Event") == "message-summary"
    assert note.body.decode().startswith("Messages-Waiting: yes\r\n")
    assert "Voice-Message: 2/1" in note.body.decode()
    # Another tenant's user id is refused.
    assert b.engine.notify_mwi(b.org.tenant_b.id, user.id, 1, 0, b.now) == 0
