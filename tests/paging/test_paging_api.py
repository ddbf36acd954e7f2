"""Paging groups through the API as an office administrator sees them (issue 17 §3): create, read,
change the members, delete; numbers unique in the tenant's extension plan, members only of the
tenant, each change audited; and what the switch reads of them (pbx/paging_store.py)."""

from __future__ import annotations

import uuid

from centrex.pbx.paging_store import StorePaging
from tests.api.conftest import Api, api  # noqa: F401  (the fixture)


def base(api: Api) -> str:  # noqa: F811
    return f"/api/v1/tenants/{api.world.a.id}/paging-groups"


def test_create_read_update_delete_and_the_switch_reads_it(api: Api) -> None:  # noqa: F811
    admin = api.world.a.tokens["office_admin"]
    end_user, other = str(api.world.a.ids["end_user"]), str(api.world.a.ids["user"])
    r = api.call(
        "POST", base(api), admin, json={"name": "All floors", "extension": "7800", "member_ids": [end_user]}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["name"], body["extension"], body["member_ids"]) == ("All floors", "7800", [end_user])

    lookup = StorePaging(api.app.state.sessionmaker, ttl=0)
    info = lookup(api.world.a.id, "7800")
    assert info is not None and info.member_ids == (uuid.UUID(end_user),)
    assert lookup(api.world.b.id, "7800") is None  # another tenant's extension plan

    r = api.call("PATCH", f"{base(api)}/{body['id']}", admin, json={"member_ids": [other, end_user]})
    assert r.status_code == 200 and r.json()["member_ids"] == [other, end_user]
    info = lookup(api.world.a.id, "7800")
    assert info is not None and [str(m) for m in info.member_ids] == [other, end_user]
    listed = api.call("GET", base(api), admin).json()
    assert "7800" in [g["extension"] for g in listed["items"]]

    entries = api.audit(entity="paging_groups")
    assert any(e["before"] is None and e["after"]["extension"] == "7800" for e in entries)
    changed = next(e for e in entries if e["before"] and e["after"])
    assert changed["before"]["member_ids"] == [end_user] and changed["after"]["member_ids"] == [
        other,
        end_user,
    ]

    assert api.call("DELETE", f"{base(api)}/{body['id']}", admin).status_code == 204
    assert api.call("GET", f"{base(api)}/{body['id']}", admin).status_code == 404
    assert lookup(api.world.a.id, "7800") is None


def test_bad_input_taken_numbers_and_other_tenants_members_name_the_field(api: Api) -> None:  # noqa: F811
    admin = api.world.a.tokens["office_admin"]
    for taken in ("2001", "3000", "7700", "7750"):  # a user, a hunt group, a bridge, another paging group
        r = api.call("POST", base(api), admin, json={"name": "X", "extension": taken})
        assert r.status_code == 409, (taken, r.text)
        assert (r.json()["field"], r.json()["rule"]) == ("extension", "unique")
    stranger = str(api.world.b.ids["end_user"])
    r = api.call("POST", base(api), admin, json={"name": "X", "extension": "7802", "member_ids": [stranger]})
    assert r.status_code == 422 and r.json()["field"] == "member_ids"
    me = str(api.world.a.ids["end_user"])
    r = api.call("POST", base(api), admin, json={"name": "X", "extension": "7802", "member_ids": [me, me]})
    assert r.status_code == 422 and r.json()["rule"] == "unique"
    r = api.call("POST", base(api), admin, json={"name": "", "extension": "7802"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    # a hunt group may not take a paging group's number either
    r = api.call(
        "POST",
        f"/api/v1/tenants/{api.world.a.id}/hunt-groups",
        admin,
        json={"name": "H", "extension": "7750"},
    )
    assert r.status_code == 409


def test_end_users_cannot_see_or_change_paging_groups(api: Api) -> None:  # noqa: F811
    user = api.world.a.tokens["end_user"]
    assert api.call("GET", base(api), user).status_code == 403
    r = api.call("POST", base(api), user, json={"name": "Mine", "extension": "7803"})
    assert r.status_code == 403
    other_admin = api.world.b.tokens["office_admin"]
    group = api.world.a.ids["paging_group"]
    assert api.call("GET", f"{base(api)}/{group}", other_admin).status_code in (403, 404)
