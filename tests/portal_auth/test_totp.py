"""TOTP two-factor log-in with codes from pyotp (as an authenticator app makes them): enrol, confirm,
log in with the code, a wrong or replayed code refused, disable; the setting that makes
administrators enrol before anything else."""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import pyotp
from fastapi.testclient import TestClient

from tests.portal_auth.conftest import Portal, email_of


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["centrex_csrf"]}


def next_code(secret: str, after: str | None = None) -> str:
    """The app's current code; a fresh one (the next step) when `after` was just used."""
    totp = pyotp.TOTP(secret)
    code = totp.now()
    while code == after:
        time.sleep(0.5)
        code = totp.now()
    return code


def enrol(portal: Portal, client: TestClient) -> str:
    r = client.post("/api/v1/auth/totp", headers=csrf(client))
    assert r.status_code == 201, r.text
    uri = urlparse(r.json()["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    secret = parse_qs(uri.query)["secret"][0]
    assert secret == r.json()["secret"] and parse_qs(uri.query)["issuer"] == ["Centrex"]
    return secret


def test_enrol_confirm_login_with_code_and_disable(portal: Portal) -> None:
    email = email_of("a", "office_admin")
    client = portal.client()
    assert portal.login(client, email).status_code == 200
    secret = enrol(portal, client)
    wrong = client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=csrf(client))
    if pyotp.TOTP(secret).verify("000000", valid_window=1):  # one chance in ~300,000
        return
    assert wrong.status_code == 422 and wrong.json()["rule"] == "totp"
    code = next_code(secret)
    on = client.post("/api/v1/auth/totp/confirm", json={"code": code}, headers=csrf(client))
    assert on.status_code == 200 and on.json()["totp_enabled"] is True
    assert client.get("/api/v1/auth/me").json()["totp_enabled"] is True

    # From now on the password alone is not enough.
    needs = portal.login(portal.client(), email)
    assert needs.status_code == 401 and needs.json()["rule"] == "totp_required"
    bad = portal.login(portal.client(), email, totp_code="123456" if code != "123456" else "654321")
    assert bad.status_code == 401 and bad.json()["rule"] == "totp"
    replayed = portal.login(portal.client(), email, totp_code=code)
    assert replayed.status_code == 401  # the code that confirmed is used up
    fresh = next_code(secret, after=code)
    second = portal.client()
    ok = portal.login(second, email, totp_code=fresh)
    assert ok.status_code == 200, ok.text
    assert second.get(portal.tenant_path() + "/users").status_code == 200

    third = next_code(secret, after=fresh)
    off = second.post("/api/v1/auth/totp/disable", json={"code": third}, headers=csrf(second))
    assert off.status_code == 204, off.text
    assert portal.login(portal.client(), email).status_code == 200

    audit = portal.client().get(
        portal.tenant_path() + "/audit", headers={"Authorization": f"Bearer {portal.world.operator_token}"}
    )
    actions = {e["action"] for e in audit.json()["items"]}
    assert {"auth.totp_enrol", "auth.totp_on", "auth.totp_off", "auth.login_failed"} <= actions
    assert secret not in audit.text


def test_required_for_admins_leaves_only_enrolment(portal: Portal) -> None:
    portal.app.state.portal = replace(portal.app.state.portal, require_totp_admins=True)
    # An end user is not concerned.
    user = portal.client()
    assert portal.login(user, email_of("a", "end_user")).json()["enroll_only"] is False
    assert user.get(portal.tenant_path() + "/me").status_code == 200

    email = email_of("a", "backup_admin")
    token = portal.login(portal.client(), email, **{"as": "token"})
    assert token.status_code == 403 and token.json()["rule"] == "totp_enrollment_required"
    admin = portal.client()
    r = portal.login(admin, email)
    assert r.status_code == 200 and r.json()["enroll_only"] is True and r.json()["totp_required"] is True
    blocked = admin.get(portal.tenant_path() + "/users")
    assert blocked.status_code == 403 and "enrol" in blocked.json()["message"]
    assert admin.get("/api/v1/auth/me").json()["enroll_only"] is True
    secret = enrol(portal, admin)
    code = next_code(secret)
    assert (
        admin.post("/api/v1/auth/totp/confirm", json={"code": code}, headers=csrf(admin)).status_code == 200
    )
    assert admin.get(portal.tenant_path() + "/users").status_code == 200  # both factors proved
    # Required: it cannot be turned off.
    refused = admin.post(
        "/api/v1/auth/totp/disable", json={"code": next_code(secret, after=code)}, headers=csrf(admin)
    )
    assert refused.status_code == 403


def test_developer_key_has_no_totp(portal: Portal) -> None:
    r = portal.client().post(
        "/api/v1/auth/totp", headers={"Authorization": f"Bearer {portal.world.a.tokens['developer']}"}
    )
    assert r.status_code == 403
