"""A real call's events land in insights (issue 20 §3 "every call ... an event"): two SIPp phones
register and call each other through a real Centrex SIP service with the webhooks' event bus and
insights started as `centrex serve` starts them (the tenant has no webhook: the tap sees its events
anyway). The call is counted started, answered and ended — caller 1001, callee 1002, at the
caller's site, with its talk time — in the real-time tier and, rolled up, in the hourly and daily
tiers, and the dashboard query finds it by party."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from centrex.cpaas.webhook_service import start_webhooks
from centrex.insights.query import Filters, dashboard
from centrex.insights.service import start_insights
from centrex.store.models import CallDetail, Tenant, User
from centrex.store.models.insights import InsightsAggregate
from tests.interop.conftest import Server, free_udp_port, server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.interop


async def test_a_sipp_call_is_counted_in_every_tier(server: Server) -> None:  # noqa: F811
    with server.sessions() as s:
        tenant_id = s.scalars(select(Tenant.id)).one()
        site = s.scalar(select(User.site_id).where(User.tenant_id == tenant_id, User.extension == "1001"))
    hooks = start_webhooks(server.service, server.sessions, deliver=False)
    insights = start_insights(hooks.bus, server.sessions, flush_s=0.2)
    try:
        assert tenant_id not in hooks.bus.tenants  # no webhook: the fast path skips the outbox
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=15)
        )
        await asyncio.sleep(0.3)
        caller = await server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=15)
        assert caller.returncode == 0, caller.output[-3000:]
        assert (await callee).returncode == 0

        def counted() -> dict[tuple[str, str], InsightsAggregate]:
            with server.sessions() as s:
                rows = s.scalars(
                    select(InsightsAggregate).where(InsightsAggregate.tenant_id == tenant_id)
                ).all()
            return {(r.tier, r.metric): r for r in rows}

        deadline = asyncio.get_running_loop().time() + 30
        while ("minute", "calls.ended") not in counted():
            assert asyncio.get_running_loop().time() < deadline, counted()
            await asyncio.sleep(0.1)
    finally:
        await asyncio.to_thread(insights.stop)
        await hooks.stop()
    rows = counted()
    with server.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
    expected_site = "" if site is None else str(site)
    for tier in ("minute", "hour", "day"):
        for metric in ("calls.started", "calls.answered", "calls.ended"):
            row = rows[(tier, metric)]
            assert (row.count, row.site, row.party_from, row.party_to) == (
                1,
                expected_site,
                "1001",
                "1002",
            ), (
                tier,
                metric,
            )
        assert rows[(tier, "calls.ended")].total == cdr.duration_ms
        assert (tier, "calls.unanswered") not in rows
    assert rows[("minute", "calls.started")].bucket_start == cdr.start.replace(second=0, microsecond=0)
    now = datetime.now(UTC)
    with server.sessions() as s:
        by_callee = dashboard(s, tenant_id, Filters("minute", now - timedelta(minutes=10), now, party="1002"))
        nobody = dashboard(s, tenant_id, Filters("minute", now - timedelta(minutes=10), now, party="1003"))
    assert by_callee.totals["calls.answered"]["count"] == 1
    assert {p["party"] for p in by_callee.parties} == {"1001", "1002"}
    assert nobody.totals["calls.answered"]["count"] == 0
