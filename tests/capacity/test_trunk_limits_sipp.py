"""SIPp plays a carrier against a real Centrex SIP service (issue 15 §1): a carrier trunk at its
simultaneous-call limit refuses the next call from it with 503 and a Reason naming the limit and
the trunk (no Retry-After); when the first call ends the trunk takes calls again. A phone's call out
skips a carrier at its limit for the next route (failover)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, Site, Tenant, User
from centrex.store.models.admission import TollPermission
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkGatewayRow, TrunkKind, TrunkRow
from tests.capacity.test_capacity_sipp import set_units
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent / "scenarios"


async def test_a_carrier_at_its_call_limit_refuses_the_next_call_with_503_and_reason(server: Server) -> None:
    carrier = free_udp_port()
    trunk_id = add_trunk(server, "carrier-x", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        # The carrier sends from a pool of ports of its address; one call at a time.
        s.execute(
            update(TrunkRow)
            .where(TrunkRow.id == trunk_id)
            .values(max_calls=1, inbound_networks=["127.0.0.1/32"])
        )
        user = s.scalar(select(User).where(User.extension == "1002"))
        assert user is not None
        did = s.scalar(select(PhoneNumber.e164).where(PhoneNumber.target_id == user.id))
    assert did is not None
    use_store_routes(server)
    b = free_udp_port()
    await server.register("1002", b)
    callee = asyncio.create_task(server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    held = asyncio.create_task(
        server.sipp(
            str(HERE / "uac_trunk_call_held.xml"), "+13125550777", port=carrier, callee=did, timeout_s=15
        )
    )
    await asyncio.sleep(1.5)  # the carrier's one call is up
    limits = server.service.engine.service(TrunkCalls).limits
    assert limits.calls_on(trunk_id) == 1

    refused = await server.sipp(
        str(HERE / "uac_trunk_503.xml"), "+13125550778", port=free_udp_port(), callee=did, timeout_s=10
    )
    assert refused.returncode == 0, refused.output[-3000:]
    cdr = server.ended[-1]
    assert (cdr.hangup_cause, cdr.disposition, cdr.sip_code) == ("trunk_calls", "rejected", 503)

    for task in (held, callee):
        result = await task
        assert result.returncode == 0, result.output[-3000:]
    assert server.ended[-1].disposition == "answered"
    assert limits.calls_on(trunk_id) == 0  # free again once the call ended


async def test_a_full_carrier_is_skipped_for_the_next_route(server: Server) -> None:
    first, second = free_udp_port(), free_udp_port()
    full = add_trunk(server, "carrier-a", TrunkKind.CARRIER, [(first, GatewayRole.PRIMARY)])
    spare = add_trunk(server, "carrier-b", TrunkKind.CARRIER, [(second, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.execute(update(TrunkRow).where(TrunkRow.id == full).values(max_calls=1))
        s.add(OutboundRouteRow(trunk_id=full, prefix="1", priority=10))
        s.add(OutboundRouteRow(trunk_id=spare, prefix="1", priority=20))
    use_store_routes(server)
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    gw_a = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=first, client=False, timeout_s=15))
    gw_b = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=second, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    held = asyncio.create_task(
        server.sipp(str(HERE / "uac_call_held.xml"), "1002", port=b, callee="2125550199", timeout_s=15)
    )
    await asyncio.sleep(1.5)  # carrier-a carries its one call
    assert server.service.engine.service(TrunkCalls).limits.calls_on(full) == 1
    second_call = await server.sipp("uac_call.xml", "1001", port=a, callee="2125550198", timeout_s=15)
    assert second_call.returncode == 0, second_call.output[-3000:]
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.trunk) == ("answered", "carrier-b")
    for task in (held, gw_a, gw_b):
        result = await task
        assert result.returncode == 0, result.output[-3000:]
    assert server.ended[-1].trunk == "carrier-a"


async def test_an_ip_trunking_tenants_calls_are_admitted_at_the_trunks_site(server: Server) -> None:
    """A tenant's PBX trunk at its Main Office (§V.9): its calls out are classified and counted there —
    international refused until the tenant enables it, then allowed; the site's one unit in use
    refuses the next call with 503 and a Reason naming the site."""
    pbx, carrier = free_udp_port(), free_udp_port()
    out = add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        tenant = s.scalars(select(Tenant)).one()
        main = s.scalars(select(Site).where(Site.name == "Main Office")).one()
        tenant_id, main_id = tenant.id, main.id
        s.add(OutboundRouteRow(trunk_id=out, prefix=""))
    with transaction(server.sessions) as s:
        row = TrunkRow(
            name="acme-pbx",
            kind=TrunkKind.PBX,
            tenant_id=tenant_id,
            site_id=main_id,  # the PBX sits at the Main Office (§V.9)
            inbound_networks=["127.0.0.1/32"],  # it sends from a pool of ports
        )
        s.add(row)
        s.flush()
        s.add(TrunkGatewayRow(trunk_id=row.id, host="127.0.0.1", port=pbx))
    set_units(server, "Main Office", 1)
    use_store_routes(server)
    caller = "+12175281001"  # the tenant's own DID: the caller ID policy refuses any other (issue 17 §5)

    refused = await server.sipp(str(HERE / "uac_trunk_403.xml"), caller, port=pbx, callee="011442079460000")
    assert refused.returncode == 0, refused.output[-3000:]
    assert server.ended[-1].hangup_cause == "toll_international"

    with transaction(server.sessions) as s:
        s.add(TollPermission(tenant_id=tenant_id, international=True))  # the tenant's own: no user
    await asyncio.sleep(2.5)  # the guard's cache
    gw = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=carrier, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    done = await server.sipp("uac_trunk_call.xml", caller, port=pbx, callee="011442079460000", timeout_s=15)
    assert done.returncode == 0, done.output[-3000:]
    assert (await gw).returncode == 0
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.call_class, cdr.site_id, cdr.trunk) == (
        "answered",
        "international",
        main_id,
        "carrier",
    )

    gw = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=carrier, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    held = asyncio.create_task(
        server.sipp(
            str(HERE / "uac_trunk_call_held.xml"), caller, port=pbx, callee="2175289901", timeout_s=15
        )
    )
    await asyncio.sleep(1.5)  # the site's one unit is in use by the PBX's call
    full = await server.sipp(
        str(HERE / "uac_trunk_503.xml"), caller, port=free_udp_port(), callee="2175289902"
    )
    assert full.returncode == 0, full.output[-3000:]
    assert server.ended[-1].hangup_cause == "capacity_site"
    for task in (held, gw):
        result = await task
        assert result.returncode == 0, result.output[-3000:]
    assert server.ended[-1].call_class == "local"  # 217-528 is the Main Office's own exchange
