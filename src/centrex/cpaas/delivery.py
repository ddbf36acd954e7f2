"""The delivery worker of the webhook outbox (cpaas/outbox.py): an asyncio task of `centrex serve`.

It claims the due rows (a lease, so several nodes share the outbox without sending an attempt
twice), sends them with one httpx.AsyncClient (connection reuse to a receiver; httpx is already
our HTTP client, for 911 notices and alarms), and writes the outcomes in one transaction per round.
Deliveries to one endpoint (a lane) go one at a time in the order they were queued (a receiver sees
a call's events in order when it answers them); endpoints are served side by side, up to
``concurrency`` requests at once. When an attempt fails, the rest of its lane waits with it (the
endpoint backs off as one and keeps its order); a lane still busy after ``round_s`` gives the rest
of its rows back, so one slow receiver holds up no other endpoint for long.
The store's work runs in a thread (``asyncio.to_thread``): the
event loop also carries SIP.

Woken at once when this process commits a new row; otherwise it looks every ``poll_s`` (rows
another node queued, retries that fell due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas import outbox
from centrex.cpaas.outbox import Outcome, Request
from centrex.cpaas.targets import refused_target
from centrex.store.db import transaction

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        timeout_s: float = 10.0,
        concurrency: int = 32,
        batch: int = 200,
        poll_s: float = 1.0,
        round_s: float = 5.0,
        block_private: bool = False,
        schedule: Sequence[float] = outbox.SCHEDULE_S,
    ) -> None:
        self.sessions = sessions
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.batch = batch
        self.poll_s = poll_s
        self.block_private = block_private  # cpaas/targets.py
        self.round_s = round_s  # a lane stops taking new requests after this: a slow one holds no one up
        self.schedule = tuple(schedule)
        self.sent = 0
        self.delivered = 0
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        self._client = httpx.AsyncClient(timeout=self.timeout_s, limits=limits, follow_redirects=False)
        outbox._wakers.append(self.wake)
        self._task = asyncio.create_task(self.run_forever())

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            outbox._wakers.remove(self.wake)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def wake(self) -> None:
        """From any thread: look at the outbox now."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store away for a moment: try again at the next poll
                log.exception("webhooks.delivery.round_failed")
                busy = False
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    # -- one round -----------------------------------------------------------------------------
    async def run_once(self) -> bool:
        """Claim what is due, send it, record the outcomes. True: a full batch (more may wait)."""
        lease_s = self.timeout_s * 3 + 30  # an attempt still running is never claimed again
        requests = await asyncio.to_thread(self._claim, lease_s)
        if not requests:
            return False
        lanes: dict[str, list[Request]] = defaultdict(list)
        for req in requests:
            lanes[req.lane].append(req)
        gate = asyncio.Semaphore(self.concurrency)
        outcomes: list[Outcome] = []
        held: list[Request] = []  # behind a failure in their lane: they wait with it
        released: list[Request] = []  # the round's time ran out: due again at once
        deadline = time.monotonic() + self.round_s

        async def lane(items: list[Request]) -> None:
            for i, req in enumerate(items):
                if time.monotonic() > deadline:
                    released.extend(items[i:])
                    return
                async with gate:
                    outcome = await self.send(req)
                outcomes.append(outcome)
                if not outcome.delivered:
                    held.extend(items[i + 1 :])
                    return

        await asyncio.gather(*(lane(items) for items in lanes.values()))
        await asyncio.to_thread(self._record, outcomes, held, released)
        return len(requests) >= self.batch or bool(released)

    def _claim(self, lease_s: float) -> list[Request]:
        with transaction(self.sessions) as session:
            return outbox.claim_due(session, datetime.now(UTC), self.batch, lease_s)

    def _record(self, outcomes: list[Outcome], held: list[Request], released: list[Request]) -> None:
        with transaction(self.sessions) as session:
            outbox.record(session, outcomes, datetime.now(UTC), self.schedule, held=held, released=released)

    async def send(self, req: Request) -> Outcome:
        assert self._client is not None
        at = datetime.now(UTC)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        text = ""
        refused = await refused_target(req.url, self.block_private)
        if refused is not None:
            log.warning("webhooks.delivery.refused url=%s: %s", req.url, refused)
            return Outcome(req, at, None, 0, refused, "", final=True)
        try:
            response = await self._client.request(
                req.method, req.url, content=req.body or None, headers=req.headers
            )
            status = response.status_code
            text = response.text[: outbox.SNIPPET]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency = round((time.perf_counter() - started) * 1000)
        self.sent += 1
        if status is not None and 200 <= status < 300:
            self.delivered += 1
        else:
            log.info(
                "webhooks.delivery.failed url=%s attempt=%d status=%s error=%s",
                req.url,
                req.attempt,
                status,
                error,
            )
        return Outcome(req, at, status, latency, error, text)
