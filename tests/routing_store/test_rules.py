"""routing/rules.py with the contracts' words: peering-policy.txt (no default route in either
direction; routes agreed in advance), voip-service-guide.txt §I.4 (a primary and a secondary SBC
pair), inbound accepted only from a trunk's addresses (issue #6 point 5), E.164 prefixes, call
classes of numbers/classes.py, weights."""

from __future__ import annotations

import uuid

from centrex.numbers.classes import CallClass
from centrex.routing.model import EmergencyRoute, Gateway, GatewayRole, OutboundRoute, Trunk, TrunkKind
from centrex.routing.rules import (
    ALTERNATE_ROUTE,
    E164_DIGITS,
    PEERING_AGREED,
    PEERING_NO_DEFAULT,
    SOURCE_ADDRESS,
    RuleError,
    check_emergency_route,
    check_outbound_route,
    check_prefix,
    check_trunk,
    parse_call_classes,
    trunk_keeps_its_routes,
)

TENANT = uuid.uuid4()


def gw(
    host: str = "192.0.2.1", role: GatewayRole = GatewayRole.PRIMARY, position: int = 0, **kw: object
) -> Gateway:
    return Gateway(id=uuid.uuid4(), host=host, role=role, position=position, **kw)  # type: ignore[arg-type]


def trunk(kind: TrunkKind = TrunkKind.CARRIER, **kw: object) -> Trunk:
    values: dict[str, object] = {"gateways": (gw(),), "name": f"{kind.value}-1"}
    values.update(kw)
    return Trunk(id=uuid.uuid4(), kind=kind, **values)  # type: ignore[arg-type]


def route(t: Trunk, prefix: str, **kw: object) -> OutboundRoute:
    return OutboundRoute(id=uuid.uuid4(), trunk_id=t.id, prefix=prefix, **kw)  # type: ignore[arg-type]


def fields(errors: list[RuleError]) -> dict[str, str]:
    return {e.field: e.rule for e in errors}


# --- peering-policy.txt ---------------------------------------------------------------------------


def test_a_peer_needs_the_routes_agreed_in_advance() -> None:
    errors = check_trunk(trunk(TrunkKind.PEER))
    assert fields(errors) == {"agreed_prefixes": PEERING_AGREED}
    assert "agreed upon in advance of peering" in PEERING_AGREED
    assert check_trunk(trunk(TrunkKind.PEER, agreed_prefixes=("44", "331"))) == []


def test_an_empty_agreed_prefix_would_be_a_default_route() -> None:
    errors = check_trunk(trunk(TrunkKind.PEER, agreed_prefixes=("44", "")))
    assert fields(errors) == {"agreed_prefixes.1": PEERING_NO_DEFAULT}
    assert "route of last resort (a default route)" in PEERING_NO_DEFAULT


def test_no_default_route_toward_a_peer_and_only_inside_what_was_agreed() -> None:
    peer = trunk(TrunkKind.PEER, agreed_prefixes=("44", "331"))
    assert fields(check_outbound_route(route(peer, ""), peer)) == {"prefix": PEERING_NO_DEFAULT}
    outside = check_outbound_route(route(peer, "49"), peer)
    assert fields(outside) == {"prefix": PEERING_AGREED}
    assert "49 is not inside a prefix agreed with peer-1 (44, 331)" in outside[0].message
    # Broader than the agreement ("4" would send 49… to a peer that agreed only 44…).
    assert fields(check_outbound_route(route(peer, "4"), peer)) == {"prefix": PEERING_AGREED}
    assert fields(check_outbound_route(route(peer, "33"), peer)) == {"prefix": PEERING_AGREED}
    assert check_outbound_route(route(peer, "44"), peer) == []
    assert check_outbound_route(route(peer, "4420"), peer) == []
    assert check_outbound_route(route(peer, "3315"), peer) == []


def test_a_carrier_may_have_the_default_route_but_no_agreed_prefixes() -> None:
    carrier = trunk()
    assert check_outbound_route(route(carrier, ""), carrier) == []
    assert fields(check_trunk(trunk(agreed_prefixes=("44",)))) == {
        "agreed_prefixes": "agreed prefixes are for peers"
    }


def test_shrinking_a_peers_agreement_under_its_routes_is_refused() -> None:
    peer = trunk(TrunkKind.PEER, agreed_prefixes=("44", "331"))
    routes = [route(peer, "44"), route(peer, "3315")]
    narrowed = Trunk(
        id=peer.id, name=peer.name, kind=TrunkKind.PEER, gateways=peer.gateways, agreed_prefixes=("44",)
    )
    errors = trunk_keeps_its_routes(narrowed, routes)
    assert [(e.field, e.rule) for e in errors] == [("agreed_prefixes", PEERING_AGREED)]
    assert "'3315'" in errors[0].message
    as_pbx = Trunk(id=peer.id, name=peer.name, kind=TrunkKind.PBX, gateways=peer.gateways, tenant_id=TENANT)
    assert {e.field for e in trunk_keeps_its_routes(as_pbx, routes)} == {"kind"}


# --- E.164 prefixes, call classes, weights ---------------------------------------------------------


def test_a_prefix_is_e164_digits_without_the_plus() -> None:
    assert check_prefix("1212") == [] and check_prefix("") == []
    for bad in ("+44", "44-20", "1 212", "4a", "1234567890123456"):
        assert fields(check_prefix(bad)) == {"prefix": E164_DIGITS}, bad


def test_call_classes_are_the_known_values() -> None:
    classes, errors = parse_call_classes(["international", "ld_interstate"])
    assert classes == {CallClass.INTERNATIONAL, CallClass.LD_INTERSTATE} and errors == []
    _, errors = parse_call_classes(["local", "intl"])
    assert [e.field for e in errors] == ["call_classes.1"]
    assert "'intl' is not a call class" in errors[0].message


def test_weight_is_more_than_zero() -> None:
    carrier = trunk()
    assert fields(check_outbound_route(route(carrier, "1", weight=0), carrier)) == {"weight": "weight > 0"}
    assert check_outbound_route(route(carrier, "1", weight=1), carrier) == []


def test_outbound_routes_go_to_carriers_and_peers_emergency_routes_to_911_providers() -> None:
    pbx = trunk(TrunkKind.PBX, tenant_id=TENANT)
    e911 = trunk(TrunkKind.EMERGENCY)
    assert set(fields(check_outbound_route(route(pbx, "1"), pbx))) == {"trunk_id"}
    assert set(fields(check_outbound_route(route(e911, "1"), e911))) == {"trunk_id"}
    peer = trunk(TrunkKind.PEER, agreed_prefixes=("44",))
    for t, ok in ((e911, True), (trunk(), True), (peer, False), (pbx, False)):
        errors = check_emergency_route(EmergencyRoute(id=uuid.uuid4(), trunk_id=t.id), t)
        assert (errors == []) is ok, t.kind
    assert {
        e.field for e in check_emergency_route(EmergencyRoute(uuid.uuid4(), e911.id, psap="  "), e911)
    } == {"psap"}


# --- tenancy of trunks -----------------------------------------------------------------------------


def test_a_pbx_trunk_belongs_to_a_tenant_and_the_others_to_the_operator() -> None:
    assert set(fields(check_trunk(trunk(TrunkKind.PBX)))) == {"tenant_id"}
    assert check_trunk(trunk(TrunkKind.PBX, tenant_id=TENANT)) == []
    for kind in (TrunkKind.CARRIER, TrunkKind.EMERGENCY):
        assert fields(check_trunk(trunk(kind, tenant_id=TENANT))) == {
            "tenant_id": "only pbx trunks belong to a tenant"
        }


# --- gateways: source addresses and the §I.4 SBC pairs -------------------------------------------


def test_a_gateway_is_an_ip_literal_or_a_host_name_and_a_port() -> None:
    errors = check_trunk(trunk(gateways=(gw("sbc carrier!"), gw("192.0.2.9", position=1, port=0))))
    assert fields(errors) == {"gateways.0.host": SOURCE_ADDRESS, "gateways.1.port": "port 1-65535"}
    assert check_trunk(trunk(gateways=(gw("sbc.carrier.example"),))) == []  # RFC 3263 finds it
    assert "gateways.0.host" in fields(check_trunk(trunk(gateways=(gw("-bad-.example"),))))
    assert "gateways.0.host" in fields(check_trunk(trunk(gateways=(gw("999.1.2.3"),))))
    assert "inbound from carriers accepted only from their addresses" in SOURCE_ADDRESS
    assert check_trunk(trunk(gateways=(gw("2001:db8::5060", port=65535),))) == []
    assert "gateways.0.port" in fields(check_trunk(trunk(gateways=(gw(port=65536),))))
    assert "gateways.0.transport" in fields(check_trunk(trunk(gateways=(gw(transport="SCTP"),))))


def test_the_alternate_route_is_a_secondary_pair_behind_a_primary() -> None:
    primary = (gw("192.0.2.1"), gw("192.0.2.2", position=1))
    secondary = (
        gw("198.51.100.1", GatewayRole.SECONDARY),
        gw("198.51.100.2", GatewayRole.SECONDARY, position=1),
    )
    assert check_trunk(trunk(TrunkKind.PBX, tenant_id=TENANT, gateways=primary + secondary)) == []
    assert check_trunk(trunk(gateways=primary)) == []  # no alternate route: fine
    only_secondary = check_trunk(trunk(gateways=secondary))
    assert fields(only_secondary) == {"gateways": ALTERNATE_ROUTE}
    assert "backup for the primary pair" in only_secondary[0].message
    assert fields(check_trunk(trunk(gateways=()))) == {"gateways": ALTERNATE_ROUTE}
    same_sbc = check_trunk(trunk(gateways=(gw("192.0.2.1"), gw("192.0.2.1", GatewayRole.SECONDARY))))
    assert fields(same_sbc) == {"gateways.1.host": ALTERNATE_ROUTE}
    twice = check_trunk(trunk(gateways=(gw("192.0.2.1"), gw("192.0.2.2"))))
    assert fields(twice) == {"gateways.1.position": "unique (role, position)"}


def test_no_trunk_accepts_calls_from_everywhere() -> None:
    assert check_trunk(trunk(inbound_networks=("192.0.2.0/24", "2001:db8::/32"))) == []
    errors = check_trunk(trunk(inbound_networks=("0.0.0.0/0", "::/0", "not-a-net")))
    assert fields(errors) == {
        "inbound_networks.0": SOURCE_ADDRESS,
        "inbound_networks.1": SOURCE_ADDRESS,
        "inbound_networks.2": "CIDR network",
    }


def test_every_problem_is_named_at_once() -> None:
    bad = trunk(
        TrunkKind.PEER,
        tenant_id=TENANT,
        gateways=(gw("pbx example.com", GatewayRole.SECONDARY),),
        tech_prefix="12#",
        number_format="local",
    )
    assert set(fields(check_trunk(bad))) == {
        "tenant_id",
        "agreed_prefixes",
        "gateways",
        "gateways.0.host",
        "tech_prefix",
        "number_format",
    }
