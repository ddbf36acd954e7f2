"""Sites through the API against voip-service-guide.txt §2.2 and §I.5: a BUNDLED tenant cannot add
a site in the eight states, nobody can add one in Alaska, and a tenant with such a site cannot
move to BUNDLED; each refusal a 422 naming the field and the rule."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.conftest import api as api

SITE = {"street": "1 Main St", "city": "Louisville", "postal_code": "40202", "npa_nxx": "502581"}


def test_bundled_sites_and_alaska(api: Api) -> None:
    op = api.world.operator_token
    tid = api.world.a.id
    base = f"/api/v1/tenants/{tid}"
    assert api.call("PATCH", base, op, json={"pricing_plan": "bundled"}).status_code == 200
    r = api.call("POST", f"{base}/sites", op, json={**SITE, "name": "Louisville", "state": "KY"})
    assert r.status_code == 422, r.text
    assert (r.json()["field"], r.json()["rule"]) == ("state", "bundled_unavailable")
    assert "Kentucky" in r.json()["message"]
    assert api.call("PATCH", base, op, json={"pricing_plan": "a-la-carte"}).status_code == 200
    r = api.call("POST", f"{base}/sites", op, json={**SITE, "name": "Louisville", "state": "KY"})
    assert r.status_code == 201, r.text
    r = api.call("PATCH", base, op, json={"pricing_plan": "bundled"})
    assert r.status_code == 422 and r.json()["rule"] == "bundled_unavailable"
    r = api.call("POST", f"{base}/sites", op, json={**SITE, "name": "Anchorage", "state": "AK"})
    assert r.status_code == 422 and r.json()["rule"] == "service_area" and "Alaska" in r.json()["message"]
