"""Each move, add and change of hosted-pbx.txt as the office administrator makes it, with its audit."""

from __future__ import annotations

from sqlalchemy import select

from centrex.sip.digest import compute_ha1
from centrex.store.models import ApiToken, Device, Mailbox, User
from tests.api.conftest import Api


def t(api: Api) -> str:
    return f"/api/v1/tenants/{api.world.a.id}"


def test_station_name_change_is_audited_with_before_and_after(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    uid = api.world.a.ids["user"]
    r = api.call("PATCH", f"{t(api)}/users/{uid}", admin, json={"name": "Reception Desk"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Reception Desk"
    entry = api.audit(action="mac.station_name")[0]
    assert entry["entity_id"] == str(uid)
    assert entry["before"] == {"name": "alpha other_user"}
    assert entry["after"] == {"name": "Reception Desk"}
    assert entry["actor"].startswith("user:2001@alpha.example.com")
    assert entry["actor_role"] == "office_admin"


def test_patch_changes_only_the_fields_sent(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    uid = api.world.a.ids["user"]
    before = api.call("GET", f"{t(api)}/users/{uid}", admin).json()
    r = api.call("PATCH", f"{t(api)}/users/{uid}", admin, json={"email": "desk@alpha.example.com"})
    after = r.json()
    assert after["email"] == "desk@alpha.example.com"
    assert {k: v for k, v in after.items() if k != "email"} == {
        k: v for k, v in before.items() if k != "email"
    }


def test_ring_to_change_forwarding(api: Api) -> None:
    admin = api.world.a.tokens["backup_admin"]
    uid = api.world.a.ids["user"]
    r = api.call(
        "PATCH",
        f"{t(api)}/users/{uid}/forwarding",
        admin,
        json={"forward_busy": "2004", "forward_no_answer": "(217) 555-0199", "forward_no_answer_seconds": 15},
    )
    assert r.status_code == 200, r.text
    assert r.json()["forward_no_answer"] == "+12175550199"  # stored as E.164
    entry = api.audit(action="mac.ring_to")[0]
    assert entry["after"]["forward_busy"] == "2004"
    assert entry["actor_role"] == "backup_admin"


def test_call_restriction_change(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    r = api.call(
        "POST", f"{t(api)}/call-restrictions", admin, json={"name": "Lobby", "allow_long_distance": False}
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    uid = api.world.a.ids["user"]
    r = api.call("PUT", f"{t(api)}/users/{uid}/restriction", admin, json={"restriction_class_id": cid})
    assert r.status_code == 200 and r.json()["restriction_class_id"] == cid
    assert api.audit(action="mac.call_restriction", entity="users")[0]["after"] == {
        "restriction_class_id": cid
    }


def test_hunt_group_change_members_and_strategy_in_one_audit_entry(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    gid = api.world.a.ids["hunt_group"]
    members = [str(api.world.a.ids["user"]), str(api.world.a.ids["end_user"])]
    r = api.call(
        "PATCH", f"{t(api)}/hunt-groups/{gid}", admin, json={"strategy": "sequential", "member_ids": members}
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_ids"] == members and r.json()["strategy"] == "sequential"
    entry = api.audit(action="mac.hunt_group")[0]
    assert entry["after"] == {"strategy": "sequential", "member_ids": members}


def test_hunt_group_change_with_a_bad_member_changes_nothing(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    gid = api.world.a.ids["hunt_group"]
    foreign = str(api.world.b.ids["user"])
    r = api.call(
        "PATCH", f"{t(api)}/hunt-groups/{gid}", admin, json={"name": "Renamed", "member_ids": [foreign]}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "member_ids" and r.json()["rule"] == "exists_in_tenant"
    assert api.call("GET", f"{t(api)}/hunt-groups/{gid}", admin).json()["name"] == "Sales"
    assert api.audit(action="mac.hunt_group") == []


def test_company_directory(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    r = api.call(
        "POST", f"{t(api)}/directory/entries", admin, json={"name": "Warehouse", "number": "2175550142"}
    )
    assert r.status_code == 201 and r.json()["number"] == "+12175550142"
    listing = api.call(
        "GET", f"{t(api)}/directory", api.world.a.tokens["end_user"], params={"q": "ware"}
    ).json()
    assert listing["items"] == [{"name": "Warehouse", "number": "+12175550142", "source": "entry"}]
    assert api.audit(action="mac.company_directory")[0]["after"]["name"] == "Warehouse"


def test_password_reset_returns_a_temporary_password_once_and_stores_argon2(
    api: Api, session_factory
) -> None:
    admin = api.world.a.tokens["office_admin"]
    uid = api.world.a.ids["user"]
    r = api.call("POST", f"{t(api)}/users/{uid}/password-reset", admin)
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    with session_factory() as s:
        stored = s.get(User, uid).password_hash
    assert stored.startswith("$argon2id$") and temporary not in stored
    entry = api.audit(action="mac.password_reset")[0]
    assert entry["after"] == {"password_hash": "(changed)"}  # the audit log never holds a secret


def test_device_secret_reset_stores_only_ha1(api: Api, session_factory) -> None:
    admin = api.world.a.tokens["office_admin"]
    did = api.world.a.ids["device"]
    r = api.call("POST", f"{t(api)}/devices/{did}/secret-reset", admin)
    body = r.json()
    with session_factory() as s:
        device = s.get(Device, did)
    assert device.ha1_md5 == compute_ha1("2001", "alpha.example.com", body["sip_password"], "MD5")
    assert device.ha1_sha256 == compute_ha1("2001", "alpha.example.com", body["sip_password"], "SHA-256")
    assert api.audit(action="mac.password_reset", entity="devices")


def test_voicemail_programming_change(api: Api, session_factory) -> None:
    admin = api.world.a.tokens["office_admin"]
    uid = api.world.a.ids["user"]
    r = api.call(
        "PATCH",
        f"{t(api)}/users/{uid}/voicemail",
        admin,
        json={"pin": "4821", "email_notify": True, "rings_before_voicemail": 6},
    )
    assert r.status_code == 200, r.text
    assert r.json()["pin_set"] and r.json()["rings_before_voicemail"] == 6
    with session_factory() as s:
        box = s.scalar(select(Mailbox).where(Mailbox.user_id == uid))
    assert box.pin_hash.startswith("$argon2id$")
    assert api.audit(action="mac.voicemail")[0]["after"]["rings_before_voicemail"] == 6
    bad = api.call("PATCH", f"{t(api)}/users/{uid}/voicemail", admin, json={"pin": "12"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pin"


def test_incoming_call_routing(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    nid = api.world.a.ids["number"]
    gid = api.world.a.ids["hunt_group"]
    r = api.call(
        "PUT",
        f"{t(api)}/numbers/{nid}/routing",
        admin,
        json={"target_type": "hunt_group", "target_id": str(gid)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned" and r.json()["target_id"] == str(gid)
    assert api.audit(action="mac.incoming_call_routing")[0]["after"]["target_type"] == "hunt_group"
    foreign = api.call(
        "PUT",
        f"{t(api)}/numbers/{nid}/routing",
        admin,
        json={"target_type": "user", "target_id": str(api.world.b.ids["user"])},
    )
    assert foreign.status_code == 422 and foreign.json()["field"] == "target_id"


def test_button_programming(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    did = api.world.a.ids["device"]
    buttons = [
        {"position": 1, "kind": "line", "value": "2001", "label": "Line"},
        {"position": 2, "kind": "speed_dial", "value": "+12175550100", "label": "Desk"},
    ]
    r = api.call("PUT", f"{t(api)}/devices/{did}/buttons", admin, json={"buttons": buttons})
    assert r.status_code == 200, r.text
    assert api.call("GET", f"{t(api)}/devices/{did}/buttons", admin).json()["buttons"] == buttons
    assert api.audit(action="mac.button_programming")[0]["after"] == {"buttons": buttons}
    dup = api.call("PUT", f"{t(api)}/devices/{did}/buttons", admin, json={"buttons": [*buttons, buttons[0]]})
    assert dup.status_code == 422 and dup.json()["field"] == "buttons.position"


def test_end_user_cannot_make_a_mac_but_can_set_own_forwarding(api: Api) -> None:
    user = api.world.a.tokens["end_user"]
    uid = api.world.a.ids["end_user"]
    denied = api.call("PATCH", f"{t(api)}/users/{uid}/forwarding", user, json={"forward_busy": "2001"})
    assert denied.status_code == 403 and denied.json()["rule"] == "user:read"
    r = api.call(
        "PATCH", f"{t(api)}/me", user, json={"forward_always": "+1 217 555 0111", "do_not_disturb": True}
    )
    assert r.status_code == 200 and r.json()["forward_always"] == "+12175550111"
    assert api.call("GET", f"{t(api)}/me", user).json()["do_not_disturb"] is True


def test_duplicate_extension_is_409_across_users_and_hunt_groups(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    r = api.call("POST", f"{t(api)}/users", admin, json={"name": "Clash", "extension": "3000"})
    assert r.status_code == 409 and r.json()["field"] == "extension"
    r = api.call("POST", f"{t(api)}/hunt-groups", admin, json={"name": "Clash", "extension": "2001"})
    assert r.status_code == 409
    # the same extension in another tenant is fine
    r = api.call("POST", f"{t(api)}/users", admin, json={"name": "Fine", "extension": "4444"})
    assert r.status_code == 201
    b_admin = api.world.b.tokens["office_admin"]
    r = api.call(
        "POST", f"/api/v1/tenants/{api.world.b.id}/users", b_admin, json={"name": "B", "extension": "4444"}
    )
    assert r.status_code == 201


def test_numbers_are_validated_and_stored_e164(api: Api) -> None:
    op = api.world.operator_token
    r = api.call("POST", "/api/v1/numbers", op, json={"e164": "(415) 555-2671"})
    assert r.status_code == 201 and r.json()["e164"] == "+14155552671"
    dup = api.call("POST", "/api/v1/numbers", op, json={"e164": "+1 415-555-2671"})
    assert dup.status_code == 409 and dup.json()["field"] == "e164"
    bad = api.call("POST", "/api/v1/numbers", op, json={"e164": "12345"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "e164" and bad.json()["errors"][0]["rule"] == "e164"


def test_lists_are_paginated_and_filtered(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    page = api.call("GET", f"{t(api)}/users", admin, params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 6 and len(page["items"]) == 2 and page["items"][0]["extension"] == "2003"
    only = api.call("GET", f"{t(api)}/users", admin, params={"extension": "2004"}).json()
    assert [u["name"] for u in only["items"]] == ["alpha end_user"]
    bad = api.call("GET", f"{t(api)}/users", admin, params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"


def test_tokens_are_stored_hashed_and_shown_once(api: Api, session_factory) -> None:
    admin = api.world.a.tokens["office_admin"]
    r = api.call("POST", f"{t(api)}/tokens", admin, json={"kind": "developer", "name": "crm"})
    assert r.status_code == 201
    plaintext = r.json()["token"]
    with session_factory() as s:
        rows = s.scalars(select(ApiToken.secret_hash)).all()
    assert plaintext not in rows and all(plaintext not in h for h in rows)
    assert api.call("GET", f"{t(api)}/numbers", plaintext).status_code == 200
    revoked = api.call("DELETE", f"{t(api)}/tokens/{r.json()['id']}", admin)
    assert revoked.status_code == 204
    assert api.call("GET", f"{t(api)}/numbers", plaintext).status_code == 401


def test_designations_one_office_admin_and_a_different_backup(api: Api) -> None:
    op = api.world.operator_token
    uid = str(api.world.a.ids["user"])
    r = api.call(
        "PATCH", f"{t(api)}/designations", op, json={"office_admin_user_id": uid, "backup_admin_user_id": uid}
    )
    assert r.status_code == 409 and r.json()["field"] == "backup_admin_user_id"
    r = api.call("PATCH", f"{t(api)}/designations", op, json={"office_admin_user_id": uid})
    assert r.status_code == 200 and r.json()["office_admin_user_id"] == uid
    # the former office admin's token no longer makes changes
    old = api.world.a.tokens["office_admin"]
    assert (
        api.call("POST", f"{t(api)}/users", old, json={"name": "N", "extension": "5555"}).status_code == 403
    )
