"""A real webhook delivery worker (cpaas/delivery.py) for tests whose status callbacks go through
the outbox: started on the running loop, and stopped only once nothing is left pending (or after a
timeout), so every callback queued during the test has been sent."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.delivery import DeliveryWorker
from centrex.store.models.webhooks import WebhookDelivery

FAST: tuple[float, ...] = (0.3, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0)


def start_worker(sessions: sessionmaker[Session], schedule: Sequence[float] = FAST) -> DeliveryWorker:
    worker = DeliveryWorker(sessions, poll_s=0.1, timeout_s=5.0, schedule=schedule)
    worker.start()
    return worker


def pending(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).where(WebhookDelivery.status == "pending")) or 0)


async def drain_and_stop(worker: DeliveryWorker, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and await asyncio.to_thread(pending, worker.sessions):
        await asyncio.sleep(0.1)
    await worker.stop()


@contextlib.contextmanager
def worker_thread(
    sessions: sessionmaker[Session], schedule: Sequence[float] = FAST
) -> Iterator[DeliveryWorker]:
    """The worker on a loop of its own thread, for synchronous tests and fixtures (a live API in a
    thread): drained and stopped on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-outbox-worker", daemon=True)
    thread.start()

    async def start() -> DeliveryWorker:
        return start_worker(sessions, schedule)

    worker = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield worker
    finally:
        asyncio.run_coroutine_threadsafe(drain_and_stop(worker), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
