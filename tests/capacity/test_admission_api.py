"""Admission through the API: each site's capacity with the contract's burst ceiling and the
calls refused there by limit; toll permissions for the tenant and a user, as the switch's guard
reads them; the operator's link table and high-risk prefixes, with clear 4xx on bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from centrex.fairuse.toll_storage import StoreToll
from centrex.store.db import transaction
from centrex.store.models import Site, Tenant
from centrex.store.models.admission import CapacityBlock
from centrex.store.models.enums import PricingPlan
from tests.api.conftest import Api
from tests.api.conftest import api as api


def test_capacity_shows_each_sites_burst_ceiling_and_where_calls_were_refused(api: Api) -> None:
    tid = uuid.UUID(str(api.world.a.id))
    site_id = uuid.UUID(str(api.world.a.ids["site"]))
    with transaction(api.app.state.sessionmaker) as s:
        s.execute(update(Tenant).where(Tenant.id == tid).values(pricing_plan=PricingPlan.A_LA_CARTE))
        s.execute(
            update(Site).where(Site.id == site_id).values(calling_units=20, bandwidth_kbps=1536, metered=True)
        )
        s.add(
            Site(
                tenant_id=tid,
                name="DS3 site",
                street="1 Main",
                city="Peoria",
                state="IL",
                postal_code="61602",
                npa_nxx="309671",
                calling_units=40,
                bandwidth_kbps=44_736,
                metered=True,
            )
        )
        s.add(
            CapacityBlock(
                tenant_id=tid,
                site_id=site_id,
                limit_kind="burst",
                blocked=3,
                last_blocked_at=datetime.now(UTC),
            )
        )
    admin = api.world.a.tokens["office_admin"]
    body = api.call("GET", f"/api/v1/tenants/{tid}/capacity", admin).json()
    by_id = {s["site_id"]: s for s in body["sites"]}
    t1 = by_id[str(site_id)]
    # voip-service-guide.txt §V.3.7 example: 20 units on a T1 beside 40 on a DS3 → 41.
    assert (t1["units"], t1["link_max_calls"], t1["max_calls"], t1["blocked"]) == (20, 41, 41, {"burst": 3})
    # Another tenant's administrator does not see it.
    other = api.call("GET", f"/api/v1/tenants/{tid}/capacity", api.world.b.tokens["office_admin"])
    assert other.status_code == 404
    # The operator's table says a T1 carries 30 here: the ceiling follows.
    r = api.call(
        "PUT",
        "/api/v1/capacity/links",
        api.world.operator_token,
        json=[{"bandwidth_kbps": 1536, "max_calls": 30}],
    )
    assert r.status_code == 200, r.text
    body = api.call("GET", f"/api/v1/tenants/{tid}/capacity", admin).json()
    assert {s["site_id"]: s for s in body["sites"]}[str(site_id)]["max_calls"] == 30
    bad = api.call(
        "PUT",
        "/api/v1/capacity/links",
        api.world.operator_token,
        json=[{"bandwidth_kbps": 0, "max_calls": 3}],
    )
    assert bad.status_code == 422 and "bandwidth_kbps" in bad.text


def test_toll_permissions_reach_the_switchs_guard(api: Api) -> None:
    tid = uuid.UUID(str(api.world.a.id))
    user = api.world.a.ids["user"]
    admin = api.world.a.tokens["office_admin"]
    guard = StoreToll(api.app.state.sessionmaker)
    assert guard.view(tid, 0.0).tenant.international is False  # off for a new tenant
    r = api.call(
        "PUT",
        f"/api/v1/tenants/{tid}/toll-permissions",
        admin,
        json={"international": True, "spend_limit": "100.00"},
    )
    assert r.status_code == 200, r.text
    r = api.call(
        "PUT", f"/api/v1/tenants/{tid}/users/{user}/toll-permissions", admin, json={"international": True}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tenant"]["international"] and body["tenant"]["spend_limit"] == "100.000000"
    assert [u["user_id"] for u in body["users"]] == [str(user)]
    guard.ttl_s = 0.0
    view = guard.view(tid, 0.0)
    assert view.tenant.international and view.user(uuid.UUID(str(user))).international
    bad = api.call("PUT", f"/api/v1/tenants/{tid}/toll-permissions", admin, json={"spend_limit": "-1"})
    assert bad.status_code == 422 and "spend_limit" in bad.text
    end_user = api.call(
        "PUT", f"/api/v1/tenants/{tid}/toll-permissions", api.world.a.tokens["end_user"], json={}
    )
    assert end_user.status_code == 403


def test_high_risk_prefixes_are_the_operators(api: Api) -> None:
    op = api.world.operator_token
    r = api.call(
        "POST", "/api/v1/fraud/high-risk-prefixes", op, json={"prefix": "+4470", "rate_per_minute": "1.50"}
    )
    assert r.status_code == 201, r.text
    again = api.call("POST", "/api/v1/fraud/high-risk-prefixes", op, json={"prefix": "+4470"})
    assert again.status_code == 409
    bad = api.call("POST", "/api/v1/fraud/high-risk-prefixes", op, json={"prefix": "4470"})
    assert bad.status_code == 422 and "prefix" in bad.text
    listed = api.call("GET", "/api/v1/fraud/high-risk-prefixes", op).json()
    mine = [p for p in listed if p["prefix"] == "+4470"]  # the world holds a prefix of its own too
    assert len(mine) == 1 and len(listed) == len({p["prefix"] for p in listed})
    assert api.call("DELETE", f"/api/v1/fraud/high-risk-prefixes/{mine[0]['id']}", op).status_code == 204
    assert (
        api.call("GET", "/api/v1/fraud/high-risk-prefixes", api.world.a.tokens["office_admin"]).status_code
        == 404
    )
