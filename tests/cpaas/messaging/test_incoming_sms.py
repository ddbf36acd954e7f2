"""A handset's message to a tenant's number reaches the number's SMS URL, signed with Twilio's
parameters, and the <Message> of the TwiML it answers goes back over SMPP; the native JSON API
sends and reads messages the same way (issue 16 §4)."""

from __future__ import annotations

import time

import httpx
from twilio.request_validator import RequestValidator

from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import AppServer, Carrier, register_10dlc

REMOTE = "+16175559876"


def test_mo_goes_to_the_sms_url_and_its_twiml_message_is_the_reply(
    live_api: LiveApi, carrier: Carrier, app_server: AppServer
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    sms_url = app_server.base + "/sms"
    app_server.replies["/sms"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Message>Thanks, we open at 9 — see you!</Message></Response>"
    )
    r = httpx.put(
        f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/sms-numbers/{number}",
        json={"sms_url": sms_url},
        headers=live_api.operator,
        timeout=30,
    )
    assert r.status_code == 200, r.text

    long_text = "When are you open tomorrow? " * 7  # 196 GSM-7 characters: two parts with a UDH
    carrier.sim.inject_mo(REMOTE, number, long_text)
    hit = app_server.wait(lambda h: h.path == "/sms")
    assert hit.form["From"] == REMOTE and hit.form["To"] == number and hit.form["Body"] == long_text
    assert hit.form["AccountSid"] == live_api.account_sid and hit.form["SmsStatus"] == "received"
    assert hit.form["NumSegments"] == "2" and hit.form["MessageSid"].startswith("SM")
    assert RequestValidator(live_api.auth_token).validate(
        sms_url, hit.form, hit.headers["X-Twilio-Signature"]
    )

    (reply,) = carrier.sim.wait_for(1)
    assert reply.destination_addr == REMOTE.lstrip("+") and reply.source_addr == number.lstrip("+")
    assert reply.data_coding == 8  # "—" is not GSM-7
    assert reply.short_message.decode("utf-16-be") == "Thanks, we open at 9 — see you!"

    client = live_api.twilio()
    deadline = time.monotonic() + 30
    while True:
        rows = {m.direction: m for m in client.messages.list()}
        if rows.get("outbound-reply") is not None and rows["outbound-reply"].status == "delivered":
            break
        assert time.monotonic() < deadline, {d: m.status for d, m in rows.items()}
        time.sleep(0.1)
    assert rows["inbound"].body == long_text and rows["inbound"].status == "received"


def test_the_native_api_sends_over_smpp_and_shows_the_receipt(live_api: LiveApi, carrier: Carrier) -> None:
    number = live_api.demo.lines[2].number
    base = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}"
    refused = httpx.post(
        f"{base}/messages",
        json={"from": number, "to": REMOTE, "body": "hi"},
        headers=live_api.operator,
        timeout=30,
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "twilio:30034"
    register_10dlc(live_api, [number])
    r = httpx.post(
        f"{base}/messages",
        json={"from": number, "to": REMOTE, "body": "Your code is 123456"},
        headers=live_api.operator,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["sid"]
    assert r.json()["segments"] == 1 and r.json()["encoding"] == "GSM"
    assert carrier.sim.wait_for(1)[0].short_message == b"Your code is 123456"
    deadline = time.monotonic() + 30
    while (got := httpx.get(f"{base}/messages/{sid}", headers=live_api.operator, timeout=30).json())[
        "status"
    ] != "delivered":
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    assert got["price"] == "-0.007900" and got["category"] == "sms_outbound"
    listed = httpx.get(
        f"{base}/messages", params={"to": REMOTE}, headers=live_api.operator, timeout=30
    ).json()
    assert [m["sid"] for m in listed["items"]] == [sid]
