"""The conference bridge API as an office administrator sees it: PINs set but never shown (nor in
the audit log), numbers unique in the tenant's extension plan, bad input named by field, the
moderator PIN removable, and an empty room listed as nobody."""

from __future__ import annotations

import json
import uuid

from centrex.store.credentials import verify_password
from centrex.store.models.conferences import ConferenceBridge
from tests.api.conftest import Api, api  # noqa: F401  (the fixture)


def base(api: Api) -> str:  # noqa: F811
    return f"/api/v1/tenants/{api.world.a.id}/conferences"


# PINs of 8 digits: a 4-digit one can turn up by chance inside an id in the response (a flake seen once).
def test_create_read_update_delete_with_write_only_pins(api: Api) -> None:  # noqa: F811
    admin = api.world.a.tokens["office_admin"]
    r = api.call(
        "POST",
        base(api),
        admin,
        json={"name": "Board", "extension": "7800", "pin": "13572468", "moderator_pin": "97531"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["has_pin"] and body["has_moderator_pin"]
    assert (body["max_parties"], body["announce"], body["app"]) == (10, True, f"conf.{body['id']}")
    assert "13572468" not in r.text and "pin_hash" not in r.text and "pin" not in body
    with api.app.state.sessionmaker() as s:
        row = s.get(ConferenceBridge, uuid.UUID(body["id"]))
        assert row is not None and row.pin_hash and row.moderator_pin_hash
        assert verify_password(row.pin_hash, "13572468") and verify_password(row.moderator_pin_hash, "97531")

    got = api.call("GET", f"{base(api)}/{body['id']}", admin).json()
    assert got["name"] == "Board" and "13572468" not in json.dumps(got)
    listed = api.call("GET", base(api), admin).json()
    assert "7800" in [b["extension"] for b in listed["items"]]

    r = api.call(
        "PATCH",
        f"{base(api)}/{body['id']}",
        admin,
        json={"moderator_pin": None, "pin": "86420975", "max_parties": 3},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["has_pin"], r.json()["has_moderator_pin"], r.json()["max_parties"]) == (True, False, 3)

    entries = api.audit(entity="conference_bridges")
    text = json.dumps(entries)
    assert "13572468" not in text and "86420975" not in text and "argon2" not in text
    created = next(e for e in entries if e["before"] is None)
    assert created["after"]["pin_hash"] == "(set)" and created["after"]["moderator_pin_hash"] == "(set)"
    changed = next(e for e in entries if e["before"] and e["after"])
    assert changed["after"]["pin_hash"] == "(changed)" and changed["after"]["moderator_pin_hash"] is None
    assert changed["before"]["max_parties"] == 10 and changed["after"]["max_parties"] == 3

    assert api.call("DELETE", f"{base(api)}/{body['id']}", admin).status_code == 204
    assert api.call("GET", f"{base(api)}/{body['id']}", admin).status_code == 404


def test_bad_input_and_taken_numbers_name_the_field(api: Api) -> None:  # noqa: F811
    admin = api.world.a.tokens["office_admin"]
    r = api.call("POST", base(api), admin, json={"name": "X", "extension": "7801", "pin": "12"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pin"
    r = api.call("POST", base(api), admin, json={"name": "X", "extension": "7801", "max_parties": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "max_parties"
    for taken in ("2001", "3000", "7700"):  # a user, a hunt group, another bridge
        r = api.call("POST", base(api), admin, json={"name": "X", "extension": taken})
        assert r.status_code == 409, (taken, r.text)
        assert (r.json()["field"], r.json()["rule"]) == ("extension", "unique")
    spare = api.world.a.ids["spare_conference"]
    r = api.call("PATCH", f"{base(api)}/{spare}", admin, json={"extension": "7700"})
    assert r.status_code == 409


def test_participants_of_an_empty_room(api: Api) -> None:  # noqa: F811
    admin = api.world.a.tokens["office_admin"]
    bridge = api.world.a.ids["conference"]
    r = api.call("GET", f"{base(api)}/{bridge}/participants", admin)
    assert r.status_code == 200
    assert r.json() == {"bridge_id": str(bridge), "count": 0, "max_parties": 10, "items": []}
