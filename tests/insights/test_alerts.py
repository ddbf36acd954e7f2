"""Alert rules fire (cpaas.txt §2.2.3): a threshold crossed by the real-time figure e-mails the chosen
user through a real SMTP server (aiosmtpd) and reaches the tenant's webhook (signed, through the
outbox); it fires once while the figure stays over. A
designated field that changes (a number's message status) fires too; its first value is the
baseline."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from centrex.cpaas.delivery import DeliveryWorker
from centrex.cpaas.webhook_signing import new_secret, verify_standard
from centrex.insights.service import start_insights
from centrex.ops.mailer import Mailer, SmtpConfig
from centrex.store.db import transaction
from centrex.store.models import User
from centrex.store.models.insights import InsightsAlertFiring, InsightsAlertRule
from centrex.store.models.webhooks import WebhookEndpoint, WebhookSecret
from centrex.store.sealed import seal
from tests.cpaas.webhooks.receiver import Received, receiver
from tests.e911_store.servers import smtp_server

from .conftest import World

NUMBER = "+16175550199"


def ended(w: World, n: int, caller: str = "1001") -> None:
    for _ in range(n):
        w.bus.emit(
            w.tenant_id,
            "call.ended",
            {
                "call_id": f"c-{uuid.uuid4()}",
                "from": caller,
                "dialled": "+16175550100",
                "disposition": "busy",
            },
        )


async def wait_for(check, timeout_s: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        await asyncio.sleep(0.05)
    return check()


def firings(w: World, rule_id: uuid.UUID) -> list[InsightsAlertFiring]:
    with w.sessions() as s:
        return list(
            s.scalars(
                select(InsightsAlertFiring)
                .where(InsightsAlertFiring.rule_id == rule_id)
                .order_by(InsightsAlertFiring.fired_at)
            )
        )


async def test_a_threshold_and_a_field_change_notify_by_email_and_webhook(world: World) -> None:
    secret = new_secret()
    with smtp_server() as (mail, smtp_port), receiver([200]) as hook:
        with transaction(world.sessions) as s:
            pat = User(
                tenant_id=world.tenant_id, name="Pat Ops", extension="1001", email="pat@insight.example.com"
            )
            quiet = User(
                tenant_id=world.tenant_id, name="Quiet", extension="1002", email="quiet@insight.example.com"
            )
            s.add_all([pat, quiet])
            endpoint = WebhookEndpoint(
                tenant_id=world.tenant_id,
                url=hook.url,
                events=["insights.alert"],
                enabled=True,
                description="",
            )
            s.add(endpoint)
            s.flush()
            s.add(
                WebhookSecret(
                    tenant_id=world.tenant_id, endpoint_id=endpoint.id, secret_sealed=seal(s, secret)
                )
            )
            busy = InsightsAlertRule(
                tenant_id=world.tenant_id,
                name="Too many unanswered calls",
                kind="threshold",
                metric="calls.unanswered",
                window_minutes=5,
                op=">=",
                threshold=Decimal(3),
                notify_user_ids=[str(pat.id)],
                notify_webhook=True,
            )
            status = InsightsAlertRule(
                tenant_id=world.tenant_id,
                name="Customer line status",
                kind="change",
                event_type="message.*",
                field="status",
                party=NUMBER,
                notify_user_ids=[str(pat.id)],
                notify_webhook=False,
            )
            s.add_all([busy, status])
            s.flush()
            busy_id, status_id = busy.id, status.id
        world.bus.start()
        worker = DeliveryWorker(world.sessions, poll_s=0.1, schedule=[0.05] * 5)
        worker.start()
        mailer = Mailer(SmtpConfig("127.0.0.1", smtp_port, sender="insights@centrex.test"))
        insights = start_insights(world.bus, world.sessions, flush_s=0.1, alert_every_s=0.1, mailer=mailer)
        try:
            ended(world, 2)
            await asyncio.sleep(1.0)  # two: under the threshold, nothing fires
            assert firings(world, busy_id) == [] and mail.messages == []
            ended(world, 1)
            got = await wait_for(lambda: mail.messages)
            assert len(got) == 1
            message = got[0]
            assert message["To"] == "pat@insight.example.com"
            assert message["Subject"] == "Centrex Insights alert: Too many unanswered calls"
            assert "calls.unanswered count over the last 5 min is 3 (>= 3)" in message.get_content()

            def alert_posts(rx: list[Received]) -> list[dict]:  # type: ignore[type-arg]
                return [json.loads(r.body) for r in rx if json.loads(r.body)["type"] == "insights.alert"]

            posts = await asyncio.to_thread(hook.wait_for, lambda rx: len(alert_posts(rx)) >= 1, 30.0)
            (posted,) = alert_posts(posts)
            assert posted["data"]["rule"] == "Too many unanswered calls" and posted["data"]["value"] == "3"
            assert posted["tenant_id"] == str(world.tenant_id)
            assert verify_standard(secret, posts[0].headers, posts[0].body, now=time.time())

            ended(world, 2)  # still over: no second notification
            await asyncio.sleep(1.0)
            assert len(mail.messages) == 1 and len(firings(world, busy_id)) == 1
            (fired,) = await wait_for(lambda: [f for f in firings(world, busy_id) if f.emailed])
            assert fired.emailed == 1 and fired.email_detail == "250 accepted" and fired.webhook

            # A designated field: the status of the messages to one number.
            for status_value in ("delivered", "delivered", "undelivered"):
                world.bus.emit(
                    world.tenant_id,
                    f"message.{status_value}",
                    {"from": "+16175550001", "to": NUMBER, "status": status_value, "segments": 1},
                )
            world.bus.emit(  # another number's status is not watched
                world.tenant_id,
                "message.failed",
                {"from": "+16175550001", "to": "+16175550111", "status": "failed"},
            )
            got = await wait_for(lambda: mail.messages[1:])
            assert len(got) == 1
            assert "status of message.undelivered for +16175550199 changed from delivered to undelivered" in (
                got[0].get_content()
            )
            await asyncio.sleep(0.5)
            (changed,) = firings(world, status_id)
            assert (changed.previous, changed.value) == ("delivered", "undelivered")
            assert len(mail.messages) == 2
            assert all(env[1] == ["pat@insight.example.com"] for env in mail.envelopes)
            posts = list(hook.requests)
            assert len(alert_posts(posts)) == 1  # the change rule asked for e-mail only
        finally:
            await asyncio.to_thread(insights.stop)
            await worker.stop()
            world.bus.stop()
    with world.sessions() as s:
        rule = s.get(InsightsAlertRule, busy_id)
        assert rule is not None and rule.firing and rule.last_fired_at is not None
        assert rule.last_fired_at <= datetime.now(UTC)
