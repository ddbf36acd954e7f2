"""The switch records number use (issue 15 §4): a DID that a carrier's call reached and was
answered on, and the DID of a user who called out, are used; a DID nobody used stays idle — so
reclamation (cpaas.txt §2.4.5) lists only numbers really idle."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from centrex.numbers.number_use import NumberUse
from centrex.store.db import transaction
from centrex.store.models import PhoneNumber, User
from centrex.store.models.numbering import NumberUsage
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkKind
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

pytestmark = pytest.mark.interop


def did_of(server: Server, extension: str) -> str:
    with server.sessions() as s:
        user = s.scalars(select(User).where(User.extension == extension)).one()
        return s.scalars(select(PhoneNumber.e164).where(PhoneNumber.target_id == user.id)).one()


async def test_answered_calls_mark_their_numbers_used(server: Server) -> None:
    carrier = free_udp_port()
    trunk = add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.add(OutboundRouteRow(trunk_id=trunk, prefix="1"))
    use_store_routes(server)
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)

    # A carrier's call to 1002's DID, answered.
    callee = asyncio.create_task(server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    inbound = await server.sipp(
        "uac_trunk_call.xml", "+13125550777", port=carrier, callee=did_of(server, "1002"), timeout_s=15
    )
    assert inbound.returncode == 0, inbound.output[-3000:]
    assert (await callee).returncode == 0
    # 1001 calls out through the carrier.
    far = asyncio.create_task(server.sipp("uas_answer.xml", "gw", port=carrier, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    outbound = await server.sipp("uac_call.xml", "1001", port=a, callee="2125550199", timeout_s=15)
    assert outbound.returncode == 0, outbound.output[-3000:]
    assert (await far).returncode == 0

    server.service.engine.service(NumberUse).flush()
    with server.sessions() as s:
        used = {
            e164
            for e164, at in s.execute(
                select(PhoneNumber.e164, NumberUsage.last_used_at).join(
                    NumberUsage, NumberUsage.number_id == PhoneNumber.id
                )
            )
            if at is not None
        }
    assert used == {did_of(server, "1002"), did_of(server, "1001")}
