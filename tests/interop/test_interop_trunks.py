"""SIPp plays the carriers, the SBC pair and the PSAP against a real Centrex SIP service (issue #6
point 7): failover to the secondary SBC pair and fail-back (voip-service-guide.txt §I.4), a call
from a carrier by DID, and a 911 call from a suspended tenant that reaches the PSAP with its
PIDF-LO and notifies the tenant's contacts by e-mail and signed webhook."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.adapters.directory_store import StoreDirectory
from centrex.e911.notice import verify_signature
from centrex.e911.notifier import EmergencyNotifier, SmtpConfig
from centrex.routing.storage import StoreRoutes
from centrex.routing.trunk_calls import TrunkCalls
from centrex.server import attach_switch_services
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, Tenant, TenantStatus, User
from centrex.store.models.numbering import EmergencyContact, LocationSubject, NotifyKind, RegisteredLocation
from centrex.store.models.trunks import (
    EmergencyRouteRow,
    GatewayRole,
    OutboundRouteRow,
    TrunkGatewayRow,
    TrunkKind,
    TrunkRow,
)
from tests.e911_store.servers import https_server, smtp_server, trusting
from tests.support.api_beside import operator_get

from .conftest import Server, free_udp_port
from .test_interop_sipp import call

pytestmark = pytest.mark.interop


def add_trunk(
    server: Server, name: str, kind: TrunkKind, gateways: list[tuple[int, GatewayRole]]
) -> uuid.UUID:
    with transaction(server.sessions) as s:
        trunk = TrunkRow(name=name, kind=kind)
        s.add(trunk)
        s.flush()
        for i, (port, role) in enumerate(gateways):
            s.add(TrunkGatewayRow(trunk_id=trunk.id, host="127.0.0.1", port=port, role=role, position=i))
        return trunk.id


def use_store_routes(server: Server, notifier: EmergencyNotifier | None = None) -> None:
    """Wire the service as `centrex serve` does (server.attach_switch_services); routes read afresh
    for every call so rows added by the test count at once."""
    service = server.service
    attach_switch_services(
        service, server.sessions, StoreDirectory(server.sessions), notifier or EmergencyNotifier(None)
    )
    engine = service.engine
    assert isinstance(engine.service(TrunkCalls).routes, StoreRoutes)
    engine.service(TrunkCalls).routes.ttl_s = 0.0
    # Long enough for SIPp's 503 gateway to have exited before the first probe (SIPp answers
    # OPTIONS itself while it runs), short enough for the test.
    engine.service(TrunkCalls).health.probe_every_s = 2.0


async def test_failover_to_the_secondary_sbc_pair_and_fail_back(server: Server) -> None:
    primary, secondary = free_udp_port(), free_udp_port()
    add_trunk(
        server,
        "sbc-pair",
        TrunkKind.CARRIER,
        [(primary, GatewayRole.PRIMARY), (secondary, GatewayRole.SECONDARY)],
    )
    with transaction(server.sessions) as s:
        trunk_id = s.scalar(select(TrunkRow.id).where(TrunkRow.name == "sbc-pair"))
        s.add(OutboundRouteRow(trunk_id=trunk_id, prefix="1"))
    use_store_routes(server)
    a = free_udp_port()
    await server.register("1001", a)

    # The primary pair is out (503): the call completes through the secondary.
    await call(
        server,
        "1001",
        a,
        "2125550199",
        "uac_call.xml",
        [("uas_503.xml", "gw", primary), ("uas_answer.xml", "gw", secondary)],
    )
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.direction, cdr.trunk, cdr.to) == (
        "answered",
        "outbound",
        "sbc-pair",
        "+12125550199",
    )
    assert [leg.sip_code for leg in cdr.legs] == [503, 200]

    # The operator sees the primary down, the secondary up (GET /trunks, the switch's own view).
    trunk = operator_get(server.service, server.sessions, f"/trunks/{trunk_id}")
    state = {g["port"]: (g["up"], g["failures"]) for g in trunk["gateways"]}
    assert state == {primary: (False, 1), secondary: (True, 0)}

    # While the primary is down, the next call goes straight to the secondary.
    await call(server, "1001", a, "2125550198", "uac_call.xml", [("uas_answer.xml", "gw", secondary)])
    [leg] = server.ended[-1].legs
    assert f":{secondary}" in leg.contact

    # The primary answers a probe again: traffic moves back to it.
    probe = await server.sipp("uas_options.xml", "gw", port=primary, client=False, timeout_s=10)
    assert probe.returncode == 0, probe.output[-2000:]
    await asyncio.sleep(0.1)
    await call(server, "1001", a, "2125550197", "uac_call.xml", [("uas_answer.xml", "gw", primary)])
    [leg] = server.ended[-1].legs
    assert server.ended[-1].disposition == "answered" and f":{primary}" in leg.contact


async def test_call_from_a_carrier_rings_the_did_owner_without_a_challenge(server: Server) -> None:
    carrier = free_udp_port()
    add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    use_store_routes(server)
    with transaction(server.sessions) as s:
        user = s.scalar(select(User).where(User.extension == "1002"))
        assert user is not None
        did = s.scalar(select(PhoneNumber.e164).where(PhoneNumber.target_id == user.id))
    assert did is not None
    b = free_udp_port()
    await server.register("1002", b)
    callee = asyncio.create_task(server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    result = await server.sipp("uac_trunk_call.xml", "+13125550777", port=carrier, callee=did, timeout_s=15)
    assert result.returncode == 0, result.output[-3000:]
    assert (await callee).returncode == 0
    cdr = server.ended[-1]
    assert (cdr.direction, cdr.from_, cdr.to, cdr.disposition) == (
        "inbound",
        "+13125550777",
        "1002",
        "answered",
    )
    # A number that is not ours is refused, not transited.
    refused = await server.sipp(
        "uac_trunk_refused_404.xml", "+13125550777", port=carrier, callee="+19995550100"
    )
    assert refused.returncode == 0, refused.output[-3000:]


async def test_911_from_a_suspended_tenant_reaches_the_psap_with_pidf_lo_and_notifies(
    server: Server, tmp_path: Path
) -> None:
    psap = free_udp_port()
    trunk_id = add_trunk(server, "911-selective-router", TrunkKind.EMERGENCY, [(psap, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        tenant = s.scalar(select(Tenant))
        user = s.scalar(select(User).where(User.extension == "1001"))
        assert tenant is not None and user is not None
        s.execute(update(Tenant).values(status=TenantStatus.SUSPENDED))
        s.add(EmergencyRouteRow(trunk_id=trunk_id, psap="Springfield PSAP"))
        s.add(
            RegisteredLocation(
                tenant_id=tenant.id,
                subject_type=LocationSubject.USER,
                subject_id=user.id,
                house_number="742",
                street="Evergreen Ter",
                city="Springfield",
                state="IL",
                postal_code="62704",
                validated=True,
                psap="Springfield PSAP",
                esn="0701",
            )
        )
    secret = "whsec_test_0123456789abcdef"
    with smtp_server() as (mail, smtp_port):
        async with https_server(tmp_path) as hook:
            with transaction(server.sessions) as s:
                s.add(
                    EmergencyContact(
                        tenant_id=tenant.id,
                        kind=NotifyKind.EMAIL,
                        address="security@acme.example",
                        name="Security",
                    )
                )
                s.add(
                    EmergencyContact(
                        tenant_id=tenant.id,
                        kind=NotifyKind.WEBHOOK,
                        address=hook.url(),
                        name="SOC",
                        signing_secret=secret,
                    )
                )
            notifier = EmergencyNotifier(
                SmtpConfig("127.0.0.1", smtp_port, "911@provider.example"),
                ssl_context=trusting(tmp_path),
                tries=2,
                backoff_s=0.05,
            )
            use_store_routes(server, notifier)
            a = free_udp_port()
            await server.register("1001", a)
            # Suspended: an ordinary call is refused …
            refused = await server.sipp("uac_refused_403.xml", "1001", port=a, callee="2125550199")
            assert refused.returncode == 0, refused.output[-3000:]
            # … and 911 goes through, with the location by value.
            await call(server, "1001", a, "911", "uac_call.xml", [("uas_psap.xml", "psap", psap)])
            await notifier.drain(10)
    cdr = server.ended[-1]
    assert (cdr.call_class, cdr.disposition, cdr.trunk) == ("emergency", "answered", "911-selective-router")
    (msg,) = mail.messages
    text = msg.get_content() if not msg.is_multipart() else msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "742 Evergreen Ter" in text and "+12175281001" in text and "1001" in text
    (_target, headers, body) = hook.requests[0]
    assert verify_signature(secret, headers["centrex-signature"], body, time.time())
    payload = json.loads(body)
    assert "+12175281001" in json.dumps(payload) and "742" in json.dumps(payload)


async def test_a_carrier_gateway_named_by_host_name_is_found_by_dns_and_called(server: Server) -> None:
    """Issue 13 §2: a trunk gateway stored as a host name is located by RFC 3263 (SRV, then A)
    against a DNS server of the test's own on 127.0.0.1, and the call goes to what it names."""
    from centrex.routing.resolved import ResolvingRoutes
    from centrex.sip.locate import Query
    from centrex.transport.resolve import Resolver
    from tests.support.dns_server import DnsServer

    carrier = free_udp_port()
    dns = await DnsServer.start(
        {
            ("_sip._udp.carrier.test", "SRV"): (60, [f"10 10 {carrier} sbc1.carrier.test."]),
            ("sbc1.carrier.test", "A"): (60, ["127.0.0.1"]),
        }
    )
    resolver = Resolver(["127.0.0.1"], port=dns.port)
    try:
        with transaction(server.sessions) as s:
            trunk = TrunkRow(name="named", kind=TrunkKind.CARRIER)
            s.add(trunk)
            s.flush()
            s.add(
                TrunkGatewayRow(trunk_id=trunk.id, host="carrier.test", port=5060, role=GatewayRole.PRIMARY)
            )
            s.add(OutboundRouteRow(trunk_id=trunk.id, prefix="1"))
        service = server.service
        attach_switch_services(
            service, server.sessions, StoreDirectory(server.sessions), EmergencyNotifier(None), resolver
        )
        routes = service.engine.service(TrunkCalls).routes
        assert isinstance(routes, ResolvingRoutes) and isinstance(routes.routes, StoreRoutes)
        routes.routes.ttl_s = 0.0
        routes.table(time.time())  # the name is asked for; a call never waits on DNS
        for _ in range(50):
            if resolver.cached(Query("carrier.test", None, "UDP")):
                break
            await asyncio.sleep(0.05)
        a = free_udp_port()
        await server.register("1001", a)
        await call(server, "1001", a, "2125550123", "uac_call.xml", [("uas_answer.xml", "gw", carrier)])
        cdr = server.ended[-1]
        assert (cdr.disposition, cdr.trunk) == ("answered", "named")
        [leg] = cdr.legs
        assert f"127.0.0.1:{carrier}" in leg.contact
        assert dns.asked[("_sip._udp.carrier.test", "SRV")] >= 1
    finally:
        await resolver.close()
        dns.close()
