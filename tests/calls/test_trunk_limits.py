"""Per-trunk limits and origins through the call engine (issue 15 §1, §4): simultaneous calls and
calls per second on carrier and PBX trunks in both directions — 503 with a Reason naming the limit
and no Retry-After, a carrier at its limit skipped for the next route, 911 never refused — and the
trunk's originating location used to classify its calls (voip-service-guide.txt §V.9)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from centrex.calls.directory import SiteInfo
from centrex.numbers.classes import CallClass
from centrex.routing.model import EmergencyRoute, NumberRoute, OutboundRoute, TrunkKind
from centrex.routing.trunk_calls import TrunkCalls
from centrex.sip.message import Request

from .engine_harness import SDP
from .test_calls_trunks import (
    DID_1001,
    DID_1002,
    carrier_invite,
    final_to_caller,
    gw,
    out_invites,
    setup,
    trunk,
)


def test_a_carrier_at_its_call_limit_refuses_the_next_inbound_call_with_503_and_reason() -> None:
    carrier = trunk("carrier-in", gw("192.0.2.10"), max_calls=1)
    b, routes = setup(carrier)
    tenant = b.org.tenant_a
    routes.numbers[DID_1002] = NumberRoute(DID_1002, tenant.id, "user", b.user("1002").id)
    b.register("1002", 5070)
    b.request(carrier_invite(DID_1002, "192.0.2.10", 5060), ("192.0.2.10", 5060))
    [ring] = b.invites()
    b.request(carrier_invite(DID_1002, "192.0.2.10", 5060), ("192.0.2.10", 5060))
    refused = final_to_caller(b)
    assert (refused.status, refused.reason) == (503, "Service Unavailable (trunk call limit: carrier-in)")
    assert (
        refused.headers.get("Reason")
        == 'SIP;cause=503;text="Service Unavailable (trunk call limit: carrier-in)"'
    )
    assert refused.headers.get("Retry-After") is None
    assert b.ended[-1].hangup_cause == "trunk_calls"
    assert len(b.invites()) == 1  # the second call never rang anyone
    # The first call ends: the trunk's call is free again.
    b.respond(ring, 486)
    assert b.engine.service(TrunkCalls).limits.calls_on(carrier.id) == 0
    b.net.take()
    b.request(carrier_invite(DID_1002, "192.0.2.10", 5060), ("192.0.2.10", 5060))
    assert len(b.invites()) == 1


def test_outbound_skips_a_carrier_at_its_limit_for_the_next_route_then_refuses() -> None:
    first = trunk("carrier-a", gw("192.0.2.10"), max_calls=1)
    second = trunk("carrier-b", gw("192.0.2.20"), max_calls=1)
    b, _ = setup(
        first,
        second,
        routes=(
            OutboundRoute(uuid.uuid4(), first.id, "1", priority=10),
            OutboundRoute(uuid.uuid4(), second.id, "1", priority=20),
        ),
    )
    b.register("1002", 5062)
    b.call("1001", "2125550199")
    assert len(out_invites(b, "192.0.2.10")) == 1
    b.call("1002", "2125550198", port=5062)
    assert len(out_invites(b, "192.0.2.20")) == 1  # carrier-a full: failover to carrier-b
    assert out_invites(b, "192.0.2.10") == []
    b.net.take()
    b.register("1002", 5063)
    b.call("1002", "2125550197", port=5063)
    refused = final_to_caller(b)
    assert refused.status == 503 and "trunk call limit: carrier-b" in refused.reason
    assert refused.headers.get("Retry-After") is None
    assert b.ended[-1].hangup_cause == "trunk_calls"
    assert out_invites(b, "192.0.2.10") == out_invites(b, "192.0.2.20") == []


def test_a_pbx_trunk_over_its_calls_per_second_is_refused_but_911_goes_through() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    psap = trunk("911-sr", gw("192.0.2.91"), kind=TrunkKind.EMERGENCY, max_calls=1)
    b, routes = setup(
        carrier,
        psap,
        routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),),
        emergency=(EmergencyRoute(uuid.uuid4(), psap.id),),
    )
    tenant = b.org.tenant_a
    pbx = trunk("acme-pbx", gw("10.1.1.1"), kind=TrunkKind.PBX, tenant_id=tenant.id, max_cps=1)
    routes.routing = replace(routes.routing, trunks={**routes.routing.trunks, pbx.id: pbx})
    b.request(carrier_invite("+12125550199", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.10")) == 1
    b.request(carrier_invite("+12125550198", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    refused = final_to_caller(b)
    assert refused.status == 503 and refused.reason.endswith("(trunk calls-per-second limit: acme-pbx)")
    assert b.ended[-1].hangup_cause == "trunk_cps"
    # 911 in the same second, from a PBX over its rate, to a 911 trunk "full" twice over: through.
    b.request(carrier_invite("911", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    b.request(carrier_invite("911", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.91")) == 2
    # A second later the PBX may call again.
    b.tick(1.1)
    b.request(carrier_invite("+12125550197", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    assert len(out_invites(b, "192.0.2.10")) == 2


def test_calls_to_a_pbx_trunk_count_against_its_limit_too() -> None:
    carrier = trunk("carrier", gw("192.0.2.10"))
    b, routes = setup(carrier)
    tenant = b.org.tenant_a
    pbx = trunk("acme-pbx", gw("10.1.1.1"), kind=TrunkKind.PBX, tenant_id=tenant.id, max_calls=1)
    routes.routing = replace(routes.routing, trunks={**routes.routing.trunks, pbx.id: pbx})
    routes.numbers["+12175550150"] = NumberRoute("+12175550150", tenant.id, "trunk", pbx.id)
    b.request(carrier_invite("+12175550150", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    [to_pbx] = out_invites(b, "10.1.1.1")
    b.respond(to_pbx, 200, to_tag="pbx", body=SDP)
    b.request(carrier_invite("+12175550150", "192.0.2.10", 5060), ("192.0.2.10", 5060))
    refused = final_to_caller(b)
    assert refused.status == 503 and "trunk call limit: acme-pbx" in refused.reason
    assert len(out_invites(b, "10.1.1.1")) == 1


def test_pbx_trunk_calls_are_classified_from_the_trunks_site_and_carrier_calls_from_its_origin() -> None:
    """voip-service-guide.txt §V.9: "Company bases this classification on the information in
    Company's systems identifying each call's originating location"."""
    carrier = trunk("carrier", gw("192.0.2.10"), origin_npa_nxx="212555", origin_state="NY")
    b, routes = setup(carrier, routes=(OutboundRoute(uuid.uuid4(), carrier.id, ""),))
    tenant = b.org.tenant_a
    nyc = SiteInfo(uuid.uuid4(), "212555", "NY")
    b.org.directory.sites[nyc.id] = nyc
    at_nyc = trunk("pbx-nyc", gw("10.1.1.1"), kind=TrunkKind.PBX, tenant_id=tenant.id, site_id=nyc.id)
    no_site = trunk("pbx-nosite", gw("10.1.1.2"), kind=TrunkKind.PBX, tenant_id=tenant.id)
    routes.routing = replace(
        routes.routing, trunks={**routes.routing.trunks, at_nyc.id: at_nyc, no_site.id: no_site}
    )
    b.request(carrier_invite("+12125550199", "10.1.1.1", 5060, caller=DID_1001), ("10.1.1.1", 5060))
    call = next(c for c in b.engine.calls.values() if c.trunk is not None and c.trunk.name == "pbx-nyc")
    assert call.classification.call_class is CallClass.LOCAL and call.site_id == nyc.id
    # The same number from a trunk with no site: the switch's default site (NJ), interstate LD.
    b.request(carrier_invite("+12125550199", "10.1.1.2", 5060, caller=DID_1001), ("10.1.1.2", 5060))
    other = next(c for c in b.engine.calls.values() if c.trunk is not None and c.trunk.name == "pbx-nosite")
    assert other.classification.call_class is CallClass.LD_INTERSTATE and other.site_id is None
    # A call from the carrier to a DID is classified from the carrier's origin (NY), not the default.
    routes.numbers[DID_1002] = NumberRoute(DID_1002, tenant.id, "user", b.user("1002").id)
    b.register("1002", 5070)
    b.request(carrier_invite(DID_1002, "192.0.2.10", 5060), ("192.0.2.10", 5060))
    inbound = next(c for c in b.engine.calls.values() if c.direction == "inbound")
    assert inbound.classification.call_class is CallClass.LD_INTERSTATE  # 217 (IL) from NY
    assert isinstance(b.invites()[-1].message, Request)
