"""One list dependency (api/deps.py `listing`) gives the lists Wazo's and Twilio's users page through
?sort=field,-field (only the fields the endpoint allows: a 422 naming the bad one) and ?search= (a
case-insensitive substring of the endpoint's columns)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def listed(api: Api, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
    r = api.call("GET", path, token, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_hunt_groups_sort_and_search(api: Api) -> None:
    t = f"/api/v1/tenants/{api.world.a.id}/hunt-groups"
    admin = api.world.a.tokens["office_admin"]
    for ext, name in (("7301", "Zeta West"), ("7302", "zeta east"), ("7303", "Omega Support")):
        r = api.call("POST", t, admin, json={"name": name, "extension": ext, "member_ids": []})
        assert r.status_code == 201, r.text
    # Case-insensitive, over the name and the extension.
    found = listed(api, t, admin, search="ZETA", sort="extension")
    assert [g["extension"] for g in found] == ["7301", "7302"]
    assert [g["name"] for g in listed(api, t, admin, search="730", sort="-extension")] == [
        "Omega Support",
        "zeta east",
        "Zeta West",
    ]
    # Several fields: name descending, then extension.
    names = [g["name"] for g in listed(api, t, admin, sort="-name,extension", limit=500)]
    assert names.index("Zeta West") < names.index("Omega Support")
    # The total counts what the search found, not the tenant's whole list.
    r = api.call("GET", t, admin, params={"search": "zeta", "limit": 1})
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1


def test_a_field_not_allowed_is_named_in_a_422(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    for path, bad in (
        (f"/api/v1/tenants/{api.world.a.id}/devices", "ha1_md5"),
        (f"/api/v1/tenants/{api.world.a.id}/cdrs", "tenant_id"),
        (f"/api/v1/tenants/{api.world.a.id}/queues", "name,secret"),
    ):
        token = api.world.operator_token if "cdrs" in path else admin  # CDRs are CPNI
        r = api.call("GET", path, token, params={"sort": bad})
        assert r.status_code == 422, (path, r.text)
        body = r.json()
        assert body["field"] == "sort" and bad.split(",")[-1] in body["message"], body
        assert "sortable fields" in body["message"]


def test_devices_and_tenants(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    devices = listed(api, f"/api/v1/tenants/{api.world.a.id}/devices", admin, sort="-sip_username")
    usernames = [d["sip_username"] for d in devices]
    assert usernames and usernames == sorted(usernames, reverse=True)
    one = usernames[0]
    found = listed(api, f"/api/v1/tenants/{api.world.a.id}/devices", admin, search=one.upper())
    assert one in [d["sip_username"] for d in found]
    op = api.world.operator_token
    both = listed(api, "/api/v1/tenants", op, sort="-sip_domain")
    assert [t["sip_domain"] for t in both][:2] == ["beta.example.com", "alpha.example.com"]
    beta = listed(api, "/api/v1/tenants", op, search="BETA")
    assert [t["sip_domain"] for t in beta] == ["beta.example.com"]
