"""Twilio-style queues on the app server (issue 16 §1): ``<Enqueue>`` to a name that is not one of
the tenant's call-centre queues, ``<Leave>`` in its wait URL, and ``<Dial><Queue>`` that answers the
caller waiting longest.

The tenant's call-centre queues (pbx/queues.py, with agents, music and announcements) keep taking
``<Enqueue>`` by REFER (queue_verbs.py). Any other name is a queue of the app server, made on first use as
Twilio's are: the caller stays on the app server, hears the wait URL's document again and again
(Twilio's parameters QueuePosition, QueueSid, QueueTime, AvgQueueTime, CurrentQueueSize), and
leaves the queue

- ``bridged``: another call's ``<Dial><Queue>name</Queue></Dial>`` took it; the two are bridged on
  the app server until one hangs up (then the caller's document goes on after the <Enqueue>);
- ``leave``: its wait URL answered ``<Leave>``: the document goes on after the <Enqueue>;
- ``hangup``: the caller hung up.

A queue lives in one app server's memory (a node's, like the PBX's own queue waiting lists,
docs/scale-out.md "What is owned"): a ``<Dial><Queue>`` finds the callers waiting on its node.
"""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from centrex.cpaas.sids import sid_of

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia
    from centrex.cpaas.voice.control import VoiceCall

QUEUES = uuid.UUID("0b9e3c57-5a0e-4f7e-9a55-2a0a7f6a3d21")


def queue_sid(tenant_id: object, name: str) -> str:
    return sid_of("QU", uuid.uuid5(QUEUES, f"{tenant_id}:{name}"))


@dataclass(eq=False)
class Waiter:
    call: VoiceCall
    media: CallMedia
    since: float = field(default_factory=time.monotonic)
    taken: asyncio.Future[CallMedia] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    bridged: asyncio.Event = field(default_factory=asyncio.Event)


class AppQueues:
    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], collections.deque[Waiter]] = {}
        self._arrived: dict[tuple[str, str], asyncio.Event] = {}
        self._waited: dict[tuple[str, str], list[float]] = {}

    def _key(self, tenant_id: object, name: str) -> tuple[str, str]:
        return (str(tenant_id), name)

    def join(self, call: VoiceCall, media: CallMedia, name: str) -> Waiter:
        key = self._key(call.tenant_id, name)
        waiter = Waiter(call, media)
        self._queues.setdefault(key, collections.deque()).append(waiter)
        self._arrived.setdefault(key, asyncio.Event()).set()
        return waiter

    def leave(self, waiter: Waiter, name: str) -> None:
        key = self._key(waiter.call.tenant_id, name)
        queue = self._queues.get(key)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
        self._waited.setdefault(key, []).append(time.monotonic() - waiter.since)
        del self._waited[key][:-100]

    def position(self, waiter: Waiter, name: str) -> tuple[int, int]:
        """(QueuePosition from 1, CurrentQueueSize)."""
        queue = self._queues.get(self._key(waiter.call.tenant_id, name)) or collections.deque()
        return (list(queue).index(waiter) + 1 if waiter in queue else 0), len(queue)

    def average_wait_s(self, tenant_id: object, name: str) -> int:
        waited = self._waited.get(self._key(tenant_id, name)) or [0.0]
        return int(sum(waited) / len(waited))

    def size(self, tenant_id: object, name: str) -> int:
        return len(self._queues.get(self._key(tenant_id, name)) or ())

    async def take(self, tenant_id: object, name: str, media: CallMedia, timeout_s: float) -> Waiter | None:
        """The caller waiting longest in ``name`` (waiting up to ``timeout_s`` for one), told that
        ``media`` took it; None: nobody came, or the one taking hung up."""
        key = self._key(tenant_id, name)
        deadline = time.monotonic() + timeout_s
        while not media.closed.is_set():
            queue = self._queues.get(key)
            while queue:
                waiter = queue.popleft()
                if not waiter.media.closed.is_set() and not waiter.taken.done():
                    waiter.taken.set_result(media)
                    return waiter
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            arrived = self._arrived.setdefault(key, asyncio.Event())
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), min(left, 1.0))
            except TimeoutError:
                continue
        return None


async def bridge(a: CallMedia, b: CallMedia, time_limit_s: int) -> None:
    """Each side's audio to the other until either hangs up or ``time_limit_s`` passes (the same
    bridge as cpaas/calls/dial.py's, kept here so voice/ does not import calls/)."""
    a.end_stream()
    b.end_stream()
    a.on_audio = b.send_stream_frame
    b.on_audio = a.send_stream_frame
    ends = [asyncio.ensure_future(a.closed.wait()), asyncio.ensure_future(b.closed.wait())]
    try:
        await asyncio.wait(ends, timeout=max(1, time_limit_s), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in ends:
            task.cancel()
        a.on_audio = None
        b.on_audio = None
        a.end_stream()
        b.end_stream()
