"""Issue 15 through the trunks API, on SQLite and PostgreSQL: a trunk's call and calls-per-second
limits and its originating location (voip-service-guide.txt §V.9) are stored, checked, shown, and
reach the routing table the switch reads."""

from __future__ import annotations

from sqlalchemy import select

from centrex.routing.storage import load_routing_table
from centrex.store.models import Site
from tests.api.conftest import Api
from tests.api.conftest import api as api

V1 = "/api/v1"


def site_of(api: Api, tenant: str) -> str:
    with api.app.state.sessionmaker() as s:
        return str(s.scalars(select(Site.id).where(Site.tenant_id == getattr(api.world, tenant).id)).first())


def test_limits_and_origin_are_stored_checked_and_read_by_the_switch(api: Api) -> None:
    op = api.world.operator_token
    carrier = {
        "name": "carrier-ny",
        "kind": "carrier",
        "gateways": [{"host": "192.0.2.65"}, {"host": "198.51.100.65", "role": "secondary"}],
        "max_calls": 23,
        "max_cps": 5,
        "origin_npa_nxx": "212555",
        "origin_state": "NY",
    }
    r = api.call("POST", f"{V1}/trunks", op, json=carrier)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["max_calls"], body["max_cps"], body["origin_npa_nxx"], body["origin_state"]) == (
        23,
        5,
        "212555",
        "NY",
    )
    pbx = {
        "name": "acme-pbx",
        "kind": "pbx",
        "tenant_id": str(api.world.a.id),
        "gateways": [{"host": "192.0.2.1"}, {"host": "198.51.100.1", "role": "secondary"}],
        "site_id": site_of(api, "a"),
        "max_calls": 10,
    }
    r = api.call("POST", f"{V1}/trunks", op, json=pbx)
    assert r.status_code == 201, r.text
    pbx_id = r.json()["id"]
    with api.app.state.sessionmaker() as s:
        table = load_routing_table(s)
    by_name = {t.name: t for t in table.trunks.values()}
    assert (by_name["carrier-ny"].max_cps, by_name["carrier-ny"].origin_state) == (5, "NY")
    assert str(by_name["acme-pbx"].site_id) == site_of(api, "a") and by_name["acme-pbx"].max_calls == 10
    # Null lifts a limit.
    r = api.call("PATCH", f"{V1}/trunks/{pbx_id}", op, json={"max_calls": None})
    assert r.status_code == 200 and r.json()["max_calls"] is None

    # Every problem named: a limit of 0, half an origin, a site on a carrier.
    bad = {**carrier, "name": "bad", "max_calls": 0, "origin_state": None, "site_id": site_of(api, "a")}
    r = api.call("POST", f"{V1}/trunks", op, json=bad)
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"max_calls", "origin_npa_nxx", "site_id"}
    # A pbx trunk's site is one of its own tenant's.
    r = api.call("PATCH", f"{V1}/trunks/{pbx_id}", op, json={"site_id": site_of(api, "b")})
    assert r.status_code == 422 and r.json()["field"] == "site_id"
