"""SIPp plays a carrier against a real Centrex SIP service (issue 15 §1): a carrier trunk at its
simultaneous-call limit refuses the next call from it with 503 and a Reason naming the limit and
the trunk (no Retry-After); when the first call ends the trunk takes calls again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, User
from centrex.store.models.trunks import GatewayRole, TrunkKind, TrunkRow
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
