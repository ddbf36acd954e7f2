"""SIPp phones and a SIPp carrier against a real Centrex SIP service: a site at its limit refuses the
next call with 503 and a Reason naming the limit (no Retry-After), 911 from the full site still
reaches the PSAP, and the blocked call is counted for that site (voip-service-guide.txt §2.2, §V.3)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.capacity.admission import CapacityAdmission
from centrex.store.db import transaction
from centrex.store.models import Site, Tenant, User
from centrex.store.models.admission import CapacityBlock
from centrex.store.models.numbering import LocationSubject, RegisteredLocation
from centrex.store.models.trunks import EmergencyRouteRow, GatewayRole, OutboundRouteRow, TrunkKind
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes
from tests.support.api_beside import operator_get

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent / "scenarios"


def set_units(server: Server, site: str, units: int, *, metered: bool = False) -> None:
    with transaction(server.sessions) as s:
        s.execute(update(Site).where(Site.name == site).values(calling_units=units, metered=metered))


def psap_for(server: Server, psap_port: int, extension: str) -> None:
    trunk_id = add_trunk(server, "911-router", TrunkKind.EMERGENCY, [(psap_port, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        tenant = s.scalar(select(Tenant))
        user = s.scalar(select(User).where(User.extension == extension))
        assert tenant is not None and user is not None
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


async def test_a_full_site_refuses_the_next_call_with_503_and_reason_and_911_passes(server: Server) -> None:
    carrier, psap = free_udp_port(), free_udp_port()
    trunk = add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.add(OutboundRouteRow(trunk_id=trunk, prefix="1"))
    psap_for(server, psap, "1001")  # the PSAP scenario expects 1001's ANI
    set_units(server, "Main Office", 1)  # bundled plan, not metered: no burst
    use_store_routes(server)
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)

    gw = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=carrier, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    held = asyncio.create_task(
        server.sipp(str(HERE / "uac_call_held.xml"), "1002", port=b, callee="2125550199", timeout_s=15)
    )
    await asyncio.sleep(1.5)  # 1002's call is up: the site's one unit is in use
    capacity = server.service.engine.service(CapacityAdmission)
    assert sum(capacity.site_calls(tenant_id(server)).values()) == 1
    # The tenant's capacity page shows the call against the site's one unit (issue 18 §2 chart).
    assert calls_now_by_api(server)["Main Office"] == (1, 1)

    refused = await server.sipp(str(HERE / "uac_capacity_503.xml"), "1001", port=a, callee="2125550198")
    assert refused.returncode == 0, refused.output[-3000:]
    assert server.ended[-1].hangup_cause == "capacity_site"

    # 911 from the same full site goes through to the PSAP.
    psap_task = asyncio.create_task(
        server.sipp("uas_psap.xml", "psap", port=psap, client=False, timeout_s=15)
    )
    await asyncio.sleep(0.3)
    emergency = await server.sipp("uac_call.xml", "1001", port=a, callee="911", timeout_s=15)
    assert emergency.returncode == 0, emergency.output[-3000:]
    assert (await psap_task).returncode == 0

    for task in (held, gw):
        result = await task
        assert result.returncode == 0, result.output[-3000:]
    capacity.flush()
    with server.sessions() as s:
        block = s.scalars(select(CapacityBlock)).one()
        site = s.get(Site, block.site_id)
    assert site is not None
    assert (site.name, block.limit_kind, block.blocked) == ("Main Office", "site", 1)
    # The unit is free again once the call ended: the next call is admitted.
    assert capacity.site_calls(block.tenant_id) == {}


def calls_now_by_api(server: Server) -> dict[str, tuple[int, int]]:
    """GET …/capacity from an API beside this switch: site → (calls now, the most calls at once)."""
    body = operator_get(server.service, server.sessions, f"/tenants/{tenant_id(server)}/capacity")
    return {site["name"]: (site["calls_now"], site["max_calls"]) for site in body["sites"]}


def tenant_id(server: Server) -> object:
    with server.sessions() as s:
        return s.scalars(select(Tenant.id)).one()
