"""A2P registrations (only the operator records a verdict; toll-free numbers need their verification)
and the HTTP carrier connector: a JSON provider takes the message, its receipt posted to our hook
delivers it, and a message it posts reaches the tenant (issue 16 §4)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from centrex.cpaas.messaging.http_connector import HttpConnector
from centrex.cpaas.messaging.service import Messenger
from centrex.store.db import transaction
from centrex.store.models import NumberKind, NumberStatus, PhoneNumber
from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import AppServer, register_10dlc

REMOTE = "+16175551234"
TOLL_FREE = "+18885550123"


def _developer_headers(live_api: LiveApi) -> dict[str, str]:
    from centrex.store.credentials import new_token
    from centrex.store.models import ApiToken, TokenKind

    made = new_token()
    with transaction(live_api.app.state.sessionmaker) as s:
        s.add(
            ApiToken(
                kind=TokenKind.DEVELOPER,
                tenant_id=uuid.UUID(live_api.demo.tenant_id),
                name="dev",
                prefix=made.prefix,
                secret_hash=made.secret_hash,
            )
        )
    return {"Authorization": f"Bearer {made.plaintext}"}


def test_a_developer_registers_but_only_the_operator_approves(live_api: LiveApi) -> None:
    base = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/a2p-registrations"
    dev = _developer_headers(live_api)
    number = live_api.demo.lines[0].number
    body = {"kind": "10dlc", "brand_name": "Demo Co", "campaign_id": "C1", "numbers": [number]}
    r = httpx.post(base, json=body, headers=dev, timeout=30)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    reg = r.json()["id"]
    assert (
        httpx.patch(f"{base}/{reg}", json={"status": "approved"}, headers=dev, timeout=30).status_code == 403
    )
    r = httpx.post(base, json={**body, "status": "approved"}, headers=dev, timeout=30)
    assert r.status_code == 403 and r.json()["rule"] == "a2p:verdict"
    foreign = httpx.post(base, json={**body, "numbers": ["+12025550100"]}, headers=dev, timeout=30)
    assert foreign.status_code == 422
    r = httpx.patch(
        f"{base}/{reg}",
        json={"status": "rejected", "rejection_reason": "brand not vetted"},
        headers=live_api.operator,
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    with pytest.raises(TwilioRestException) as refused:
        live_api.twilio().messages.create(to=REMOTE, from_=number, body="hi")
    assert refused.value.code == 30034 and "rejected: brand not vetted" in refused.value.msg


def test_a_toll_free_number_needs_its_verification(live_api: LiveApi) -> None:
    with transaction(live_api.app.state.sessionmaker) as s:
        s.add(
            PhoneNumber(
                e164=TOLL_FREE,
                kind=NumberKind.TOLL_FREE,
                status=NumberStatus.ASSIGNED,
                tenant_id=uuid.UUID(live_api.demo.tenant_id),
            )
        )
    client = live_api.twilio()
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=REMOTE, from_=TOLL_FREE, body="hi")
    assert refused.value.code == 30032 and "not been verified" in refused.value.msg
    register_10dlc(live_api, [TOLL_FREE])  # a 10DLC campaign does not cover a toll-free number
    with pytest.raises(TwilioRestException):
        client.messages.create(to=REMOTE, from_=TOLL_FREE, body="hi")
    r = httpx.post(
        f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/a2p-registrations",
        json={"kind": "toll-free", "brand_name": "Demo Co", "numbers": [TOLL_FREE], "status": "approved"},
        headers=live_api.operator,
        timeout=30,
    )
    assert r.status_code == 201
    msg = client.messages.create(to=REMOTE, from_=TOLL_FREE, body="hi")
    assert msg.status == "queued"  # no carrier configured in this test: accepted and kept queued


@pytest.fixture
def http_carrier(live_api: LiveApi, app_server: AppServer) -> Iterator[HttpConnector]:
    app_server.replies["/messages"] = '{"id": "PRV-0042"}'
    connector = HttpConnector(app_server.base, token="carrier-key")
    messenger = Messenger(live_api.app.state.sessionmaker, connector).start()
    live_api.app.state.messaging = messenger
    try:
        yield connector
    finally:
        messenger.stop()


def test_the_http_carrier_sends_and_its_receipt_delivers(
    live_api: LiveApi, app_server: AppServer, http_carrier: HttpConnector
) -> None:
    number = live_api.demo.lines[0].number
    register_10dlc(live_api, [number])
    client = live_api.twilio()
    msg = client.messages.create(to=REMOTE, from_=number, body="Ready for pickup")
    hit = app_server.wait(lambda h: h.path == "/messages")
    assert hit.headers["Authorization"] == "Bearer carrier-key"
    hook = f"{live_api.base}/sms-carrier/http/events"
    deadline = time.monotonic() + 30
    while client.messages(msg.sid).fetch().status != "sent":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    receipt = {"type": "receipt", "id": "PRV-0042", "status": "DELIVRD"}
    assert (
        httpx.post(hook, json=receipt, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code
        == 401
    )
    r = httpx.post(hook, json=receipt, headers={"Authorization": "Bearer carrier-key"}, timeout=30)
    assert r.status_code == 200
    assert client.messages(msg.sid).fetch().status == "delivered"
    inbound = {"type": "message", "from": "16175559999", "to": number, "text": "thanks!"}
    assert (
        httpx.post(
            hook, json=inbound, headers={"Authorization": "Bearer carrier-key"}, timeout=30
        ).status_code
        == 200
    )
    (got,) = client.messages.list(from_="+16175559999")
    assert (got.direction, got.body, got.to) == ("inbound", "thanks!", number)
