"""Every list pages through one bounded dependency: an offset past 64 bits (which made SQLite's
driver overflow, a 500 on 32 of 35 lists) is a 422 naming `offset`; the largest allowed one is an
empty page — issue 14 point 2."""

from __future__ import annotations

import re
import uuid

from centrex.api.deps import MAX_OFFSET
from tests.api.conftest import Api


def list_paths(api: Api) -> list[str]:
    """Every GET that takes ?offset=, as the OpenAPI document says."""
    spec = api.client.get("/openapi.json").json()
    return [
        path
        for path, item in spec["paths"].items()
        if any(p["name"] == "offset" for p in item.get("get", {}).get("parameters", []))
    ]


def test_a_huge_offset_is_a_422_on_every_list(api: Api) -> None:
    paths = list_paths(api)
    assert len(paths) >= 30
    for path in paths:
        url = path.replace("{tenant_id}", str(api.world.a.id))
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), url)
        r = api.call("GET", url, api.world.operator_token, params={"offset": "9223372036854775808"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["field"] == "offset", (path, r.text)


def test_the_largest_offset_allowed_is_an_empty_page(api: Api) -> None:
    r = api.call(
        "GET",
        f"/api/v1/tenants/{api.world.a.id}/users",
        api.world.a.tokens["office_admin"],
        params={"offset": MAX_OFFSET},
    )
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [] and r.json()["total"] > 0 and r.json()["offset"] == MAX_OFFSET
