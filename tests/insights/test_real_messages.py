"""Real messages land in insights (issue 20 §3 "every ... message an event"): the native API sends
over SMPP to the SMSC simulator, whose receipts say DELIVRD (and UNDELIV for its failing handset),
and a handset's message comes in; the Messenger emits message.sent / delivered / undelivered /
received as the rows' statuses change, and insights counts them (segments as the total) in the
real-time tier and, rolled up, in the hourly and daily tiers. Read back through the dashboard API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from centrex.cpaas import events
from centrex.cpaas.events import EventBus
from centrex.insights.service import Insights, start_insights
from tests.cpaas.conftest import LiveApi, live_api  # noqa: F401  (the fixture)
from tests.cpaas.messaging.conftest import FAILING, Carrier, carrier, register_10dlc  # noqa: F401

REMOTE = "+16175559876"


@pytest.fixture
def insights(live_api: LiveApi) -> Iterator[Insights]:  # noqa: F811
    bus = EventBus(live_api.app.state.sessionmaker)  # as `centrex serve`: the process's bus
    events.install(bus)
    running = start_insights(bus, live_api.app.state.sessionmaker, flush_s=0.2)
    try:
        yield running
    finally:
        running.stop()
        events.install(None)


def test_sent_delivered_undelivered_and_received_messages_are_counted(
    live_api: LiveApi,  # noqa: F811
    carrier: Carrier,  # noqa: F811
    insights: Insights,
) -> None:
    number = live_api.demo.lines[2].number
    register_10dlc(live_api, [number])
    base = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}"
    for to, body in ((REMOTE, "Your code is 123456"), (FAILING, "x" * 170)):  # 170 GSM-7: 2 segments
        r = httpx.post(
            f"{base}/messages",
            json={"from": number, "to": to, "body": body},
            headers=live_api.operator,
            timeout=30,
        )
        assert r.status_code == 201, r.text
    carrier.sim.inject_mo(REMOTE, number, "Thanks!")

    def totals() -> dict[str, dict[str, int]]:
        r = httpx.get(
            f"{base}/insights/dashboard",
            params={
                "tier": "minute",
                "metrics": "messages.sent,messages.delivered,messages.undelivered,messages.received",
            },
            headers=live_api.admin,
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return dict(r.json()["totals"])

    expected = {
        "messages.sent": {"count": 2, "total": 3},
        "messages.delivered": {"count": 1, "total": 1},
        "messages.undelivered": {"count": 1, "total": 2},
        "messages.received": {"count": 1, "total": 1},
    }
    deadline = time.monotonic() + 30
    while (got := totals()) != expected:
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    for tier in ("hour", "day"):
        r = httpx.get(
            f"{base}/insights/dashboard",
            params={"tier": tier, "metrics": "messages.undelivered,messages.received", "party": FAILING},
            headers=live_api.admin,
            timeout=30,
        )
        assert r.json()["totals"] == {
            "messages.undelivered": {"count": 1, "total": 2},
            "messages.received": {"count": 0, "total": 0},
        }
    r = httpx.get(
        f"{base}/insights/dashboard",
        params={"tier": "day", "metrics": "messages.received", "party": REMOTE},
        headers=live_api.admin,
        timeout=30,
    )
    assert r.json()["totals"]["messages.received"]["count"] == 1
    assert {p["party"] for p in r.json()["parties"]} == {REMOTE, number}
