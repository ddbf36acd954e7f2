"""A DID pointed at an application (numbers.target_type = app): a carrier's call (SIPp playing the
carrier trunk) reaches the app server, whose app answers <Say> then <Dial>1002</Dial>; 1002 (SIPp)
answers. Twilio's From/To are the caller's and the DID's E.164 numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.media.ports import PortAllocator
from centrex.store.db import transaction
from centrex.store.models import NumberTarget, PhoneNumber, User
from centrex.store.models.trunks import GatewayRole, TrunkKind
from tests.interop.conftest import SCENARIOS, Server, free_udp_port
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp, twiml

pytestmark = pytest.mark.interop


async def test_a_did_routed_to_an_app_runs_it(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/voice"] = lambda p: twiml("<Say>Connecting you.</Say><Dial>1002</Dial>")
    carrier = free_udp_port()
    add_trunk(server, "carrier", TrunkKind.CARRIER, [(carrier, GatewayRole.PRIMARY)])
    use_store_routes(server)
    app = add_application(server, webapp, "6020")
    with transaction(server.sessions) as s:
        user = s.scalar(select(User).where(User.extension == "1001"))
        assert user is not None
        did = s.scalar(select(PhoneNumber.e164).where(PhoneNumber.target_id == user.id))
        s.execute(
            update(PhoneNumber)
            .where(PhoneNumber.e164 == did)
            .values(target_type=NumberTarget.APP, target_id=app.id)
        )
    assert did is not None
    apps = await start_apps(server, tmp_path, PortAllocator(49500, 49999))
    try:
        b = free_udp_port()
        await server.register("1002", b)
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=20)
        )
        await asyncio.sleep(0.3)
        # The carrier's caller stays 4 s after the answer (the Say, then 1002 rings and answers).
        scenario = tmp_path / "uac_trunk_hold.xml"
        text = (SCENARIOS / "uac_trunk_call.xml").read_text()
        scenario.write_text(text.replace('<pause milliseconds="500"/>', '<pause milliseconds="4000"/>'))
        result = await server.sipp(str(scenario), "+13125550777", port=carrier, callee=did, timeout_s=20)
        assert result.returncode == 0, result.output[-3000:]
        assert (await callee).returncode == 0
    finally:
        await apps.stop()
    [voice] = [h for h in webapp.hits if h.path == "/voice"]
    assert voice.signed and voice.params["From"] == "+13125550777" and voice.params["To"] == did
    cdr = server.ended[-1]
    assert (cdr.direction, cdr.to, cdr.disposition) == ("inbound", "1002", "answered")
    assert [leg.extension for leg in cdr.legs] == [f"cpaas.{app.id}", "1002"]
