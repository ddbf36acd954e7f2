"""Webhook secrets on the API and the notice of a 911 call from stored data, on SQLite and
PostgreSQL; and the whole path — contacts made through the API, the notice read from the store,
delivered to a real SMTP server and a real HTTPS receiver that checks the signature."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centrex.e911.notice import verify_signature
from centrex.e911.notifier import EmergencyNotifier, SmtpConfig
from centrex.e911.storage import emergency_notice_for
from tests.api.conftest import Api
from tests.api.matrix_roles import ADM, BAK
from tests.e911_store.servers import https_server, smtp_server, trusting

AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def _tenant(api: Api) -> str:
    return f"/api/v1/tenants/{api.world.a.id}"


def test_webhook_secret_is_shown_once_and_never_logged(api: Api) -> None:
    r = api.call(
        "POST",
        f"{_tenant(api)}/e911/contacts",
        api.world.a.tokens[ADM],
        json={"kind": "webhook", "address": "https://soc.alpha.example.com/911", "name": "SOC"},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    secret = made["signing_secret"]
    assert secret.startswith("whsec_") and made["signed"] is True
    listed = api.call("GET", f"{_tenant(api)}/e911/contacts", api.world.a.tokens[ADM]).json()["items"]
    shown = next(c for c in listed if c["id"] == made["id"])
    assert shown["signed"] is True and "signing_secret" not in shown
    assert secret not in json.dumps(listed)
    (entry,) = api.audit(action="e911.contact.add", entity_id=made["id"])
    assert entry["after"]["signing_secret"] == "(set)" and secret not in json.dumps(entry)

    again = api.call("POST", f"{_tenant(api)}/e911/contacts/{made['id']}/secret", api.world.a.tokens[BAK])
    assert again.status_code == 200
    rotated = again.json()["signing_secret"]
    assert rotated.startswith("whsec_") and rotated != secret
    (entry,) = api.audit(action="e911.contact.secret")
    assert entry["after"] == {"signing_secret": "(changed)"} and rotated not in json.dumps(entry)

    assert (
        api.call("DELETE", f"{_tenant(api)}/e911/contacts/{made['id']}", api.world.a.tokens[ADM]).status_code
        == 204
    )
    (entry,) = api.audit(action="e911.contact.delete")
    assert entry["before"]["signing_secret"] == "(set)" and rotated not in json.dumps(entry)


def test_email_contacts_have_no_secret(api: Api) -> None:
    r = api.call(
        "POST",
        f"{_tenant(api)}/e911/contacts",
        api.world.a.tokens[ADM],
        json={"kind": "email", "address": "desk@alpha.example.com"},
    )
    assert r.status_code == 201 and r.json()["signing_secret"] is None and r.json()["signed"] is False
    email_id = r.json()["id"]
    refused = api.call("POST", f"{_tenant(api)}/e911/contacts/{email_id}/secret", api.world.a.tokens[ADM])
    assert refused.status_code == 409 and refused.json()["field"] == "kind"


def test_notice_names_caller_number_and_the_phones_location(api: Api, session_factory: Any) -> None:
    w = api.world.a
    secret = api.call(
        "POST",
        f"{_tenant(api)}/e911/contacts",
        w.tokens[ADM],
        json={"kind": "webhook", "address": "https://hooks.alpha.example.com/e911"},
    ).json()["signing_secret"]
    with session_factory() as s:
        notice, contacts = emergency_notice_for(
            s, w.id, None, w.ids["device"], "call-911-a", AT, "+12175281234"
        )
    assert notice.caller_name == "alpha end_user" and notice.extension == "2004"
    assert notice.callback == "+12175281234" and notice.device == "2001"
    assert notice.location is not None and notice.location_source == "device"
    assert notice.location_line == "1 Main St, Springfield, IL 62701"
    assert notice.psap == "Sangamon County 911" and notice.tenant_name == "Tenant alpha"
    assert sorted((c.kind, c.address, c.secret or "") for c in contacts) == [
        ("email", "security@alpha.example.com", ""),
        ("webhook", "https://hooks.alpha.example.com/e911", secret),
    ]


def test_notice_falls_back_to_the_users_location_then_says_there_is_none(
    api: Api, session_factory: Any
) -> None:
    w = api.world.a
    r = api.call(
        "POST",
        f"{_tenant(api)}/devices",
        w.tokens[ADM],
        json={"sip_username": "3200", "user_id": str(w.ids["end_user"])},
    )
    softphone = uuid.UUID(r.json()["id"])
    with session_factory() as s:
        notice, _ = emergency_notice_for(s, w.id, w.ids["end_user"], softphone, "c2", AT, None)
    assert notice.location_source == "user" and notice.location_line.startswith("1 Main St")
    assert notice.callback is None
    r = api.call("POST", f"{_tenant(api)}/devices", w.tokens[ADM], json={"sip_username": "3201"})
    lobby = uuid.UUID(r.json()["id"])
    with session_factory() as s:
        notice, _ = emergency_notice_for(s, w.id, None, lobby, "c3", AT, "not a number")
    assert notice.no_registered_location and notice.location_line == "no registered location"
    assert notice.caller_name == "" and notice.device == "3201" and notice.callback is None


def test_another_tenants_rows_are_not_read(api: Api, session_factory: Any) -> None:
    a, b = api.world.a, api.world.b
    with session_factory() as s:
        notice, contacts = emergency_notice_for(s, a.id, b.ids["end_user"], b.ids["device"], "c4", AT, None)
    assert notice.device == "" and notice.caller_name == "" and notice.no_registered_location
    assert [c.address for c in contacts] == ["security@alpha.example.com"]


async def test_a_911_call_notifies_every_contact_made_through_the_api(
    api: Api, session_factory: Any, tmp_path: Path
) -> None:
    w = api.world.a
    with smtp_server() as (mail, smtp_port):
        async with https_server(tmp_path) as hook:
            made = api.call(
                "POST",
                f"{_tenant(api)}/e911/contacts",
                w.tokens[ADM],
                json={"kind": "webhook", "address": hook.url("/hooks/911"), "name": "SOC"},
            ).json()
            secret = made["signing_secret"]
            with session_factory() as s:
                notice, contacts = emergency_notice_for(
                    s, w.id, w.ids["end_user"], w.ids["device"], "call-e2e", AT, "+12175281234"
                )
            sender = EmergencyNotifier(
                SmtpConfig("127.0.0.1", smtp_port, "911@provider.example"),
                ssl_context=trusting(tmp_path),
                backoff_s=0.05,
            )
            results = await sender.deliver(notice, contacts)
    by_address = {r.contact.address: r for r in results}
    assert by_address["security@alpha.example.com"].ok
    assert by_address[hook.url("/hooks/911")].ok
    assert len(results) == 2
    (msg,) = mail.messages
    body = msg.get_content()
    assert msg["To"] == "security@alpha.example.com"
    assert "alpha end_user" in body and "+12175281234" in body and "1 Main St, Springfield, IL 62701" in body
    ((path, headers, raw),) = hook.requests
    assert path == "/hooks/911"
    assert verify_signature(secret, headers["centrex-signature"], raw, now=time.time())
    data = json.loads(raw)["data"]
    assert data["caller"]["callback_number"] == "+12175281234" and data["location_registered"] is True
