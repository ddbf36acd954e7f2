"""Other ways into the outbox: a voicemail left becomes voicemail.left for the tenant's webhook
(and nothing for a tenant without one), and a status callback queued by another part of CPaaS
with ``signing="twilio"`` reaches its URL with an X-Twilio-Signature that the official `twilio`
package's RequestValidator accepts."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from centrex.apps.vm_store import VoicemailStore
from centrex.cpaas import events, outbox
from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.delivery import DeliveryWorker
from centrex.cpaas.events import EventBus
from centrex.media.tones import sine
from centrex.ops.demo import DemoResult, seed_demo
from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import JobContext
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import User
from centrex.store.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from .receiver import receiver


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], DemoResult]]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
    yield sessions, demo
    engine.dispose()


def test_a_voicemail_left_reaches_the_outbox(
    store: tuple[sessionmaker[Session], DemoResult], tmp_path: Path
) -> None:
    sessions, demo = store
    tenant_id = uuid.UUID(demo.tenant_id)
    with transaction(sessions) as s:
        s.add(
            WebhookEndpoint(tenant_id=tenant_id, url="https://crm.example.com/vm", events=["voicemail.left"])
        )
        user_id = s.scalars(
            select(User.id).where(User.tenant_id == tenant_id).order_by(User.extension)
        ).first()
    assert user_id is not None
    bus = EventBus(sessions)
    bus.start()
    events.install(bus)
    try:
        vm = VoicemailStore(sessions, tmp_path)
        box = vm.mailbox(tenant_id, user_id)
        assert box is not None
        call_id = uuid.uuid4()
        message = vm.add_message(
            box,
            sine(440.0, 1000),
            caller="+12175550100",
            caller_name="Pat Caller",
            call_id=call_id,
            reason="no-answer",
            received_at=datetime.now(UTC),
        )
        assert bus.drain(10)
    finally:
        events.install(None)
        bus.stop()
    with sessions() as s:
        [row] = s.scalars(select(WebhookDelivery)).all()
    event = json.loads(row.body)
    assert (row.event_type, row.status, row.signing) == ("voicemail.left", "pending", "standard")
    assert event["type"] == "voicemail.left" and event["tenant_id"] == demo.tenant_id
    assert event["data"]["message_id"] == str(message.id) and event["data"]["call_id"] == str(call_id)
    assert (event["data"]["caller"], event["data"]["duration_ms"]) == ("+12175550100", 1000)
    assert event["sequence"] == 1 and row.msg_id == event["id"]


def test_events_of_a_tenant_without_webhooks_cost_nothing(
    store: tuple[sessionmaker[Session], DemoResult],
) -> None:
    sessions, demo = store
    bus = EventBus(sessions)
    bus.refresh()
    bus.emit(uuid.UUID(demo.tenant_id), "call.started", {"call_id": "x"}, subject="x")
    assert bus.emitted == 0  # dropped before any payload or queue


async def test_a_twilio_signed_status_callback(store: tuple[sessionmaker[Session], DemoResult]) -> None:
    sessions, demo = store
    tenant_id = uuid.UUID(demo.tenant_id)
    with transaction(sessions) as s:
        token = ensure_account(s, tenant_id).auth_token
    worker = DeliveryWorker(sessions, poll_s=0.1, schedule=(0.2,) * 7)
    worker.start()
    try:
        with receiver([200], path="/status?app=1") as rx:
            form = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "SequenceNumber": "3"}
            with transaction(sessions) as s:
                outbox.enqueue(
                    s, tenant_id=tenant_id, url=rx.url, form=form, signing="twilio", kind="status_callback"
                )
            deadline = time.monotonic() + 30
            while not rx.requests and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            [req] = rx.requests
    finally:
        await worker.stop()
    params = dict(parse_qsl(req.body.decode()))
    assert params == form and req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(token).validate(rx.url, params, req.headers["X-Twilio-Signature"])
    assert not RequestValidator("0" * 32).validate(rx.url, params, req.headers["X-Twilio-Signature"])


def test_the_retention_job_deletes_deliveries_finished_over_30_days_ago(
    store: tuple[sessionmaker[Session], DemoResult],
) -> None:
    sessions, demo = store
    tenant_id = uuid.UUID(demo.tenant_id)
    now = datetime.now(UTC)
    ids = {}
    with transaction(sessions) as s:
        for name, status, age in (
            ("old-delivered", "delivered", 31),
            ("old-failed", "failed", 31),
            ("old-pending", "pending", 31),
            ("recent-delivered", "delivered", 29),
        ):
            ids[name] = outbox.enqueue(
                s, tenant_id=tenant_id, url="https://x.example/h", json_body={}, signing="none"
            )
            s.flush()
            row = s.get(WebhookDelivery, ids[name])
            assert row is not None
            row.status = status
            s.flush()
            s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == ids[name])
                .values(updated_at=now - timedelta(days=age))
            )
        s.add(
            WebhookAttempt(
                tenant_id=tenant_id,
                delivery_id=ids["old-failed"],
                number=1,
                at=now,
                latency_ms=1,
                response="",
            )
        )
    report = builtin_registry().get("webhook-retention").run(JobContext(sessions=sessions, now=now))
    assert report.counts["deleted"] == 2
    with sessions() as s:
        left = set(s.scalars(select(WebhookDelivery.id)))
        assert s.scalars(select(WebhookAttempt)).all() == []
    assert left == {ids["old-pending"], ids["recent-delivered"]}


async def test_a_failing_endpoint_waits_in_order_and_holds_up_no_other(
    store: tuple[sessionmaker[Session], DemoResult],
) -> None:
    sessions, demo = store
    tenant_id = uuid.UUID(demo.tenant_id)
    worker = DeliveryWorker(sessions, poll_s=0.1, schedule=(1.5,) * 7)
    with receiver([500, 200]) as failing, receiver([200]) as healthy:
        with transaction(sessions) as s:
            for n in (1, 2, 3):
                outbox.enqueue(s, tenant_id=tenant_id, url=failing.url, json_body={"n": n}, signing="none")
                outbox.enqueue(s, tenant_id=tenant_id, url=healthy.url, json_body={"n": n}, signing="none")
        worker.start()
        try:
            got_healthy = await asyncio.to_thread(healthy.wait_for, lambda got: len(got) >= 3, 30.0)
            first_round = await asyncio.to_thread(failing.wait_for, lambda got: len(got) >= 1, 30.0)
            got_failing = await asyncio.to_thread(failing.wait_for, lambda got: len(got) >= 4, 30.0)
            # The receiver has answered the last one; the worker records it just after.
            for _ in range(100):
                with sessions() as s:
                    pending = select(WebhookDelivery).where(WebhookDelivery.status == "pending")
                    if not s.scalars(pending).all():
                        break
                await asyncio.sleep(0.1)
        finally:
            await worker.stop()
    assert [json.loads(r.body)["n"] for r in got_healthy] == [1, 2, 3]
    # The failing receiver got one request while the healthy one got all three: the rest waited.
    assert [json.loads(r.body)["n"] for r in first_round] == [1]
    # Then, once it answers, all of them in their order, the first one again first.
    assert [json.loads(r.body)["n"] for r in got_failing] == [1, 1, 2, 3]
    assert got_failing[1].at - got_failing[0].at >= 1.0
    with sessions() as s:
        assert {row.status for row in s.scalars(select(WebhookDelivery))} == {"delivered"}
        attempts = {
            (json.loads(row.body)["n"], row.url == failing.url): row.attempts
            for row in s.scalars(select(WebhookDelivery))
        }
    assert attempts[(1, True)] == 2 and attempts[(2, True)] == 1 and attempts[(3, True)] == 1


async def test_metadata_and_with_the_setting_private_addresses_are_refused(
    store: tuple[sessionmaker[Session], DemoResult],
) -> None:
    sessions, demo = store
    tenant_id = uuid.UUID(demo.tenant_id)
    with receiver([200]) as rx:
        with transaction(sessions) as s:
            metadata = outbox.enqueue(
                s,
                tenant_id=tenant_id,
                url="http://169.254.169.254/latest/meta-data/",
                json_body={},
                signing="none",
            )
            loopback = outbox.enqueue(s, tenant_id=tenant_id, url=rx.url, json_body={}, signing="none")
        worker = DeliveryWorker(sessions, poll_s=0.1, block_private=True, schedule=(0.2,) * 7)
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with sessions() as s:
                    if {r.status for r in s.scalars(select(WebhookDelivery))} == {"failed"}:
                        break
                await asyncio.sleep(0.1)
        finally:
            await worker.stop()
        assert rx.requests == []  # the loopback receiver was never asked
    with sessions() as s:
        rows = {r.id: r for r in s.scalars(select(WebhookDelivery))}
    assert rows[metadata].status == "failed" and rows[metadata].attempts == 1
    assert "169.254.169.254 is a link-local address" in (rows[metadata].last_error or "")
    assert rows[loopback].status == "failed" and "webhook_block_private" in (rows[loopback].last_error or "")


def test_which_addresses_are_refused_by_default() -> None:
    from ipaddress import ip_address

    from centrex.cpaas.targets import refused_address

    for always in ("169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0"):
        assert refused_address(ip_address(always), False) is not None, always
    for allowed in ("127.0.0.1", "10.1.2.3", "192.168.1.10", "203.0.113.7", "2001:db8::1"):
        assert refused_address(ip_address(allowed), False) is None, allowed
    for private in ("127.0.0.1", "10.1.2.3", "fd00::1"):
        assert refused_address(ip_address(private), True) is not None, private
