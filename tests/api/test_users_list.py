"""The users list as a portal or a Wazo-style integration pages it: ?search= over name, extension
and e-mail (a % or _ typed is a character, not a wildcard), ?order= and ?direction=."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def users(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.call(
        "GET", f"/api/v1/tenants/{api.world.a.id}/users", api.world.a.tokens["office_admin"], params=params
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_search_order_and_direction(api: Api) -> None:
    t = f"/api/v1/tenants/{api.world.a.id}/users"
    admin = api.world.a.tokens["office_admin"]
    for ext, name, email in (("7001", "Zed 100%", "zed@x.example"), ("7002", "Amy_Q", "amy@x.example")):
        r = api.call("POST", t, admin, json={"extension": ext, "name": name, "email": email})
        assert r.status_code == 201, r.text
    assert [u["extension"] for u in users(api, search="100%")] == ["7001"]
    assert [u["name"] for u in users(api, search="y_q")] == ["Amy_Q"]
    assert users(api, search="amyxq") == []  # _ is not a wildcard
    assert [u["extension"] for u in users(api, search="x.example", order="name")] == ["7002", "7001"]
    by_ext_desc = [u["extension"] for u in users(api, order="extension", direction="desc", limit=500)]
    assert by_ext_desc == sorted(by_ext_desc, reverse=True)
    r = api.call("GET", t, admin, params={"order": "password_hash"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "order"


def test_one_shape_of_query_many_values_and_totals(api: Api) -> None:
    """The list's statement is built once per shape (which filters, which order) and reused: each
    request's own values must still decide the rows and the total, full pages counted."""
    t = f"/api/v1/tenants/{api.world.a.id}/users"
    admin = api.world.a.tokens["office_admin"]
    for ext, name in (("7101", "Pat One"), ("7102", "Pat Two"), ("7103", "Sam Three")):
        r = api.call("POST", t, admin, json={"extension": ext, "name": name, "email": f"{ext}@x.example"})
        assert r.status_code == 201, r.text

    def page(**params: Any) -> dict[str, Any]:
        r = api.call("GET", t, admin, params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    first = page(name="pat", limit=1)
    assert [u["extension"] for u in first["items"]] == ["7101"] and first["total"] == 2
    second = page(name="pat", limit=1, offset=1)
    assert [u["extension"] for u in second["items"]] == ["7102"] and second["total"] == 2
    sam = page(name="sam", limit=1)  # the same shape, another value
    assert [u["extension"] for u in sam["items"]] == ["7103"] and sam["total"] == 1
    assert [u["name"] for u in page(extension="7102")["items"]] == ["Pat Two"]
    assert page(extension="7199")["items"] == []
    everyone = page(limit=500)["total"]
    assert page(limit=1)["total"] == everyone  # a full page: counted
    past = page(offset=everyone + 5)
    assert past["items"] == [] and past["total"] == everyone
