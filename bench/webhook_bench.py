"""Webhook deliveries per second to a loopback receiver (prints figures; never a timed test).

    .venv/bin/python bench/webhook_bench.py [--events 2000] [--endpoints 4] [--db sqlite|<url>]

Makes a tenant with ``--endpoints`` subscriptions to every event, all pointing at one receiver
(uvicorn on 127.0.0.1, answering 200 at once), emits ``--events`` call events through the event
bus (cpaas/events.py: queue → outbox rows in a thread), and times the delivery worker
(cpaas/delivery.py) until every delivery is ``delivered``: signing, sending, the attempt log and
the state written back. Prints events/s into the outbox and deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import func, select

from centrex.calls.events import CallAnswered
from centrex.cpaas.delivery import DeliveryWorker
from centrex.cpaas.events import EventBus
from centrex.cpaas.webhook_signing import new_secret
from centrex.store import secretbox
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models import Tenant
from centrex.store.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret
from centrex.store.sealed import seal


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def serve_receiver(port: int) -> None:
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(events: int, endpoints: int, url: str) -> None:
    port = free_port()
    # The receiver in its own process: in ours it would share the GIL with the worker.
    receiver = multiprocessing.Process(target=serve_receiver, args=(port,), daemon=True)
    receiver.start()
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        tenant = Tenant(name="Bench", sip_domain=f"bench-{uuid.uuid4().hex[:6]}.example.com")
        s.add(tenant)
        s.flush()
        for i in range(endpoints):
            hook = WebhookEndpoint(
                tenant_id=tenant.id, url=f"http://127.0.0.1:{port}/h{i}", events=["*"], description=""
            )
            s.add(hook)
            s.flush()
            s.add(
                WebhookSecret(tenant_id=tenant.id, endpoint_id=hook.id, secret_sealed=seal(s, new_secret()))
            )
        tenant_id = tenant.id
    bus = EventBus(sessions)
    bus.start()
    started = time.perf_counter()
    now = datetime.now(UTC)
    for _ in range(events):
        bus.call_event(CallAnswered(uuid.uuid4(), tenant_id, "1002", now))
    bus.drain(600)
    queued = time.perf_counter() - started
    total = events * endpoints
    worker = DeliveryWorker(sessions, poll_s=0.05)
    worker.start()
    started = time.perf_counter()
    while worker.delivered < total:
        await asyncio.sleep(0.05)
    # Until the last outcomes are written back.
    while True:
        with sessions() as s:
            left = s.scalar(select(func.count()).where(WebhookDelivery.status != "delivered"))
        if not left:
            break
        await asyncio.sleep(0.05)
    sent = time.perf_counter() - started
    await worker.stop()
    bus.stop()
    receiver.terminate()
    receiver.join(5)
    engine.dispose()
    print(f"database: {engine.dialect.name}; {events} events x {endpoints} endpoints = {total} deliveries")
    print(f"events into the outbox: {events / queued:,.0f}/s ({queued:.2f} s)")
    print(f"deliveries (signed, sent, logged): {total / sent:,.0f}/s ({sent:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    secretbox.configure(str(tmp / "secret.key"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if args.db == "sqlite" else args.db
    asyncio.run(run(args.events, args.endpoints, url))


if __name__ == "__main__":
    main()
