"""routing/storage.py on SQLite and PostgreSQL: what the operator stores is the routing table the
call engine reads (disabled trunks and their routes left out), kept ttl seconds; where a DID goes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.numbers.classes import CallClass
from centrex.routing import storage
from centrex.routing.model import GatewayRole, NumberRoute, TrunkKind
from centrex.routing.select import GatewayHealth, outbound_targets
from centrex.store.access import OperatorData, Principal
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import NumberStatus, NumberTarget, PhoneNumber, Role, Tenant, TokenKind


def operator() -> Principal:
    return Principal(TokenKind.OPERATOR, uuid.uuid4(), frozenset({Role.OPERATOR}), "operator:test")


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _stored(factory: sessionmaker[Session]) -> dict[str, uuid.UUID]:
    with transaction(factory) as s:
        tenant = Tenant(name="Acme", sip_domain="acme.example.com")
        s.add(tenant)
        s.flush()
        ops = OperatorData(s, operator())
        carrier = storage.create_trunk(
            ops,
            {
                "name": "carrier-a",
                "kind": "carrier",
                "inbound_networks": ["192.0.2.0/28"],
                "tech_prefix": "1010",
            },
            [
                {"host": "198.51.100.2", "role": "secondary"},
                {"host": "192.0.2.1", "port": 5061, "transport": "TLS"},
                {"host": "192.0.2.2"},
            ],
        )
        peer = storage.create_trunk(
            ops,
            {"name": "peer-uk", "kind": "peer", "agreed_prefixes": ["44"], "number_format": "national"},
            [{"host": "203.0.113.9"}],
        )
        off = storage.create_trunk(
            ops, {"name": "old-carrier", "kind": "carrier", "enabled": False}, [{"host": "192.0.2.99"}]
        )
        e911 = storage.create_trunk(ops, {"name": "e911", "kind": "emergency"}, [{"host": "192.0.2.50"}])
        pbx = storage.create_trunk(
            ops, {"name": "acme-pbx", "kind": "pbx", "tenant_id": tenant.id}, [{"host": "203.0.113.20"}]
        )
        r1 = storage.create_route(
            ops, {"trunk_id": carrier.id, "prefix": "", "call_classes": [], "priority": 200}
        )
        r2 = storage.create_route(
            ops,
            {
                "trunk_id": peer.id,
                "prefix": "44",
                "call_classes": ["international"],
                "weight": 30,
                "tenant_id": tenant.id,
            },
        )
        storage.create_route(ops, {"trunk_id": off.id, "prefix": "1"})
        er = storage.create_emergency_route(
            ops, {"trunk_id": e911.id, "psap": "Sangamon County 911", "priority": 5}
        )
        return {
            "tenant": tenant.id,
            "carrier": carrier.id,
            "peer": peer.id,
            "off": off.id,
            "e911": e911.id,
            "pbx": pbx.id,
            "r1": r1.id,
            "r2": r2.id,
            "er": er.id,
        }


def test_the_stored_routes_are_the_routing_table(factory: sessionmaker[Session]) -> None:
    ids = _stored(factory)
    with factory() as s:
        table = storage.load_routing_table(s)
    assert set(table.trunks) == {ids["carrier"], ids["peer"], ids["e911"], ids["pbx"]}  # not the disabled one
    carrier = table.trunks[ids["carrier"]]
    assert carrier.kind is TrunkKind.CARRIER and carrier.tenant_id is None
    assert [(g.host, g.port, g.transport, g.role, g.position) for g in carrier.gateways] == [
        ("192.0.2.1", 5061, "TLS", GatewayRole.PRIMARY, 0),
        ("192.0.2.2", 5060, "UDP", GatewayRole.PRIMARY, 1),
        ("198.51.100.2", 5060, "UDP", GatewayRole.SECONDARY, 0),
    ]
    assert carrier.inbound_networks == ("192.0.2.0/28",) and carrier.tech_prefix == "1010"
    peer = table.trunks[ids["peer"]]
    assert peer.agreed_prefixes == ("44",) and peer.number_format == "national" and peer.trusted
    assert table.trunks[ids["pbx"]].tenant_id == ids["tenant"]
    by_id = {r.id: r for r in table.routes}
    assert set(by_id) == {ids["r1"], ids["r2"]}  # the disabled trunk's route is left out with it
    assert by_id[ids["r2"]].call_classes == {CallClass.INTERNATIONAL}
    assert (by_id[ids["r2"]].prefix, by_id[ids["r2"]].weight, by_id[ids["r2"]].tenant_id) == (
        "44",
        30,
        ids["tenant"],
    )
    assert (by_id[ids["r1"]].prefix, by_id[ids["r1"]].priority, by_id[ids["r1"]].call_classes) == (
        "",
        200,
        frozenset(),
    )
    assert [(e.trunk_id, e.psap, e.priority) for e in table.emergency] == [
        (ids["e911"], "Sangamon County 911", 5)
    ]
    # The engine's lookups work on what was loaded: inbound by source address, outbound by prefix.
    assert table.trunk_for_source("192.0.2.9") is carrier  # inside its inbound network
    assert table.trunk_for_source("192.0.2.99") is None  # the disabled trunk's gateway
    targets = outbound_targets(
        table, ids["tenant"], "+442079460000", CallClass.INTERNATIONAL, GatewayHealth(), 0.0, lambda: 0.5
    )
    assert [t.gateway.host for t in targets] == ["203.0.113.9", "192.0.2.1", "192.0.2.2", "198.51.100.2"]


def test_store_routes_keeps_the_table_ttl_seconds(factory: sessionmaker[Session]) -> None:
    ids = _stored(factory)
    routes = storage.StoreRoutes(factory, ttl_s=2.0)
    first = routes.table(100.0)
    assert routes.table(101.9) is first  # cached: no query per call
    with transaction(factory) as s:
        ops = OperatorData(s, operator())
        storage.update_trunk(ops, storage.find_trunk(ops, ids["peer"]), {"enabled": False}, None)
    assert ids["peer"] in routes.table(101.9).trunks
    fresh = routes.table(102.0)
    assert ids["peer"] not in fresh.trunks and all(r.trunk_id != ids["peer"] for r in fresh.routes)
    routes.invalidate()
    assert routes.table(102.1) is not fresh


def test_where_a_did_goes(factory: sessionmaker[Session]) -> None:
    ids = _stored(factory)
    with transaction(factory) as s:
        s.add_all(
            [
                PhoneNumber(
                    e164="+12175550100",
                    tenant_id=ids["tenant"],
                    status=NumberStatus.ASSIGNED,
                    target_type=NumberTarget.TRUNK,
                    target_id=ids["pbx"],
                ),
                PhoneNumber(e164="+12175550101", tenant_id=ids["tenant"], status=NumberStatus.RESERVED),
                PhoneNumber(e164="+12175550102"),
            ]
        )
    expected = NumberRoute("+12175550100", ids["tenant"], "trunk", ids["pbx"])
    assert storage.number_route(factory, "+12175550100") == expected
    with factory() as s:
        assert storage.number_route(s, "+12175550100") == expected
    for e164 in ("+12175550101", "+12175550102", "+19995550000"):  # reserved, in the pool, not ours
        assert storage.number_route(factory, e164) is None
    routes = storage.StoreRoutes(factory, ttl_s=2.0)
    assert routes.number("+12175550100", 10.0) == expected
    assert routes.number("+12175550101", 10.0) is None
    with transaction(factory) as s:
        n = s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+12175550101"))
        assert n is not None
        n.status, n.target_type, n.target_id = NumberStatus.ASSIGNED, NumberTarget.TRUNK, ids["pbx"]
    assert routes.number("+12175550101", 11.9) is None  # the negative answer is cached too
    assert routes.number("+12175550101", 12.0) == NumberRoute(
        "+12175550101", ids["tenant"], "trunk", ids["pbx"]
    )
