"""Log-in, the session cookie and its CSRF token, logout, /auth/me, and tokens for scripts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.store.db import transaction
from tests.portal_auth.conftest import OPERATOR_EMAIL, PASSWORD, Portal, email_of


def test_session_cookie_opens_tenant_routes_and_csrf_guards_changes(portal: Portal) -> None:
    client = portal.client()
    r = portal.login(client, email_of("a", "office_admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["auth"] == "session" and body["primary_role"] == "office_admin"
    assert body["tenant_name"] == "Tenant alpha" and body["tenant_id"] == str(portal.world.a.id)
    set_cookie = ", ".join(r.headers.get_list("set-cookie"))
    assert "centrex_session=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    assert "centrex_csrf=" in set_cookie
    assert (
        "Secure" not in set_cookie
    )  # plain HTTP here; over TLS the cookies are Secure (test_password_reset)
    csrf = client.cookies["centrex_csrf"]
    assert csrf == body["csrf_token"]

    users = client.get(portal.tenant_path() + "/users")
    assert users.status_code == 200 and users.json()["total"] >= 6
    new_user = {"name": "Portal Made", "extension": "2777"}
    refused = client.post(portal.tenant_path() + "/users", json=new_user)
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    wrong = client.post(portal.tenant_path() + "/users", json=new_user, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    made = client.post(portal.tenant_path() + "/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    # The change is the principal's, exactly as with its bearer token.
    entry = next(e for e in portal_audit(portal) if e["action"] == "user.create")
    assert entry["actor"] == "user:2001@alpha.example.com" and entry["actor_role"] == "office_admin"

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == email_of("a", "office_admin")

    assert client.post("/api/v1/auth/logout").status_code == 403  # logout is a change: CSRF too
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert "centrex_session" not in client.cookies
    # The old cookie, replayed, opens nothing.
    replay = portal.client()
    replay.cookies.set("centrex_session", r.cookies["centrex_session"])
    assert replay.get(portal.tenant_path() + "/users").status_code == 401


def portal_audit(portal: Portal, tenant: str = "a") -> list[dict[str, object]]:
    r = portal.client().get(
        portal.tenant_path(tenant) + "/audit",
        headers={"Authorization": f"Bearer {portal.world.operator_token}"},
    )
    assert r.status_code == 200
    return list(r.json()["items"])


def test_bearer_requests_need_no_csrf_and_bearer_wins_over_cookie(portal: Portal) -> None:
    client = portal.client()
    assert portal.login(client, email_of("a", "end_user")).status_code == 200
    # The end user's cookie is in the jar; the office admin's bearer token decides, with no CSRF.
    token = portal.world.a.tokens["office_admin"]
    r = client.post(
        portal.tenant_path() + "/users",
        json={"name": "Scripted", "extension": "2778"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text


def test_unknown_email_and_wrong_password_are_indistinguishable(portal: Portal) -> None:
    client = portal.client()
    unknown = portal.login(client, "nobody@alpha.example.com")
    wrong = portal.login(client, email_of("a", "end_user"), "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert set(unknown.headers) - {"content-length", "x-request-id"} == set(wrong.headers) - {
        "content-length",
        "x-request-id",
    }
    assert "set-cookie" not in wrong.headers


def test_operator_logs_in_and_gets_the_operator_principal(portal: Portal) -> None:
    client = portal.client()
    r = portal.login(client, OPERATOR_EMAIL.upper())
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "operator" and r.json()["roles"] == ["operator"]
    assert client.get(portal.tenant_path("b") + "/users").status_code == 200


def test_token_for_scripts(portal: Portal) -> None:
    client = portal.client()
    r = portal.login(client, email_of("a", "backup_admin"), **{"as": "token"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert token.startswith("cx_") and r.json()["expires_at"] and "centrex_session" not in client.cookies
    fresh = portal.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert fresh.get(portal.tenant_path() + "/users", headers=headers).status_code == 200
    assert fresh.get("/api/v1/auth/me", headers=headers).json()["auth"] == "token"
    assert fresh.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert fresh.get(portal.tenant_path() + "/users", headers=headers).status_code == 401


def test_end_user_session_sees_nothing_of_another_tenant(portal: Portal) -> None:
    client = portal.client()
    assert portal.login(client, email_of("a", "end_user")).status_code == 200
    assert client.get(portal.tenant_path("a") + "/me").status_code == 200
    assert client.get(portal.tenant_path("b") + "/me").status_code == 404
    assert client.get(portal.tenant_path("b") + "/directory").status_code == 404
    assert client.get(portal.tenant_path("a") + "/users").status_code == 403  # policy: staff only
    admin = portal.client()
    assert portal.login(admin, email_of("a", "office_admin")).status_code == 200
    assert admin.get(portal.tenant_path("b") + "/users").status_code == 404
    assert admin.get(portal.tenant_path("b") + "/audit").status_code == 404


def test_login_is_audited_in_the_tenants_log(portal: Portal) -> None:
    client = portal.client()
    assert portal.login(client, email_of("a", "cpni_admin"), "wrong password").status_code == 401
    assert portal.login(client, email_of("a", "cpni_admin")).status_code == 200
    actions = [e["action"] for e in portal_audit(portal) if e["entity"] == "users"]
    assert "auth.login" in actions and "auth.login_failed" in actions
    assert not [e for e in portal_audit(portal, "b") if e["action"].startswith("auth.")]
    assert PASSWORD not in str(portal_audit(portal))


def test_operator_logins_are_in_the_operators_log_only(portal: Portal) -> None:
    op = portal.client()
    assert portal.login(op, OPERATOR_EMAIL).status_code == 200
    log = op.get("/api/v1/audit", params={"operators_only": "true", "action": "auth.login"})
    assert log.status_code == 200, log.text
    [entry] = log.json()["items"]
    assert entry["actor"] == f"operator:{OPERATOR_EMAIL}" and entry["tenant_id"] is None
    admin = portal.client()
    assert portal.login(admin, email_of("a", "office_admin")).status_code == 200
    assert admin.get("/api/v1/audit").status_code == 404  # not an operator: no such route
    own = admin.get(portal.tenant_path() + "/audit").json()["items"]
    assert own and all(e["actor"] != f"operator:{OPERATOR_EMAIL}" for e in own)


def test_the_demo_accounts_log_in_to_the_portal(tmp_path: Path, db_url: str) -> None:
    """`centrex demo` gives the operator and every demo user a portal password (printed once more at
    each run, derived from the demo's seed)."""
    from centrex.ops.demo import OPERATOR_EMAIL as DEMO_OPERATOR
    from centrex.ops.demo import seed_demo

    app = create_app(db_url)
    try:
        with transaction(app.state.sessionmaker) as session:
            first = seed_demo(session, tmp_path)
        with transaction(app.state.sessionmaker) as session:
            assert seed_demo(session, tmp_path).portal_password == first.portal_password
        client = TestClient(app)
        for email in (DEMO_OPERATOR, "ada@demo.centrex.test"):
            r = client.post("/api/v1/auth/login", json={"email": email, "password": first.portal_password})
            assert r.status_code == 200, r.text
        assert r.json()["primary_role"] == "office_admin" and r.json()["tenant_name"] == "Demo Dental Group"
    finally:
        app.state.engine.dispose()


def test_idempotency_keys_are_per_session_and_never_keep_a_login(portal: Portal) -> None:
    key = {"Idempotency-Key": "same-key-1"}
    first = portal.client()
    r1 = portal.login(first, email_of("a", "office_admin"), headers=key)
    again = first.post(
        "/api/v1/auth/login",
        json={"email": email_of("a", "office_admin"), "password": PASSWORD},
        headers=key,
    )
    assert r1.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers  # a new session, not a copy of the first
    assert again.cookies["centrex_session"] != r1.cookies["centrex_session"]
    # Two people behind cookies with the same key are two callers.
    second = portal.client()
    assert portal.login(second, email_of("a", "backup_admin")).status_code == 200
    path = portal.tenant_path() + "/me"
    for client in (first, second):
        headers = {**key, "X-CSRF-Token": client.cookies["centrex_csrf"]}
        r = client.request(
            "POST",
            path + "/password",
            json={"current_password": PASSWORD, "new_password": "another long one 7"},
            headers=headers,
        )
        assert r.status_code == 204 and "idempotent-replayed" not in r.headers
