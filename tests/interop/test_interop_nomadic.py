"""Nomadic 911 on the wire (voip-service-guide.txt §V.14.3): an IP Trunking phone that registers
from a network it has not used before has its calls held until its location is verified, while
911 still goes through. SIPp phones on two loopback networks (127.0.0.0/24 and 127.0.1.0/24)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from centrex.adapters.directory_store import StoreDirectory
from centrex.e911.notifier import EmergencyNotifier
from centrex.ops.demo import DEMO_DOMAIN
from centrex.routing.storage import StoreRoutes
from centrex.routing.trunk_calls import TrunkCalls
from centrex.server import attach_switch_services
from centrex.store.db import transaction
from centrex.store.models import ServiceType, Tenant
from centrex.store.models.trunks import EmergencyRouteRow, GatewayRole, TrunkKind

from .conftest import SCENARIOS, SIPP, Server, free_udp_port
from .test_interop_trunks import add_trunk

pytestmark = pytest.mark.interop


async def sipp_from(
    server: Server, scenario: str, ip: str, port: int, callee: str | None = None
) -> tuple[int, str]:
    assert SIPP is not None
    args = [SIPP, "-sf", str(SCENARIOS / scenario), f"127.0.0.1:{server.port}", "-i", ip, "-p", str(port)]
    args += ["-s", "1001", "-au", "1001", "-ap", server.passwords["1001"], "-m", "1", "-nostdin"]
    args += [
        "-key",
        "domain",
        DEMO_DOMAIN,
        "-key",
        "server_port",
        str(server.port),
        "-timeout",
        "15s",
        "-timeout_error",
    ]
    if callee:
        args += ["-key", "callee", callee]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(errors="replace")


async def test_ip_trunking_phone_on_a_new_network_may_call_911_only(server: Server) -> None:
    psap = free_udp_port()
    trunk_id = add_trunk(server, "911-router", TrunkKind.EMERGENCY, [(psap, GatewayRole.PRIMARY)])
    with transaction(server.sessions) as s:
        s.execute(update(Tenant).values(service_type=ServiceType.IP_TRUNKING))
        s.add(EmergencyRouteRow(trunk_id=trunk_id))
    service = server.service
    attach_switch_services(service, server.sessions, StoreDirectory(server.sessions), EmergencyNotifier(None))
    assert isinstance(service.engine.service(TrunkCalls).routes, StoreRoutes)
    service.engine.service(TrunkCalls).routes.ttl_s = 0.0

    home, away = free_udp_port(), free_udp_port()
    code, out = await sipp_from(server, "register.xml", "127.0.0.1", home)
    assert code == 0, out[-2000:]
    # The first network is the phone's own (known); the second is new: its calls are held.
    code, out = await sipp_from(server, "register.xml", "127.0.1.1", away)
    assert code == 0, out[-2000:]
    code, out = await sipp_from(server, "uac_refused_403.xml", "127.0.1.1", away, callee="1002")
    assert code == 0, out[-3000:]
    assert server.ended[-1].hangup_cause == "nomadic_hold"
    # 911 from the same phone, same network: routed to the emergency trunk and answered.
    answer = asyncio.create_task(server.sipp("uas_answer.xml", "psap", port=psap, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    code, out = await sipp_from(server, "uac_call.xml", "127.0.1.1", away, callee="911")
    assert code == 0, out[-3000:]
    assert (await answer).returncode == 0
    assert (server.ended[-1].call_class, server.ended[-1].disposition) == ("emergency", "answered")
