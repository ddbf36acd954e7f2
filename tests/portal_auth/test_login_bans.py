"""Failed log-ins ban their source through the ban service SIP uses (realm portal, stored, listed at
GET /bans), never a source on the operator's allowlist; failures per e-mail address hold that address
alike whether or not an account has it."""

from __future__ import annotations

from centrex.provisioning.http import bans_of
from centrex.store.db import transaction
from centrex.store.models import BanAllowRow
from tests.portal_auth.conftest import Portal, email_of

ATTACKER = ("203.0.113.7", 40000)
OFFICE = ("198.51.100.77", 40000)


def test_failures_ban_the_source_and_the_ban_is_the_sip_services(portal: Portal) -> None:
    client = portal.client(ATTACKER)
    for i in range(5):
        r = portal.login(client, f"guess{i}@alpha.example.com", "guess")
        assert r.status_code == 401, (i, r.text)
    banned = portal.login(client, email_of("a", "office_admin"))  # even the right password
    assert banned.status_code == 429
    assert banned.json()["rule"] == "source_banned" and "203.0.113.7" in banned.json()["message"]
    assert int(banned.headers["Retry-After"]) > 500
    reset = client.post("/api/v1/auth/password-reset", json={"email": email_of("a", "end_user")})
    assert reset.status_code == 429
    # Another source is not concerned.
    assert portal.login(portal.client(), email_of("a", "office_admin")).status_code == 200
    # The ban is the node's ban service's (fairuse/), stored, and the operator sees it.
    bans_of(portal.app).flush()
    listed = portal.client().get(
        "/api/v1/bans", headers={"Authorization": f"Bearer {portal.world.operator_token}"}
    )
    assert listed.status_code == 200
    [ban] = [b for b in listed.json()["items"] if b["source"] == "203.0.113.7"]
    assert ban["realm"] == "portal"


def test_the_allowlist_is_never_banned(portal: Portal) -> None:
    with transaction(portal.app.state.sessionmaker) as session:
        session.add(BanAllowRow(network="198.51.100.0/24", note="the operator's office"))
    client = portal.client(OFFICE)
    for i in range(8):
        assert portal.login(client, f"typo{i}@alpha.example.com", "guess").status_code == 401
    assert portal.login(client, email_of("a", "office_admin")).status_code == 200


def test_account_throttle_tells_nothing_of_which_accounts_exist(portal: Portal) -> None:
    def hammer(email: str) -> tuple[int, dict[str, str]]:
        for i in range(10):  # from ten sources: no source reaches its ban
            r = portal.login(portal.client((f"192.0.2.{i + 1}", 1000)), email, "guess")
            assert r.status_code == 401
        r = portal.login(portal.client(("192.0.2.99", 1000)), email, "guess")
        return r.status_code, r.json()

    real = hammer(email_of("b", "end_user"))
    made_up = hammer("nobody@beta.example.com")
    assert real[0] == made_up[0] == 429
    assert real[1]["rule"] == made_up[1]["rule"] == "account_throttled"
    assert real[1]["message"].split(" after ")[0] == made_up[1]["message"].split(" after ")[0]
    # The right password does not get through while the address is held.
    held = portal.login(portal.client(("192.0.2.100", 1000)), email_of("b", "end_user"))
    assert held.status_code == 429
