"""Calls off the switch through the engine (issue #6 points 5 and 6): outbound routes with
failover, the §I.4 alternate route and its fail-back, peers, caller ID and privacy, calls from
carriers by DID, and 911 with PIDF-LO — driven through CallEngine with a recording network."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from centrex.calls.directory import Restriction, TenantInfo
from centrex.e911.address import CivicAddress
from centrex.e911.emergency_calls import EmergencyCalls
from centrex.e911.placed import EmergencyCallPlaced, EmergencyLocation
from centrex.pbx.apps import Apps
from centrex.routing.model import (
    EmergencyRoute,
    Gateway,
    GatewayRole,
    NumberRoute,
    OutboundRoute,
    RoutingTable,
    Trunk,
    TrunkKind,
)
from centrex.routing.trunk_calls import TrunkCalls
from centrex.sip.digest import compute_ha1, compute_response, parse_credentials
from centrex.sip.events import ResponseReceived
from centrex.sip.message import Request, Response, make_response

from .engine_harness import SDP, Bench, make_bench
from .helpers import DOMAIN_A, msg

DID_1001 = "+12175550101"
DID_1002 = "+12175550102"


def gw(host: str, port: int = 5060, role: GatewayRole = GatewayRole.PRIMARY, position: int = 0) -> Gateway:
    return Gateway(uuid.uuid4(), host, port, "UDP", role, position)


def trunk(name: str, *gateways: Gateway, kind: TrunkKind = TrunkKind.CARRIER, **kw: object) -> Trunk:
    return Trunk(uuid.uuid4(), name, kind, tuple(gateways), **kw)  # type: ignore[arg-type]


@dataclass
class Routes:
    routing: RoutingTable
    numbers: dict[str, NumberRoute] = field(default_factory=dict)

    def table(self, now: float) -> RoutingTable:
        return self.routing

    def number(self, e164: str, now: float) -> NumberRoute | None:
        return self.numbers.get(e164)


@dataclass
class Emergency:
    locations: dict[uuid.UUID, EmergencyLocation] = field(default_factory=dict)
    placed_calls: list[EmergencyCallPlaced] = field(default_factory=list)

    def location(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, device_id: uuid.UUID | None
    ) -> EmergencyLocation | None:
        return self.locations.get(user_id) if user_id else None

    def placed(self, call: EmergencyCallPlaced) -> None:
        self.placed_calls.append(call)


def setup(
    *trunks: Trunk, routes: tuple[OutboundRoute, ...] = (), emergency: tuple[EmergencyRoute, ...] = ()
) -> tuple[Bench, Routes]:
    b = make_bench()
    for ext, did in (("1001", DID_1001), ("1002", DID_1002)):
        b.set_user(ext, number=did)
    table = RoutingTable({t.id: t for t in trunks}, routes, emergency)
    r = Routes(table)
    b.engine.service(TrunkCalls).routes = r
    b.engine.service(TrunkCalls).rand = lambda: 0.0
    b.register("1001", 5061)
    return b, r


def out_invites(b: Bench, host: str) -> list:  # type: ignore[type-arg]
    return [s for s in b.invites() if s.addr and s.addr[0] == host]


def final_to_caller(b: Bench) -> Response:
    finals = [r for r in b.responses() if r.status >= 200]
    assert finals, "the caller got no final response"
    return finals[-1]


def test_outbound_call_fails_over_to_the_next_route_on_503_and_sends_caller_id_of_the_user() -> None:
    first, second = trunk("carrier-a", gw("192.0.2.10")), trunk("carrier-b", gw("192.0.2.20"))
    b, _ = setup(
        first,
        second,
        routes=(
            OutboundRoute(uuid.uuid4(), first.id, "1", priority=10),
            OutboundRoute(uuid.uuid4(), second.id, "1", priority=20),
        ),
    )
    b.call("1001", "2125550199")
    [to_a] = out_invites(b, "192.0.2.10")
    inv = to_a.message
    assert isinstance(inv, Request)
    assert str(inv.uri).startswith("sip:+12125550199@192.0.2.10:5060")
    assert DID_1001 in inv.headers.get("P-Asserted-Identity")
    assert DID_1001 in inv.headers.get("From") and "Spoofed" not in inv.headers.get("From")
    b.respond(to_a, 503)
    [to_b] = out_invites(b, "192.0.2.20")
    b.respond(to_b, 200, to_tag="cb", body=SDP)
    assert final_to_caller(b).status == 200
    call = next(iter(b.engine.calls.values()))
    assert call.out_trunk is second


def test_silent_gateway_is_skipped_after_the_setup_timeout_not_timer_b() -> None:
    first, second = trunk("a", gw("192.0.2.10")), trunk("b", gw("192.0.2.20"))
    b, _ = setup(
        first,
        second,
        routes=(
            OutboundRoute(uuid.uuid4(), first.id, "", priority=10),
            OutboundRoute(uuid.uuid4(), second.id, "", priority=20),
        ),
    )
    b.call("1001", "2125550199")
    assert len(out_invites(b, "192.0.2.10")) == 1 and not out_invites(b, "192.0.2.20")
    b.tick(4.1)
    assert len(out_invites(b, "192.0.2.20")) == 1


def test_all_routes_failing_gives_the_caller_503_and_a_failed_cdr() -> None:
    first = trunk("a", gw("192.0.2.10"))
    b, _ = setup(first, routes=(OutboundRoute(uuid.uuid4(), first.id, "1"),))
    b.call("1001", "2125550199")
    [sent] = out_invites(b, "192.0.2.10")
    b.respond(sent, 500)
    assert final_to_caller(b).status == 503
    [cdr] = b.ended
    assert cdr.disposition == "failed" and cdr.hangup_cause == "routes_failed"
    assert cdr.direction == "outbound" and cdr.to == "+12125550199" and cdr.trunk == "a"


def test_busy_from_the_far_end_is_not_failed_over() -> None:
    first, second = trunk("a", gw("192.0.2.10")), trunk("b", gw("192.0.2.20"))
    b, _ = setup(
        first,
        second,
        routes=(
            OutboundRoute(uuid.uuid4(), first.id, "1", priority=10),
            OutboundRoute(uuid.uuid4(), second.id, "1", priority=20),
        ),
    )
    b.call("1001", "2125550199")
    b.respond(out_invites(b, "192.0.2.10")[0], 486)
    assert not out_invites(b, "192.0.2.20")
    assert final_to_caller(b).status == 486
    assert b.ended[0].disposition == "busy"


def test_alternate_route_moves_to_the_secondary_sbc_pair_and_back_when_the_primary_recovers() -> None:
    """voip-service-guide.txt §I.4: traffic through the secondary pair while the primary is out,
    back to the primary when it answers again (OPTIONS probes)."""
    primary, secondary = gw("192.0.2.10"), gw("198.51.100.10", role=GatewayRole.SECONDARY)
    sbc = trunk("sbc", primary, secondary)
    b, _ = setup(sbc, routes=(OutboundRoute(uuid.uuid4(), sbc.id, ""),))
    b.call("1001", "2125550199")
    b.respond(out_invites(b, "192.0.2.10")[0], 503)
    b.respond(out_invites(b, "198.51.100.10")[0], 486)
    b.net.take()
    # The next call goes straight to the secondary.
    b.call("1001", "2125550198", port=5063)
    assert not out_invites(b, "192.0.2.10") and len(out_invites(b, "198.51.100.10")) == 1
    b.respond(out_invites(b, "198.51.100.10")[0], 486)
    b.net.take()
    # Probes: the primary does not answer the first one, then answers.
    b.tick(5.1)
    probes = [s for s in b.net.sent if isinstance(s.message, Request) and s.message.method == "OPTIONS"]
    assert [p.addr for p in probes] == [("192.0.2.10", 5060)]
    b.timeout(probes[0].key)  # type: ignore[arg-type]
    b.net.take()
    b.tick(5.1)
    [probe] = [s for s in b.net.take() if isinstance(s.message, Request) and s.message.method == "OPTIONS"]
    b.respond(probe, 200)
    b.call("1001", "2125550197", port=5065)
    assert len(out_invites(b, "192.0.2.10")) == 1 and not out_invites(b, "198.51.100.10")


def test_peer_gets_only_its_agreed_prefixes_and_never_a_default_route() -> None:
    """peering-policy.txt: routes agreed in advance; no route of last resort either way."""
    peer = trunk("peer-uk", gw("203.0.113.5"), kind=TrunkKind.PEER, agreed_prefixes=("44",))
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, _ = setup(
        peer,
        carrier,
        routes=(
            OutboundRoute(uuid.uuid4(), peer.id, "44", priority=1),
            OutboundRoute(uuid.uuid4(), peer.id, "", priority=1),  # a default route at a peer: ignored
            OutboundRoute(uuid.uuid4(), carrier.id, "", priority=50),
        ),
    )
    b.set_user("1001", restriction=Restriction("International", allow_international=True))
    b.call("1001", "011442079460000")
    assert len(out_invites(b, "203.0.113.5")) == 1
    b.net.take()
    b.call("1001", "01133142685300", port=5063)
    assert not out_invites(b, "203.0.113.5") and len(out_invites(b, "192.0.2.10")) == 1


def test_star67_sends_anonymous_from_with_privacy_id_and_the_identity_only_in_pai() -> None:
    """RFC 3325 §9.3 / RFC 3323: privacy toward a trusted trunk."""
    carrier = trunk("carrier", gw("192.0.2.10"))
    untrusted = trunk("cheap", gw("192.0.2.30"), trusted=False)
    b, _ = setup(
        carrier,
        untrusted,
        routes=(
            OutboundRoute(uuid.uuid4(), carrier.id, "1212"),
            OutboundRoute(uuid.uuid4(), untrusted.id, "1312"),
        ),
    )
    b.call("1001", "*672125550199")
    inv = out_invites(b, "192.0.2.10")[0].message
    assert isinstance(inv, Request)
    assert "anonymous.invalid" in inv.headers.get("From")
    assert inv.headers.get("Privacy") == "id"
    assert DID_1001 in inv.headers.get("P-Asserted-Identity")
    assert str(inv.uri).startswith("sip:+12125550199@")
    b.net.take()
    b.call("1001", "3125550199", port=5063)
    inv = out_invites(b, "192.0.2.30")[0].message
    assert isinstance(inv, Request) and inv.headers.get("P-Asserted-Identity") is None


def carrier_invite(number: str, host: str, port: int, caller: str = "+13125550777") -> Request:
    req = msg(
        "\n".join(
            [
                f"INVITE sip:{number}@{DOMAIN_A} SIP/2.0",
                f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bKc{uuid.uuid4().hex[:8]}",
                "Max-Forwards: 70",
                f'From: "Carrier Caller" <sip:{caller}@{host}>;tag=cx',
                f"To: <sip:{number}@{DOMAIN_A}>",
                f"Call-ID: c-{uuid.uuid4().hex[:8]}",
                "CSeq: 1 INVITE",
                f"Contact: <sip:{host}:{port}>",
                "Content-Type: application/sdp",
            ]
        )
    )
    req.body = SDP
    return req


def test_call_from_a_carrier_rings_the_user_of_the_did_without_a_challenge() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, routes = setup(carrier)
    tenant = b.org.tenant_a
    routes.numbers[DID_1002] = NumberRoute(DID_1002, tenant.id, "user", b.user("1002").id)
    b.register("1002", 5070)
    b.request(carrier_invite("2175550102", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    assert not [r for r in b.responses() if r.status in (401, 407)]
    [ring] = b.invites()
    assert ring.addr == ("10.0.0.9", 5070)
    assert isinstance(ring.message, Request) and "+13125550777" in ring.message.headers.get("From")
    b.respond(ring, 486)
    [cdr] = b.ended
    assert cdr.direction == "inbound" and cdr.device_id is None and cdr.from_ == "+13125550777"
    assert cdr.to == "1002"


def test_carrier_call_for_a_number_not_ours_is_404_and_unknown_sources_are_challenged() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, _ = setup(carrier)
    b.request(carrier_invite("+12175550999", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    assert b.responses()[-1].status == 404
    b.net.take()
    # The same INVITE from an address that is not a trunk's is a phone's: challenged.
    b.request(carrier_invite("+12175550102", "192.0.2.99", 5060), ("192.0.2.99", 5060))
    assert b.responses()[-1].status == 407


def test_did_routed_to_a_tenant_pbx_fails_over_from_primary_to_secondary_sbc() -> None:
    """§I.4 in the other direction: calls to the customer's IP-PBX."""
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, routes = setup(carrier)
    tenant = b.org.tenant_a
    pbx = trunk(
        "acme-pbx",
        gw("10.1.1.1"),
        gw("10.2.2.2", role=GatewayRole.SECONDARY),
        kind=TrunkKind.PBX,
        tenant_id=tenant.id,
        number_format="national",
    )
    routes.routing = replace(routes.routing, trunks={**routes.routing.trunks, pbx.id: pbx})
    routes.numbers["+12175550150"] = NumberRoute("+12175550150", tenant.id, "trunk", pbx.id)
    b.request(carrier_invite("+12175550150", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    [to_primary] = out_invites(b, "10.1.1.1")
    assert str(to_primary.message.uri).startswith("sip:2175550150@10.1.1.1")  # type: ignore[union-attr]
    b.respond(to_primary, 503)
    [to_secondary] = out_invites(b, "10.2.2.2")
    b.respond(to_secondary, 200, to_tag="pbx", body=SDP)
    assert final_to_caller(b).status == 200


def test_pbx_trunk_calls_out_as_its_tenant_and_is_refused_while_suspended_except_911() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    psap = trunk("911-sr", gw("192.0.2.91"), kind=TrunkKind.EMERGENCY)
    b, routes = setup(
        carrier,
        psap,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), psap.id),),
    )
    tenant = b.org.tenant_a
    pbx = trunk("acme-pbx", gw("10.1.1.1"), kind=TrunkKind.PBX, tenant_id=tenant.id)
    routes.routing = replace(routes.routing, trunks={**routes.routing.trunks, pbx.id: pbx})
    b.request(carrier_invite("+12125550199", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.10")) == 1
    b.net.take()
    b.org.directory.tenants[DOMAIN_A] = TenantInfo(tenant.id, DOMAIN_A, "suspended")
    b.request(carrier_invite("+12125550198", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert b.responses()[-1].status == 403
    b.net.take()
    b.request(carrier_invite("911", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.91")) == 1


LOCATION = EmergencyLocation(
    CivicAddress("123", "Main St", "Springfield", "IL", "62701", floor="2", location_name="Acme HQ"),
    psap="Springfield PSAP",
    esn="0701",
)


def test_911_goes_to_the_psap_route_of_the_location_with_pidf_lo_and_callback_even_when_suspended() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    default_911 = trunk("911-default", gw("192.0.2.90"), kind=TrunkKind.EMERGENCY)
    springfield = trunk("911-springfield", gw("192.0.2.91"), kind=TrunkKind.EMERGENCY)
    b, _ = setup(
        carrier,
        default_911,
        springfield,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(
            EmergencyRoute(uuid.uuid4(), default_911.id, None),
            EmergencyRoute(uuid.uuid4(), springfield.id, "Springfield PSAP"),
        ),
    )
    em = Emergency({b.user("1001").id: LOCATION})
    b.engine.service(EmergencyCalls).emergency = em
    tenant = b.org.tenant_a
    b.org.directory.tenants[DOMAIN_A] = TenantInfo(tenant.id, DOMAIN_A, "suspended")
    b.call("1001", "9911")  # with the outside-line prefix (Kari's Law)
    [sent] = out_invites(b, "192.0.2.91")
    inv = sent.message
    assert isinstance(inv, Request)
    assert str(inv.uri).startswith("sip:911@192.0.2.91")
    assert DID_1001 in inv.headers.get("P-Asserted-Identity")
    geo = inv.headers.get("Geolocation")
    assert geo and geo.startswith("<cid:") and inv.headers.get("Geolocation-Routing") == "yes"
    assert (inv.headers.get("Content-Type") or "").startswith("multipart/mixed")
    body = inv.body.decode()
    assert "<ca:HNO>123</ca:HNO>" in body.replace("ns0:", "ca:") or ">123<" in body
    assert "Springfield" in body and "m=audio" in body and geo[5:-1] in body
    [placed] = em.placed_calls
    assert placed.callback == DID_1001 and placed.location == LOCATION and placed.routed
    b.respond(sent, 200, to_tag="psap", body=SDP)
    assert final_to_caller(b).status == 200


def test_911_without_a_location_uses_the_default_route_and_without_any_route_is_503_but_notified() -> None:
    default_911 = trunk("911-default", gw("192.0.2.90"), kind=TrunkKind.EMERGENCY)
    b, routes = setup(default_911, emergency=(EmergencyRoute(uuid.uuid4(), default_911.id, None),))
    em = Emergency()
    b.engine.service(EmergencyCalls).emergency = em
    b.call("1001", "911")
    [sent] = out_invites(b, "192.0.2.90")
    assert sent.message.headers.get("Geolocation") is None  # type: ignore[union-attr]
    b.net.take()
    routes.routing = RoutingTable()
    b.call("1001", "911", port=5063)
    assert final_to_caller(b).status == 503
    assert [p.routed for p in em.placed_calls] == [True, False]


@dataclass
class Held:
    devices: set[uuid.UUID] = field(default_factory=set)

    def held(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> object | None:
        return "held" if device_id in self.devices else None


def test_a_device_held_as_nomadic_may_call_911_and_nothing_else() -> None:
    """voip-service-guide.txt §V.14.3: on IP Trunking, a device on a new network has its calls held
    until the location is verified — except 911, never refused (e911/policy.py)."""
    carrier = trunk("carrier", gw("192.0.2.10"))
    default_911 = trunk("911-default", gw("192.0.2.90"), kind=TrunkKind.EMERGENCY)
    b, _ = setup(
        carrier,
        default_911,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), default_911.id),),
    )
    device = b.org.directory.devices[(b.org.tenant_a.id, "1001")]
    b.engine.nomadic = Held({device.id})
    b.call("1001", "2125550199")
    refused = final_to_caller(b)
    assert refused.status == 403 and "911 location" in (refused.reason or "")
    assert b.ended[-1].hangup_cause == "nomadic_hold" and not out_invites(b, "192.0.2.10")
    b.net.take()
    b.call("1001", "911", port=5063)
    assert len(out_invites(b, "192.0.2.90")) == 1


CHALLENGE = 'Digest realm="carrier.example", nonce="n0nce42", algorithm=MD5, qop="auth"'


def digest_ok(value: str, method: str, user: str, password: str) -> bool:
    creds = parse_credentials(value)
    ha1 = compute_ha1(user, creds.realm, password, creds.algorithm)
    expected = compute_response(
        ha1, method, creds.uri, creds.nonce, creds.algorithm, creds.qop, creds.nc, creds.cnonce
    )
    return creds.username == user and creds.response == expected


def respond_with(b: Bench, sent: object, status: int, extra: list[tuple[str, str]]) -> None:
    assert isinstance(sent.message, Request) and sent.key is not None  # type: ignore[attr-defined]
    resp = make_response(sent.message, status, to_tag="carrier", extra=extra)  # type: ignore[attr-defined]
    b.engine.handle(ResponseReceived(resp, sent.addr, sent.key), "UDP", b.now)  # type: ignore[attr-defined]


def test_a_carrier_challenge_is_answered_once_with_the_trunks_credentials() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"), auth_username="acct77", auth_password="s3cr3t")
    b, _ = setup(carrier, routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),))
    b.call("1001", "2125550199")
    [first] = out_invites(b, "192.0.2.10")
    respond_with(b, first, 407, [("Proxy-Authenticate", CHALLENGE)])
    [_, second] = out_invites(b, "192.0.2.10")
    inv = second.message
    assert isinstance(inv, Request) and isinstance(first.message, Request)
    assert inv.call_id == first.message.call_id and inv.cseq.seq == first.message.cseq.seq + 1
    assert digest_ok(inv.headers.get("Proxy-Authorization") or "", "INVITE", "acct77", "s3cr3t")
    # A second challenge is a refusal: no third INVITE, and the phone gets no challenge of the
    # carrier's (it would answer with its own password) but a 503.
    respond_with(b, second, 407, [("Proxy-Authenticate", CHALLENGE)])
    assert len(out_invites(b, "192.0.2.10")) == 2
    assert final_to_caller(b).status == 503 and b.ended[-1].hangup_cause == "trunk_auth"


def test_a_registration_trunk_registers_with_digest_and_refreshes_at_half_life() -> None:
    carrier = trunk(
        "reg-carrier",
        gw("192.0.2.10"),
        gw("198.51.100.10", role=GatewayRole.SECONDARY),
        auth_username="acct77",
        auth_password="s3cr3t",
        register=True,
        register_domain="carrier.example",
    )
    b, _ = setup(carrier)

    def registers() -> list:  # type: ignore[type-arg]
        return [s for s in b.net.take() if isinstance(s.message, Request) and s.message.method == "REGISTER"]

    b.tick(0.1)
    [reg] = registers()
    assert reg.addr == ("192.0.2.10", 5060) and str(reg.message.uri) == "sip:carrier.example"
    respond_with(b, reg, 401, [("WWW-Authenticate", CHALLENGE)])
    [authed] = registers()
    assert digest_ok(authed.message.headers.get("Authorization") or "", "REGISTER", "acct77", "s3cr3t")
    respond_with(b, authed, 200, [("Expires", "600")])
    b.tick(290)
    assert registers() == []
    b.tick(20)  # past half of 600 s
    [refresh] = registers()
    # The primary times out: the next attempt goes to the secondary gateway (§I.4).
    b.timeout(refresh.key)
    b.tick(31)
    [retry] = registers()
    assert retry.addr == ("198.51.100.10", 5060)


def test_a_did_routed_to_an_auto_attendant_goes_to_the_app_server() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, routes = setup(carrier)
    b.engine.service(Apps).address = ("127.0.0.1", 5999)
    menu = uuid.uuid4()
    routes.numbers["+12175550100"] = NumberRoute("+12175550100", b.org.tenant_a.id, "auto_attendant", menu)
    b.request(carrier_invite("+12175550100", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    [to_app] = [s for s in b.invites() if s.addr == ("127.0.0.1", 5999)]
    assert isinstance(to_app.message, Request)
    assert str(to_app.message.uri).startswith(f"sip:aa.{menu}@")
    assert to_app.message.headers.get("X-Centrex-Caller") == "+13125550777"
    assert to_app.message.headers.get("X-Centrex-Tenant") == str(b.org.tenant_a.id)


def test_the_tenants_dial_plan_decides_what_was_dialled() -> None:
    """Issue 6 point 1: a tenant whose outside-line prefix is 8 dials 8 + number; 9 is then not a
    prefix (and 9911 still reaches 911: Kari's Law is the dial plan's rule for every tenant)."""
    from centrex.numbers.dialplan import DialPlan

    carrier = trunk("carrier", gw("192.0.2.10"))
    default_911 = trunk("911-default", gw("192.0.2.90"), kind=TrunkKind.EMERGENCY)
    b, _ = setup(
        carrier,
        default_911,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), default_911.id),),
    )
    tenant = b.org.tenant_a
    b.org.directory.tenants[DOMAIN_A] = replace(tenant, dial_plan=DialPlan(outside_line_prefix="8"))
    b.call("1001", "82125550199")
    [sent] = out_invites(b, "192.0.2.10")
    assert str(sent.message.uri).startswith("sip:+12125550199@")  # type: ignore[union-attr]
    b.net.take()
    b.call("1001", "9911", port=5063)
    assert len(out_invites(b, "192.0.2.90")) == 1
