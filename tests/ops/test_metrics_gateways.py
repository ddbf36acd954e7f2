"""``centrex_gateway_up`` follows a carrier trunk's gateways as the switch sees them: SIPp plays an
SBC pair whose primary answers 503 (marked down, the call completes on the secondary) and then
answers the OPTIONS probe (up again) — voip-service-guide.txt §I.4, routing/select.py."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from centrex.ops.metrics import Metrics
from centrex.ops.metrics_switch import watch_switch
from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import transaction
from centrex.store.models.trunks import GatewayRole, OutboundRouteRow, TrunkKind, TrunkRow
from tests.interop.conftest import Server, free_udp_port, server  # noqa: F401  (the fixture)
from tests.interop.test_interop_sipp import call
from tests.interop.test_interop_trunks import add_trunk, use_store_routes

pytestmark = pytest.mark.interop


async def scrape(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = (await metrics.render()).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_gateway_up_and_failures_follow_failover_and_fail_back(server: Server) -> None:  # noqa: F811
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
    metrics = Metrics()
    watch_switch(metrics, server.service, trunks=server.service.engine.service(TrunkCalls))
    up = "centrex_gateway_up"
    p = frozenset({("trunk", "sbc-pair"), ("gateway", f"udp:127.0.0.1:{primary}")})
    q = frozenset({("trunk", "sbc-pair"), ("gateway", f"udp:127.0.0.1:{secondary}")})

    before = await scrape(metrics)
    assert (before[(up, p)], before[(up, q)]) == (1, 1)
    assert before[("centrex_gateway_failures", p)] == 0

    a = free_udp_port()
    await server.register("1001", a)
    await call(
        server,
        "1001",
        a,
        "2125550199",
        "uac_call.xml",
        [("uas_503.xml", "gw", primary), ("uas_answer.xml", "gw", secondary)],
    )
    down = await scrape(metrics)
    assert (down[(up, p)], down[(up, q)]) == (0, 1)
    assert down[("centrex_gateway_failures", p)] == 1
    assert down[("centrex_call_attempts_total", frozenset({("direction", "outbound")}))] == 1
    assert down[("centrex_calls_answered_total", frozenset())] == 1

    # The primary answers the OPTIONS probe: up again.
    probe = await server.sipp("uas_options.xml", "gw", port=primary, client=False, timeout_s=10)
    assert probe.returncode == 0, probe.output[-2000:]
    await asyncio.sleep(0.1)
    back = await scrape(metrics)
    assert (back[(up, p)], back[(up, q)]) == (1, 1)
    assert back[("centrex_gateway_failures", p)] == 0
