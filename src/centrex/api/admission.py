"""Admission: at most `limit` requests inside the API at once; the rest wait briefly or get 503.

Why this removes the deadlock of fastapi/fastapi#3205 (issue 14): a request's session holds one
pooled connection from its first query until its dependency exits, and between those points it
needs worker threads (each sync dependency, the endpoint, the response check) from AnyIO's shared
limiter (40 tokens). Unbounded, 40 requests can each hold a thread while waiting for a connection
that is held by requests waiting for a thread: neither side ever moves. With admission,

- at most `limit` requests hold or wait for a connection, and `limit` is below the pool's size
  (make_engine), so a request's wait for a connection is only for one that a running request will
  give back — never for one held by a request that cannot run;
- at most `limit` requests want a thread, and `limit` is below the thread limiter's 40 tokens, so a
  request that holds a connection always gets its next thread.

So every admitted request finishes. The rest queue here, on the event loop, holding nothing: a
request that cannot be admitted within `max_wait`, or that finds `queue` requests already waiting,
is answered 503 at once with Retry-After, so past saturation the API sheds load and recovers the
moment load drops. /healthz is exempt so a load balancer still sees a live service.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class AdmissionConfig:
    limit: int = 8  # requests inside at once; below the pool size and the 40 worker threads
    # Requests waiting for a place before new ones are refused at once. Short on purpose: a line
    # longer than a fraction of a second of work only adds latency to what is served, and a
    # client's backlog drains only if the refusals come at once (bench/api_bench.py at 1,000/s).
    queue: int = 32
    max_wait: float = 0.25  # seconds a request may wait for a place


class Gate:
    """The places and the line; one per application, on the event loop (no lock needed)."""

    def __init__(self, config: AdmissionConfig) -> None:
        self.config = config
        self.inside = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.shed = 0  # requests answered 503 here since start (shown by /healthz)

    async def enter(self) -> bool:
        if self.inside < self.config.limit and not self.waiting:
            self.inside += 1
            return True
        if len(self.waiting) >= self.config.queue:
            return False
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(place)
        try:
            await asyncio.wait_for(asyncio.shield(place), self.config.max_wait)
            return True  # leave() handed us its place (inside was not decremented)
        except TimeoutError:
            if place.done():  # handed over just as the wait ran out: keep it
                return True
            self.waiting.remove(place)
            return False
        except asyncio.CancelledError:
            if place.done():
                self.leave()
            else:
                self.waiting.remove(place)
            raise

    def leave(self) -> None:
        # Hand the place straight to the oldest waiter (first come, first served), else free it.
        while self.waiting:
            place = self.waiting.popleft()
            if not place.done():
                place.set_result(None)
                return
        self.inside -= 1


class Admission:
    """ASGI middleware: every HTTP request but the exempt paths passes the gate."""

    def __init__(self, app: ASGIApp, gate: Gate, exempt: tuple[str, ...] = ("/healthz",)) -> None:
        self.app = app
        self.gate = gate
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            self.gate.shed += 1
            await _overloaded(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()


BODY = json.dumps(
    {"error": "overloaded", "message": "the service is at capacity; retry after a second"}
).encode()


async def _overloaded(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
