"""The official `twilio` package sends SMS through Centrex: the message leaves over SMPP to the SMSC
simulator, the carrier's receipt changes its status, the package fetches `delivered`, and the status
callback arrives signed (issue 16 §4 Must show)."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import FAILING, AppServer, Carrier, register_10dlc

REMOTE = "+16175551234"


def wait_status(client: Client, sid: str, want: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        msg = client.messages(sid).fetch()
        if msg.status == want or time.monotonic() > deadline:
            return msg
        time.sleep(0.1)


def test_twilio_package_message_leaves_over_smpp_and_its_receipt_delivers_it(
    live_api: LiveApi, carrier: Carrier, app_server: AppServer
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    callback = app_server.base + "/status"
    msg = client.messages.create(
        to=REMOTE, from_=number, body="Your table is ready", status_callback=callback
    )
    assert msg.sid.startswith("SM") and msg.direction == "outbound-api"
    assert msg.num_segments == "1" and msg.status in ("sending", "sent", "delivered")

    (sub,) = carrier.sim.wait_for(1)
    assert sub.destination_addr == REMOTE.lstrip("+") and sub.source_addr == number.lstrip("+")
    assert (
        sub.short_message == b"Your table is ready" and sub.data_coding == 0 and sub.registered_delivery & 1
    )

    fetched = wait_status(client, msg.sid, "delivered")
    assert fetched.status == "delivered"  # type: ignore[attr-defined]
    assert fetched.price == "-0.00790" and fetched.date_sent is not None  # type: ignore[attr-defined]

    hit = app_server.wait(lambda h: h.path == "/status" and h.form.get("MessageStatus") == "delivered")
    assert hit.form["MessageSid"] == msg.sid and hit.form["AccountSid"] == live_api.account_sid
    validator = RequestValidator(live_api.auth_token)
    assert validator.validate(callback, hit.form, hit.headers["X-Twilio-Signature"])
    assert [m.sid for m in client.messages.list(to=REMOTE)] == [msg.sid]


def test_a_long_ucs2_message_leaves_in_two_parts_with_a_concatenation_header(
    live_api: LiveApi, carrier: Carrier
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    text = "Привет! " * 9  # 72 characters outside GSM-7: UCS-2, 67 per part
    msg = client.messages.create(to=REMOTE, from_=number, body=text)
    assert msg.num_segments == "2"
    parts = carrier.sim.wait_for(2)
    assert [p.data_coding for p in parts] == [8, 8] and all(p.esm_class & 0x40 for p in parts)
    assert [p.short_message[:3] for p in parts] == [b"\x05\x00\x03"] * 2
    assert [p.short_message[4:6] for p in parts] == [b"\x02\x01", b"\x02\x02"]
    assert b"".join(p.short_message[6:] for p in parts).decode("utf-16-be") == text
    assert wait_status(client, msg.sid, "delivered").status == "delivered"  # type: ignore[attr-defined]


def test_an_undeliverable_receipt_makes_the_message_undelivered(live_api: LiveApi, carrier: Carrier) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    msg = client.messages.create(to=FAILING, from_=number, body="hello")
    fetched = wait_status(client, msg.sid, "undelivered")
    assert fetched.status == "undelivered" and fetched.error_code == 30003  # type: ignore[attr-defined]


def test_a_long_code_without_an_approved_10dlc_campaign_is_refused(
    live_api: LiveApi, carrier: Carrier
) -> None:
    number, other = live_api.demo.lines[0].number, live_api.demo.lines[1].number
    client = live_api.twilio()
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=REMOTE, from_=number, body="hello")
    assert refused.value.code == 30034 and refused.value.status == 400
    assert "10DLC" in refused.value.msg and number in refused.value.msg
    register_10dlc(live_api, [other], status="pending")
    with pytest.raises(TwilioRestException) as pending:
        client.messages.create(to=REMOTE, from_=other, body="hello")
    assert pending.value.code == 30034 and "pending" in pending.value.msg
    with pytest.raises(TwilioRestException) as spoofed:
        client.messages.create(to=REMOTE, from_="+12025550100", body="hello")
    assert spoofed.value.code == 21606
    assert carrier.sim.submissions == []  # nothing left for the carrier


def test_stop_from_a_remote_refuses_the_next_send_until_start(live_api: LiveApi, carrier: Carrier) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    assert carrier.sim.inject_mo(REMOTE, number, "Stop") == 1
    confirmation = carrier.sim.wait_for(1)[0]  # the one CTIA confirmation, no marketing
    assert confirmation.destination_addr == REMOTE.lstrip("+")
    assert b"unsubscribed" in confirmation.short_message and b"START" in confirmation.short_message
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=REMOTE, from_=number, body="Sale today!")
    assert refused.value.code == 21610 and "STOP" in refused.value.msg.upper()
    inbound = client.messages.list(to=number)
    assert [(m.direction, m.status, m.body) for m in inbound] == [("inbound", "received", "Stop")]

    carrier.sim.inject_mo(REMOTE, number, "UNSTOP")
    assert b"re-subscribed" in carrier.sim.wait_for(2)[1].short_message
    msg = client.messages.create(to=REMOTE, from_=number, body="Welcome back")
    assert wait_status(client, msg.sid, "delivered").status == "delivered"  # type: ignore[attr-defined]
