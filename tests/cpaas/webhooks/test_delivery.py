"""The outbox (issue 16 §3, Must show "retries after a failing endpoint"): a webhook made through
the API, a test event sent to a real receiver that answers 500 twice then 200, retried with
back-off by the delivery worker, and the three attempts in the endpoint's delivery log read back
through the API; 410 disables the endpoint; a rotation signs with both secrets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from centrex.cpaas.delivery import DeliveryWorker
from centrex.cpaas.webhook_signing import CENTREX_HEADER, verify_centrex, verify_standard
from centrex.store.db import make_sessionmaker
from tests.cpaas.conftest import LiveApi

from .receiver import receiver

FAST = (0.3, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0)  # the schedule's shape, in tenths of seconds


@pytest.fixture
async def worker(live_api: LiveApi) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(make_sessionmaker(live_api.app.state.engine), schedule=FAST, poll_s=0.1, timeout_s=5)
    w.start()
    yield w
    await w.stop()


async def _api(live_api: LiveApi, method: str, path: str, body: object = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live_api.base + "/api/v1", headers=live_api.admin, timeout=30) as c:
        return await c.request(method, path.format(t=live_api.demo.tenant_id), json=body)


async def _wait_status(live_api: LiveApi, hook: str, status: str, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        page = (await _api(live_api, "GET", f"/tenants/{{t}}/webhooks/{hook}/deliveries")).json()
        if (page["items"] and page["items"][0]["status"] == status) or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.1)


async def test_a_failing_endpoint_is_retried_until_it_answers(
    live_api: LiveApi, worker: DeliveryWorker
) -> None:
    with receiver([500, 500, 200]) as rx:
        made = await _api(
            live_api, "POST", "/tenants/{t}/webhooks", {"url": rx.url, "events": ["call.ended"]}
        )
        assert made.status_code == 201, made.text
        hook, secret = made.json()["id"], made.json()["secret"]
        assert secret.startswith("whsec_") and made.json()["active_secrets"] == 1
        # The secret is shown once: reading the webhook back does not give it.
        assert "secret" not in (await _api(live_api, "GET", f"/tenants/{{t}}/webhooks/{hook}")).json()
        sent = await _api(live_api, "POST", f"/tenants/{{t}}/webhooks/{hook}/test")
        assert sent.status_code == 202, sent.text
        page = await _wait_status(live_api, hook, "delivered")
        got = rx.requests
    [delivery] = page["items"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["id"] == sent.json()["delivery_id"] and delivery["event_type"] == "webhook.test"
    log = delivery["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 500, 200]
    assert [a["number"] for a in log] == [1, 2, 3]
    assert log[0]["response"] == "status 500" and all(a["latency_ms"] >= 0 for a in log)
    # Three requests, each signed afresh; the same message id every time (receivers drop repeats).
    assert len(got) == 3
    assert {r.headers["webhook-id"] for r in got} == {delivery["msg_id"]}
    for r in got:
        assert verify_standard(secret, r.headers, r.body, now=time.time())
        assert verify_centrex(secret, r.headers[CENTREX_HEADER], r.body, now=time.time())
    # Backed off: the second retry waited longer than the first (0.3 s then 0.6 s, ±20 %).
    assert got[1].at - got[0].at >= 0.2 and got[2].at - got[1].at >= 0.45
    event = json.loads(got[0].body)
    assert event["type"] == "webhook.test" and event["tenant_id"] == live_api.demo.tenant_id
    assert event["data"] == {"webhook_id": hook}


async def test_410_gone_disables_the_endpoint(live_api: LiveApi, worker: DeliveryWorker) -> None:
    with receiver([410]) as rx:
        hook = (
            await _api(live_api, "POST", "/tenants/{t}/webhooks", {"url": rx.url, "events": ["*"]})
        ).json()["id"]
        await _api(live_api, "POST", f"/tenants/{{t}}/webhooks/{hook}/test")
        page = await _wait_status(live_api, hook, "failed")
        assert len(rx.requests) == 1
    [delivery] = page["items"]
    assert delivery["attempts"] == 1 and delivery["attempt_log"][0]["status_code"] == 410
    shown = (await _api(live_api, "GET", f"/tenants/{{t}}/webhooks/{hook}")).json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    again = await _api(live_api, "PATCH", f"/tenants/{{t}}/webhooks/{hook}", {"enabled": True})
    assert again.json()["enabled"] is True and again.json()["disabled_reason"] is None


async def test_rotation_signs_with_the_old_and_the_new_secret(
    live_api: LiveApi, worker: DeliveryWorker
) -> None:
    with receiver([200]) as rx:
        made = (
            await _api(live_api, "POST", "/tenants/{t}/webhooks", {"url": rx.url, "events": ["*"]})
        ).json()
        rotated = await _api(
            live_api, "POST", f"/tenants/{{t}}/webhooks/{made['id']}/rotate", {"grace_seconds": 3600}
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != made["secret"]
        assert (await _api(live_api, "GET", f"/tenants/{{t}}/webhooks/{made['id']}")).json()[
            "active_secrets"
        ] == 2
        await _api(live_api, "POST", f"/tenants/{{t}}/webhooks/{made['id']}/test")
        [req] = await asyncio.to_thread(rx.wait_for, lambda got: len(got) >= 1)
        # Rotating again with no grace ends both earlier secrets at once.
        await _api(live_api, "POST", f"/tenants/{{t}}/webhooks/{made['id']}/rotate", {"grace_seconds": 0})
        assert (await _api(live_api, "GET", f"/tenants/{{t}}/webhooks/{made['id']}")).json()[
            "active_secrets"
        ] == 1
    assert len(req.headers["webhook-signature"].split()) == 2
    assert req.headers[CENTREX_HEADER].count("v1=") == 2
    for secret in (made["secret"], new):
        assert verify_standard(secret, req.headers, req.body, now=time.time())
        assert verify_centrex(secret, req.headers[CENTREX_HEADER], req.body, now=time.time())


async def test_bad_subscriptions_are_refused_with_the_field(live_api: LiveApi) -> None:
    bad = await _api(
        live_api, "POST", "/tenants/{t}/webhooks", {"url": "http://x.example/h", "events": ["call.exploded"]}
    )
    assert bad.status_code == 422 and "call.exploded" in bad.text
    bad = await _api(live_api, "POST", "/tenants/{t}/webhooks", {"url": "ftp://x.example/h", "events": ["*"]})
    assert bad.status_code == 422 and "url" in bad.text
    missing = await _api(
        live_api, "GET", "/tenants/{t}/webhooks/00000000-0000-0000-0000-000000000000/deliveries"
    )
    assert missing.status_code == 404
