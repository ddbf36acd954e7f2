"""The toll-fraud guard against SIPp phones and a SIPp carrier on a real Centrex SIP service: an
international call refused for a new user (even one whose restriction class allows it) and put
through once the tenant and the user are enabled; a spend limit that cuts off a premium call in
progress when it runs out and refuses the next billable call; 911 always through."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.fairuse.toll_guard import TollGuard
from centrex.fairuse.toll_storage import StoreToll
from centrex.store.db import transaction
from centrex.store.models import Tenant, User
from centrex.store.models.admission import HighRiskPrefix, SpendMeter, TollPermission
from centrex.store.models.routing import CallRestrictionClass
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkKind
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent / "scenarios"


def ids(server: Server, extension: str) -> tuple[uuid.UUID, uuid.UUID]:
    with server.sessions() as s:
        tenant = s.scalars(select(Tenant.id)).one()
        user = s.scalars(select(User.id).where(User.extension == extension)).one()
    return tenant, user


def carrier(server: Server, *prefixes: str) -> int:
    port = free_udp_port()
    trunk = add_trunk(server, "carrier", TrunkKind.CARRIER, [(port, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        for prefix in prefixes:
            s.add(OutboundRouteRow(trunk_id=trunk, prefix=prefix))
        # The demo's Standard class lets them dial abroad: the guard is what stops them.
        s.execute(update(CallRestrictionClass).values(allow_international=True))
    use_store_routes(server)
    server.service.engine.service(TollGuard).source.ttl_s = 0.0  # type: ignore[union-attr]
    assert isinstance(server.service.engine.service(TollGuard).source, StoreToll)
    return port


async def answered_call(server: Server, caller: str, port: int, dialled: str, gw: int, uac: str) -> None:
    far = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=gw, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    result = await server.sipp(uac, caller, port=port, callee=dialled, timeout_s=15)
    assert result.returncode == 0, result.output[-3000:]
    far_result = await far
    assert far_result.returncode == 0, far_result.output[-3000:]


async def test_international_is_refused_for_a_new_user_until_enabled(server: Server) -> None:
    gw = carrier(server, "44")
    tenant, user = ids(server, "1001")
    a = free_udp_port()
    await server.register("1001", a)

    refused = await server.sipp(str(HERE / "uac_fraud_403.xml"), "1001", port=a, callee="011442079460000")
    assert refused.returncode == 0, refused.output[-3000:]
    assert server.ended[-1].hangup_cause == "toll_international"

    with transaction(server.sessions) as s:  # the tenant enabled; the user not yet
        s.add(TollPermission(tenant_id=tenant, user_id=None, international=True))
    refused = await server.sipp(str(HERE / "uac_fraud_403.xml"), "1001", port=a, callee="011442079460001")
    assert refused.returncode == 0, refused.output[-3000:]
    assert server.ended[-1].hangup_cause == "toll_international"

    with transaction(server.sessions) as s:
        s.add(TollPermission(tenant_id=tenant, user_id=user, international=True))
    await answered_call(server, "1001", a, "011442079460002", gw, "uac_call.xml")
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.call_class, cdr.to) == ("answered", "international", "+442079460002")


async def test_a_spend_limit_cuts_off_a_premium_call_and_refuses_the_next(server: Server) -> None:
    gw = carrier(server, "44")
    tenant, user = ids(server, "1001")
    with transaction(server.sessions) as s:
        # UK personal numbers (+44 70), a classic of toll fraud, at 12.00 a minute: 0.50 is 2.5 s.
        s.add(HighRiskPrefix(prefix="+4470", note="UK personal numbers", rate_per_minute=Decimal("12.00")))
        s.add(TollPermission(tenant_id=tenant, user_id=None, international=True, premium=True))
        s.add(
            TollPermission(
                tenant_id=tenant, user_id=user, international=True, premium=True, spend_limit=Decimal("0.50")
            )
        )
    a = free_udp_port()
    await server.register("1001", a)

    await answered_call(server, "1001", a, "011447012345678", gw, "uac_call_callee_bye.xml")
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.hangup_cause) == ("answered", "spend_limit")
    assert 2_000 <= cdr.duration_ms <= 4_000, cdr.duration_ms

    refused = await server.sipp(str(HERE / "uac_fraud_403.xml"), "1001", port=a, callee="011447012345679")
    assert refused.returncode == 0, refused.output[-3000:]
    assert server.ended[-1].hangup_cause == "spend_limit"

    server.service.engine.service(TollGuard).flush()
    with server.sessions() as s:
        spent = s.scalars(select(SpendMeter.spent).where(SpendMeter.user_id == user)).one()
    assert Decimal("0.40") <= spent <= Decimal("0.80")
