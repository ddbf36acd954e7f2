"""<Enqueue> and <Leave> (issue 16 §1). A tenant queue's name or extension hands the caller to the
switch by REFER (its call-centre queue has the call then); any other name is a Twilio-style queue
of the app server (queues.py), where the caller hears the wait URL's document until a
<Dial><Queue> takes them (dial_verbs.py), a <Leave> or a hang-up. The flows' enqueue-call uses
``hand_to_queue`` too (cpaas/flows/call_channel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from typing import Any

from centrex.cpaas.voice.app_session import AppSession, CallEnded, QueueLeft
from centrex.cpaas.voice.fetch import FetchError, absolute
from centrex.cpaas.voice.queues import AppQueues, Waiter, queue_sid
from centrex.cpaas.voice.verbs import Document, Enqueue, Hangup, Leave, Pause, Play, Redirect, Say

WAIT_VERBS = (Say, Play, Pause, Redirect, Hangup, Leave)  # what a wait URL's document may hold


class QueueVerbs(AppSession, ABC):
    """<Enqueue>. <Leave> in a wait document reaches here as QueueLeft (raised by runner.py)."""

    @abstractmethod
    async def execute(self, doc: Document) -> Document | None:
        """Run a document's verbs (the run loop's, runner.py): a wait URL's document runs there."""

    async def enqueue(self, e: Enqueue) -> Document | None:
        target = await self.env.queue_target(self.call, e.name) if self.env.queue_target else None
        if target is None and self.env.app_queues is not None:  # a Twilio-style queue of the app server
            return await self.wait_in_queue(e, self.env.app_queues)
        result = await self.hand_to_queue(e.name, "<Enqueue>", target=target)
        if result == "enqueued":
            raise CallEnded  # the switch has the caller now (the tenant queue's own music and agents)
        if e.action is None:
            return None
        return await self.fetch(e.action, e.method, self.params() | {"QueueResult": result, "QueueTime": "0"})

    async def hand_to_queue(self, name: str, what: str, *, target: str | None = None) -> str:
        """Hand the caller to the tenant's queue ``name`` (by REFER): "enqueued" (the switch has the
        call now), "error" (no such queue) or "system-error" (the switch refused), said in the log.
        ``target``: the queue's address when the caller already looked it up."""
        if target is None and self.env.queue_target:
            target = await self.env.queue_target(self.call, name)
        if target is None:
            await self.notice(f"{what}: the tenant has no queue named {name!r}", code=12200)
            return "error"
        status = await self.control.refer(target)
        if status == 202:
            return "enqueued"
        await self.notice(f"{what} {name!r}: the switch refused the queue ({status})", code=12200)
        return "system-error"

    async def wait_in_queue(self, e: Enqueue, queues: AppQueues) -> Document | None:
        """<Enqueue> to an app server queue (cpaas/voice/queues.py): wait, hearing the wait URL,
        until a <Dial><Queue> takes the caller (bridged), <Leave> (leave) or a hang-up; then the
        action URL with QueueResult, else the verb after the <Enqueue> (Twilio's)."""
        waiter = queues.join(self.call, self.media, e.name)
        music = asyncio.ensure_future(self._wait_music(e, queues, waiter))
        closed = asyncio.ensure_future(self.media.closed.wait())
        result = "hangup"
        try:
            watched: set[asyncio.Future[Any]] = {music, waiter.taken, closed}
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if waiter.taken.done():
                result = "bridged"
            elif music.done() and not music.cancelled():
                queues.leave(waiter, e.name)  # at once: no <Dial><Queue> may take it now
                exc = music.exception()
                if isinstance(exc, QueueLeft):
                    result = "leave"
                elif isinstance(exc, CallEnded):
                    raise CallEnded
                elif exc is not None:
                    raise exc
        finally:
            queues.leave(waiter, e.name)
            for task in (music, closed):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.media.end_stream()
        if result == "bridged":
            await waiter.bridged.wait()  # the other call bridges us until one of the two hangs up
        waited = str(int(time.monotonic() - waiter.since))
        params = self.params() | {
            "QueueResult": result,
            "QueueSid": queue_sid(self.call.tenant_id, e.name),
            "QueueTime": waited,
        }
        if e.action is None or self.media.closed.is_set():
            if e.action is not None:  # Twilio requests it and ignores the answer after a hang-up
                with contextlib.suppress(FetchError):
                    await self.env.client.send(
                        absolute(self.url, e.action), e.method, params, self.call.auth_token
                    )
            return None
        return await self.fetch(e.action, e.method, params)

    async def _wait_music(self, e: Enqueue, queues: AppQueues, waiter: Waiter) -> None:
        """The wait URL's document, again and again (Twilio's); without one, silence."""
        self._waiting = True
        try:
            while not self.media.closed.is_set():
                if not e.wait_url:
                    await asyncio.sleep(1.0)
                    continue
                position, size = queues.position(waiter, e.name)
                params = self.params() | {
                    "QueuePosition": str(position),
                    "QueueSid": queue_sid(self.call.tenant_id, e.name),
                    "QueueTime": str(int(time.monotonic() - waiter.since)),
                    "AvgQueueTime": str(queues.average_wait_s(self.call.tenant_id, e.name)),
                    "CurrentQueueSize": str(size),
                }
                try:
                    doc: Document | None = await self.env.client.document(
                        absolute(self.url, e.wait_url), "POST", params, self.call.auth_token
                    )
                except FetchError as exc:
                    await self.notice(f"wait URL: {exc}", code=exc.code, level="warning")
                    await asyncio.sleep(5.0)
                    continue
                empty = doc is not None and not doc.verbs
                while doc is not None and not self.media.closed.is_set():
                    doc = await self.execute(doc)
                if empty:  # an empty wait document: ask again in a second, not in a tight loop
                    await asyncio.sleep(1.0)
        finally:
            self._waiting = False
