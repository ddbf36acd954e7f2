"""Trunks, outbound and emergency routes through the API as the operator uses them, and a tenant's
DIDs routed to its own PBX (IP trunking), on SQLite and PostgreSQL: gateways inline, every problem
named with its field and the contract's rule, every change audited, routes in use kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from centrex.routing import storage
from centrex.routing.model import NumberRoute
from centrex.routing.rules import (
    ALTERNATE_ROUTE,
    E164_DIGITS,
    PEERING_AGREED,
    PEERING_NO_DEFAULT,
    SOURCE_ADDRESS,
)
from centrex.store.db import transaction
from centrex.store.models import AuditEntry, NumberKind, NumberStatus, PhoneNumber
from tests.api.conftest import Api

V1 = "/api/v1"


def op(api: Api) -> str:
    return api.world.operator_token


def adm(api: Api, tenant: str = "a") -> str:
    return getattr(api.world, tenant).tokens["office_admin"]


def t(api: Api, tenant: str = "a") -> str:
    return f"{V1}/tenants/{getattr(api.world, tenant).id}"


def audit_of(api: Api, entity_id: Any) -> list[AuditEntry]:
    with api.app.state.sessionmaker() as s:
        stmt = select(AuditEntry).where(AuditEntry.entity_id == str(entity_id)).order_by(AuditEntry.at)
        return list(s.scalars(stmt))


def errors_of(r: Any) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {e["field"]: e["rule"] for e in r.json()["errors"]}


CARRIER = {
    "name": "carrier-east",
    "kind": "carrier",
    "inbound_networks": ["192.0.2.64/28"],
    "gateways": [
        {"host": "192.0.2.65"},
        {"host": "192.0.2.66"},
        {"host": "198.51.100.65", "role": "secondary", "transport": "TCP"},
        {"host": "198.51.100.66", "role": "secondary"},
    ],
}


def test_operator_creates_a_trunk_with_its_sbc_pairs_inline_and_it_is_audited(api: Api) -> None:
    r = api.call("POST", f"{V1}/trunks", op(api), json=CARRIER)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(g["host"], g["role"], g["position"], g["port"], g["transport"]) for g in body["gateways"]] == [
        ("192.0.2.65", "primary", 0, 5060, "UDP"),
        ("192.0.2.66", "primary", 1, 5060, "UDP"),
        ("198.51.100.65", "secondary", 0, 5060, "TCP"),
        ("198.51.100.66", "secondary", 1, 5060, "UDP"),
    ]
    assert (body["kind"], body["tenant_id"], body["trusted"], body["number_format"]) == (
        "carrier",
        None,
        True,
        "e164",
    )
    got = api.call("GET", f"{V1}/trunks/{body['id']}", op(api)).json()
    assert got["gateways"] == body["gateways"]
    listed = api.call("GET", f"{V1}/trunks", op(api), params={"kind": "carrier"}).json()
    assert "carrier-east" in [x["name"] for x in listed["items"]]
    assert all(x["kind"] == "carrier" for x in listed["items"])
    [entry] = audit_of(api, body["id"])
    assert (entry.action, entry.actor_role, entry.before) == ("trunk.create", "operator", None)
    assert entry.after is not None and [g["host"] for g in entry.after["gateways"]][2:] == [
        "198.51.100.65",
        "198.51.100.66",
    ]
    # The same name twice is a conflict naming the field.
    again = api.call("POST", f"{V1}/trunks", op(api), json=CARRIER)
    assert again.status_code == 409 and again.json()["field"] == "name"


def test_a_bad_trunk_is_refused_with_every_problem_named(api: Api) -> None:
    r = api.call(
        "POST",
        f"{V1}/trunks",
        op(api),
        json={
            "name": "peer-x",
            "kind": "peer",
            "inbound_networks": ["0.0.0.0/0"],
            "gateways": [{"host": "sbc peer!", "port": 70000, "role": "secondary"}],
        },
    )
    assert errors_of(r) == {
        "agreed_prefixes": PEERING_AGREED,
        "inbound_networks.0": SOURCE_ADDRESS,
        "gateways.0.host": SOURCE_ADDRESS,
        "gateways.0.port": "port 1-65535",
        "gateways": ALTERNATE_ROUTE,
    }
    assert r.json()["field"] == "agreed_prefixes"  # the first problem, as on every 4xx
    pbx = api.call(
        "POST",
        f"{V1}/trunks",
        op(api),
        json={"name": "p", "kind": "pbx", "gateways": [{"host": "192.0.2.1"}]},
    )
    assert errors_of(pbx) == {"tenant_id": "a pbx trunk belongs to a tenant"}
    e911 = {
        "name": "e",
        "kind": "emergency",
        "tenant_id": str(api.world.a.id),
        "gateways": [{"host": "192.0.2.1"}],
    }
    assert errors_of(api.call("POST", f"{V1}/trunks", op(api), json=e911)) == {
        "tenant_id": "only pbx trunks belong to a tenant"
    }
    assert (
        api.call("GET", f"{V1}/trunks", op(api), params={"kind": "peer"}).json()["total"] == 0
    )  # nothing stored


def test_routes_toward_a_peer_only_inside_the_agreed_prefixes(api: Api) -> None:
    peer = api.call(
        "POST",
        f"{V1}/trunks",
        op(api),
        json={
            "name": "peer-uk",
            "kind": "peer",
            "agreed_prefixes": ["44"],
            "gateways": [{"host": "203.0.113.44"}],
        },
    ).json()
    default = api.call("POST", f"{V1}/outbound-routes", op(api), json={"trunk_id": peer["id"], "prefix": ""})
    assert errors_of(default) == {"prefix": PEERING_NO_DEFAULT}
    assert "route of last resort" in default.json()["errors"][0]["rule"]
    outside = api.call(
        "POST", f"{V1}/outbound-routes", op(api), json={"trunk_id": peer["id"], "prefix": "49"}
    )
    assert errors_of(outside) == {"prefix": PEERING_AGREED}
    assert "agreed upon in advance" in outside.json()["rule"]
    bad = api.call(
        "POST",
        f"{V1}/outbound-routes",
        op(api),
        json={"trunk_id": peer["id"], "prefix": "+4420", "call_classes": ["intl"], "weight": 0},
    )
    assert set(errors_of(bad)) == {"prefix", "call_classes.0", "weight"}
    ok = api.call(
        "POST",
        f"{V1}/outbound-routes",
        op(api),
        json={"trunk_id": peer["id"], "prefix": "4420", "call_classes": ["international"], "weight": 40},
    )
    assert ok.status_code == 201, ok.text
    route = ok.json()
    assert (route["prefix"], route["call_classes"], route["priority"], route["weight"]) == (
        "4420",
        ["international"],
        100,
        40,
    )
    assert [e.action for e in audit_of(api, route["id"])] == ["outbound_route.create"]
    # The agreement cannot shrink under the route, nor the peer become a pbx trunk.
    narrowed = api.call("PATCH", f"{V1}/trunks/{peer['id']}", op(api), json={"agreed_prefixes": ["33"]})
    assert errors_of(narrowed) == {"agreed_prefixes": PEERING_AGREED}
    moved = api.call("PATCH", f"{V1}/outbound-routes/{route['id']}", op(api), json={"prefix": "33"})
    assert errors_of(moved) == {"prefix": PEERING_AGREED}
    patched = api.call(
        "PATCH", f"{V1}/outbound-routes/{route['id']}", op(api), json={"priority": 10, "weight": 60}
    )
    assert patched.status_code == 200 and (patched.json()["priority"], patched.json()["weight"]) == (10, 60)
    [_, update] = audit_of(api, route["id"])
    assert (update.action, update.before, update.after) == (
        "outbound_route.update",
        {"priority": 100, "weight": 40},
        {"priority": 10, "weight": 60},
    )
    listed = api.call("GET", f"{V1}/outbound-routes", op(api), params={"trunk_id": peer["id"]}).json()
    assert [x["id"] for x in listed["items"]] == [route["id"]]
    assert api.call("DELETE", f"{V1}/outbound-routes/{route['id']}", op(api)).status_code == 204
    assert api.call("GET", f"{V1}/outbound-routes/{route['id']}", op(api)).status_code == 404
    assert [e.action for e in audit_of(api, route["id"])][-1] == "outbound_route.delete"


def test_patching_gateways_replaces_the_list_and_keeps_the_ids_of_those_that_stay(api: Api) -> None:
    trunk = api.call("POST", f"{V1}/trunks", op(api), json=CARRIER).json()
    first = {g["host"]: g["id"] for g in trunk["gateways"]}
    r = api.call(
        "PATCH",
        f"{V1}/trunks/{trunk['id']}",
        op(api),
        json={
            "gateways": [
                {"host": "192.0.2.65"},
                {"host": "192.0.2.67"},
                {"host": "198.51.100.65", "role": "secondary"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    now = {g["host"]: g["id"] for g in r.json()["gateways"]}
    assert set(now) == {"192.0.2.65", "192.0.2.67", "198.51.100.65"}
    assert now["192.0.2.65"] == first["192.0.2.65"]  # its health state in the engine survives
    assert now["198.51.100.65"] == first["198.51.100.65"]
    update = audit_of(api, trunk["id"])[-1]
    assert update.action == "trunk.update" and update.before is not None and update.after is not None
    assert set(update.before) == {"gateways"}
    assert [g["host"] for g in update.after["gateways"]] == ["192.0.2.65", "192.0.2.67", "198.51.100.65"]
    # Only secondaries left: refused, nothing changed.
    only_backup = api.call(
        "PATCH",
        f"{V1}/trunks/{trunk['id']}",
        op(api),
        json={"gateways": [{"host": "198.51.100.65", "role": "secondary"}]},
    )
    assert errors_of(only_backup) == {"gateways": ALTERNATE_ROUTE}
    assert len(api.call("GET", f"{V1}/trunks/{trunk['id']}", op(api)).json()["gateways"]) == 3
    # A field left out (or null) stays as it is.
    same = api.call("PATCH", f"{V1}/trunks/{trunk['id']}", op(api), json={"name": None, "enabled": False})
    assert (same.json()["name"], same.json()["enabled"]) == ("carrier-east", False)


def test_a_trunk_in_use_is_not_deleted(api: Api) -> None:
    w = api.world.a
    r = api.call("DELETE", f"{V1}/trunks/{w.ids['carrier_trunk']}", op(api))
    assert r.status_code == 409 and r.json()["rule"] == "trunk.in_use"
    assert "1 outbound and 0 emergency route(s)" in r.json()["message"]
    r = api.call("DELETE", f"{V1}/trunks/{w.ids['e911_trunk']}", op(api))
    assert r.status_code == 409 and "0 outbound and 1 emergency route(s)" in r.json()["message"]
    routed = api.call(
        "PUT",
        f"{t(api)}/numbers/{w.ids['number']}/routing",
        adm(api),
        json={"target_type": "trunk", "target_id": str(w.ids["pbx_trunk"])},
    )
    assert routed.status_code == 200, routed.text
    r = api.call("DELETE", f"{V1}/trunks/{w.ids['pbx_trunk']}", op(api))
    assert r.status_code == 409 and "+12175281234" in r.json()["message"]
    r = api.call(
        "PATCH", f"{V1}/trunks/{w.ids['pbx_trunk']}", op(api), json={"tenant_id": str(api.world.b.id)}
    )
    assert r.status_code == 409 and r.json()["field"] == "tenant_id"
    assert api.call("DELETE", f"{V1}/trunks/{w.ids['spare_trunk']}", op(api)).status_code == 204
    assert [e.action for e in audit_of(api, w.ids["spare_trunk"])] == ["trunk.delete"]
    assert api.call("GET", f"{V1}/trunks/{w.ids['spare_trunk']}", op(api)).status_code == 404


def test_emergency_routes(api: Api) -> None:
    w = api.world.a
    r = api.call(
        "POST",
        f"{V1}/emergency-routes",
        op(api),
        json={"trunk_id": str(w.ids["e911_trunk"]), "psap": "Chicago OEMC", "priority": 1},
    )
    assert r.status_code == 201, r.text
    er = r.json()
    assert (er["psap"], er["priority"]) == ("Chicago OEMC", 1)
    assert [e.action for e in audit_of(api, er["id"])] == ["emergency_route.create"]
    to_pbx = api.call("POST", f"{V1}/emergency-routes", op(api), json={"trunk_id": str(w.ids["pbx_trunk"])})
    assert errors_of(to_pbx) == {"trunk_id": "emergency routes go to emergency or carrier trunks"}
    unknown = api.call("POST", f"{V1}/emergency-routes", op(api), json={"trunk_id": str(w.ids["user"])})
    assert unknown.status_code == 422 and unknown.json()["field"] == "trunk_id"
    listed = api.call("GET", f"{V1}/emergency-routes", op(api), params={"psap": "Chicago OEMC"}).json()
    assert [x["id"] for x in listed["items"]] == [er["id"]]
    assert (
        api.call("PATCH", f"{V1}/emergency-routes/{er['id']}", op(api), json={"psap": None}).json()["psap"]
        is None
    )
    assert api.call("DELETE", f"{V1}/emergency-routes/{er['id']}", op(api)).status_code == 204
    assert [e.action for e in audit_of(api, er["id"])] == [
        "emergency_route.create",
        "emergency_route.update",
        "emergency_route.delete",
    ]


def test_a_tenants_admin_reads_its_own_pbx_trunks_only(api: Api) -> None:
    w = api.world
    listed = api.call("GET", f"{t(api)}/trunks", adm(api))
    assert listed.status_code == 200
    assert [x["id"] for x in listed.json()["items"]] == [str(w.a.ids["pbx_trunk"])]
    assert listed.json()["items"][0]["gateways"][0]["host"] == "203.0.113.10"
    assert api.call("GET", f"{t(api)}/trunks/{w.a.ids['carrier_trunk']}", adm(api)).status_code == 404
    assert api.call("GET", f"{t(api)}/trunks/{w.b.ids['pbx_trunk']}", adm(api)).status_code == 404
    assert api.call("GET", f"{V1}/trunks", adm(api)).status_code == 404  # operator routes do not exist for it
    # A pbx trunk created by the operator shows in the tenant's own audit log.
    made = api.call(
        "POST",
        f"{V1}/trunks",
        op(api),
        json={
            "name": "alpha-pbx-2",
            "kind": "pbx",
            "tenant_id": str(w.a.id),
            "gateways": [{"host": "203.0.113.99"}],
        },
    )
    assert made.status_code == 201
    assert "trunk.create" in [e["action"] for e in api.audit("a")]


# --- MAC 9: a DID to the tenant's own PBX -----------------------------------------------------------


def test_a_did_routed_to_the_tenants_pbx_trunk(api: Api) -> None:
    w = api.world
    path = f"{t(api)}/numbers/{w.a.ids['number']}/routing"
    own = {"target_type": "trunk", "target_id": str(w.a.ids["pbx_trunk"])}
    r = api.call("PUT", path, adm(api), json=own)
    assert r.status_code == 200, r.text
    assert (r.json()["target_type"], r.json()["status"]) == ("trunk", "assigned")
    assert storage.number_route(api.app.state.sessionmaker, "+12175281234") == NumberRoute(
        "+12175281234", w.a.id, "trunk", w.a.ids["pbx_trunk"]
    )
    entry = audit_of(api, w.a.ids["number"])[-1]
    assert entry.action == "mac.incoming_call_routing" and entry.after is not None
    assert entry.after["target_type"] == "trunk"
    for other in (w.b.ids["pbx_trunk"], w.a.ids["carrier_trunk"], w.a.ids["user"]):
        bad = api.call("PUT", path, adm(api), json={"target_type": "trunk", "target_id": str(other)})
        assert bad.status_code == 422, other
        assert (bad.json()["field"], bad.json()["rule"]) == ("target_id", "exists_in_tenant")
    # Back to a user, then unrouted.
    user = {"target_type": "user", "target_id": str(w.a.ids["user"])}
    assert api.call("PUT", path, adm(api), json=user).json()["target_type"] == "user"
    assert api.call("PUT", path, adm(api), json={"target_type": None}).json()["status"] == "reserved"
    assert storage.number_route(api.app.state.sessionmaker, "+12175281234") is None


def test_the_routing_put_holds_the_did_limit(api: Api) -> None:
    """voip-service-guide.txt §V.2: no more than eight DIDs per simultaneous call on Hosted IP Centrex
    with unlimited local and LD — also through PUT …/routing, not only …/assignment."""
    w = api.world.a
    assert (
        api.call("PATCH", f"{t(api)}/sites/{w.ids['site']}", op(api), json={"calling_units": 1}).status_code
        == 200
    )
    with transaction(api.app.state.sessionmaker) as s:
        s.add_all(
            PhoneNumber(
                e164=f"+1217528{3200 + i:04d}",
                tenant_id=w.id,
                status=NumberStatus.ASSIGNED,
                target_type="user",
                target_id=w.ids["user"],
            )
            for i in range(8)
        )
        toll_free = PhoneNumber(
            e164="+18005550199", kind=NumberKind.TOLL_FREE, tenant_id=w.id, status=NumberStatus.RESERVED
        )
        s.add(toll_free)
        s.flush()
        toll_free_id = toll_free.id
    path = f"{t(api)}/numbers/{w.ids['number']}/routing"
    r = api.call("PUT", path, adm(api), json={"target_type": "trunk", "target_id": str(w.ids["pbx_trunk"])})
    assert r.status_code == 409
    assert r.json()["rule"] == "voip-service-guide.txt §V.2 (8 DIDs per simultaneous call)"
    assert "9 DIDs on 1 simultaneous calling unit(s) exceeds the limit of 8" in r.json()["message"]
    assert api.call("GET", f"{t(api)}/numbers/{w.ids['number']}", adm(api)).json()["status"] == "reserved"
    # A toll-free number is not a DID; a second calling unit makes room.
    tf = api.call(
        "PUT",
        f"{t(api)}/numbers/{toll_free_id}/routing",
        adm(api),
        json={"target_type": "user", "target_id": str(w.ids["user"])},
    )
    assert tf.status_code == 200, tf.text
    assert (
        api.call("PATCH", f"{t(api)}/sites/{w.ids['site']}", op(api), json={"calling_units": 2}).status_code
        == 200
    )
    assert (
        api.call(
            "PUT", path, adm(api), json={"target_type": "trunk", "target_id": str(w.ids["pbx_trunk"])}
        ).status_code
        == 200
    )


def test_a_prefix_longer_than_e164_is_named_by_its_rule(api: Api) -> None:
    carrier = str(api.world.a.ids["carrier_trunk"])
    r = api.call(
        "POST", f"{V1}/outbound-routes", op(api), json={"trunk_id": carrier, "prefix": "1234567890123456"}
    )
    assert errors_of(r) == {"prefix": E164_DIGITS}
    r = api.call("POST", f"{V1}/outbound-routes", op(api), json={"trunk_id": carrier, "prefix": "1212"})
    assert r.status_code == 201
