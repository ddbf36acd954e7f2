"""The calls the API places and controls (issue 16 §2): paced, placed, run, redirected, hung up.

The API (another thread, or the same loop under ``centrex serve``) writes the call's row (status
queued) and hands the call to the desk with ``submit``; every public method here is thread-safe.
The desk lives on the app server's loop: it paces API-originated calls per account (``cps`` calls
a second, Twilio's default 1, held across the nodes sharing the store: cpaas/calls/pacing.py;
excess waits in a queue of at most ``queue_max`` per account on this node, beyond
which ``submit`` says no and the API answers 429, Twilio code 20429), places each through the
switch (apps/outbound.py), and on answer runs the voice app (cpaas/voice/control.py
``run_voice_app``) on that leg with a ``CallControl`` whose ``dial`` bridges a second leg
(cpaas/calls/dial.py). A redirect replaces the running document; a hang-up ends the leg (or
cancels a queued or ringing call). The row follows: ringing, in-progress, then completed (with
its duration from answer), busy, no-answer, failed or canceled.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.calls import rows
from centrex.cpaas.calls.dial import DialParent, dial
from centrex.cpaas.calls.pacing import SharedPacer
from centrex.cpaas.voice.app_session import CallEnded, VoiceEnv
from centrex.cpaas.voice.control import AppStart, DialRequest, DialResult, VoiceCall
from centrex.cpaas.voice.fetch import API_VERSION, AppClient, FetchError
from centrex.cpaas.voice.records import VoiceRecords
from centrex.cpaas.voice.runner import APP_ERROR, Interpreter
from centrex.cpaas.voice.sounds import Sounds
from centrex.cpaas.voice.verbs import Document, Say, VerbError
from centrex.media.g711 import Pcm

if TYPE_CHECKING:
    from centrex.apps.outbound import OutboundCalls, OutboundLeg
    from centrex.apps.server import AppServer

log = logging.getLogger(__name__)


@dataclass
class Placement:
    """One API-originated call, as the API wrote it."""

    call: VoiceCall
    target: str  # the switch's target: an extension or an E.164 number
    start: AppStart
    timeout_s: int = 60  # Twilio's default Timeout
    time_limit_s: int = 14400  # Twilio's default TimeLimit: 4 hours


@dataclass(eq=False)
class LiveCall:
    placement: Placement
    state: str = "queued"  # queued, ringing, in-progress
    leg: OutboundLeg | None = None
    answered_at: datetime | None = None
    started_at: datetime = field(default_factory=rows.now)
    app: asyncio.Task[None] | None = None
    next_start: AppStart | None = None  # a redirect waiting to replace the running document
    hangup_wanted: bool = False
    recording: bool = False

    @property
    def sid(self) -> str:
        return self.placement.call.sid


@dataclass(frozen=True)
class LiveInfo:
    sid: str
    tenant_id: uuid.UUID
    from_number: str
    to_number: str
    direction: str
    status: str
    started_at: datetime
    answered_at: datetime | None


class LegControl:
    """``CallControl`` of an answered leg the app server placed (the interpreter's side)."""

    def __init__(self, desk: CallDesk, live: LiveCall) -> None:
        self.desk = desk
        self.live = live

    async def hangup(self) -> None:
        if self.live.leg is not None:
            self.live.leg.hangup()

    async def reject(self, reason: str) -> None:
        await self.hangup()  # already answered: rejecting is hanging up

    async def refer(self, target: str) -> int:
        leg = self.live.leg
        if leg is None or leg.call is None:
            return 481
        return await self.desk.server.refer(leg.call, target)

    async def dial(self, request: DialRequest) -> DialResult:
        leg = self.live.leg
        if leg is None:
            return DialResult("failed")
        call = self.live.placement.call
        parent = DialParent(
            uuid.UUID(str(call.tenant_id)), call.account_sid, call.sid, call.from_number, call.to_number
        )
        return await dial(
            self.desk.outbound, self.desk.sessions, leg.media, parent, request, self.desk.env.records
        )


class CallDesk:
    def __init__(
        self,
        server: AppServer,
        sessions: sessionmaker[Session],
        *,
        cps: float = 1.0,
        queue_max: int = 100,
        env: VoiceEnv | None = None,
    ) -> None:
        self.server = server
        self.sessions = sessions
        self.cps = max(cps, 0.01)
        self.queue_max = queue_max
        # The interpreter's world (HTTP client, TTS, the store): the app server's own when it has
        # one (voice-apps' AppServer.voice.env), else one of ours.
        self.env = env or default_env(server, sessions)
        self._lock = threading.Lock()
        self._calls: dict[str, LiveCall] = {}
        self._queues: dict[str, collections.deque[LiveCall]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._next_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # cps per account across the nodes sharing the store (None: this node's own spacing only)
        self.pacer: SharedPacer | None = SharedPacer(sessions)

    @property
    def outbound(self) -> OutboundCalls:
        return self.server.outbound

    def bind(self, loop: asyncio.AbstractEventLoop | None = None) -> CallDesk:
        """The loop the app server runs on (default: the running one)."""
        self._loop = loop or asyncio.get_running_loop()
        return self

    # -- thread-safe API ----------------------------------------------------------------------------
    def has_room(self, account_sid: str) -> bool:
        with self._lock:
            return self._queued(account_sid) < self.queue_max

    def _queued(self, account_sid: str) -> int:
        return sum(
            1
            for c in self._calls.values()
            if c.state == "queued" and c.placement.call.account_sid == account_sid
        )

    def submit(self, placement: Placement) -> bool:
        """Queue a call; False when the account's queue is full (429, Twilio 20429)."""
        with self._lock:
            if self._queued(placement.call.account_sid) >= self.queue_max:
                return False
            live = LiveCall(placement)
            self._calls[live.sid] = live
        self._call_soon(lambda: self._enqueue(live))
        return True

    def hangup(self, sid: str) -> bool:
        """End a live call (cancel it if queued or ringing); False: not live here."""
        with self._lock:
            live = self._calls.get(sid)
        if live is None:
            return False
        live.hangup_wanted = True
        self._call_soon(lambda: self._hangup(live))
        return True

    def redirect(self, sid: str, start: AppStart) -> bool:
        """Replace the running document of a live call (Twilio's Url/Twiml update)."""
        with self._lock:
            live = self._calls.get(sid)
        if live is None:
            return False
        live.next_start = start
        self._call_soon(lambda: self._restart(live))
        return True

    def record(self, sid: str, max_s: int) -> bool:
        """Record what the callee says from now until the call ends or ``max_s``; False: not
        answered here, or already recording."""
        with self._lock:
            live = self._calls.get(sid)
            if live is None or live.leg is None or live.recording:
                return False
            live.recording = True
        self._call_soon(lambda: self._spawn(self._record(live, max_s)))
        return True

    def live_calls(self, tenant_id: uuid.UUID) -> list[LiveInfo]:
        with self._lock:
            calls = [c for c in self._calls.values() if str(c.placement.call.tenant_id) == str(tenant_id)]
        return [
            LiveInfo(
                c.sid,
                tenant_id,
                c.placement.call.from_number,
                c.placement.call.to_number,
                c.placement.call.direction,
                c.state,
                c.started_at,
                c.answered_at,
            )
            for c in calls
        ]

    def is_live(self, sid: str) -> bool:
        with self._lock:
            return sid in self._calls

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Hang up every call (the app server is stopping)."""
        for live in list(self._calls.values()):
            self._hangup(live)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)

    # -- on the loop ---------------------------------------------------------------------------------
    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("the call desk is not bound to the app server's loop")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _enqueue(self, live: LiveCall) -> None:
        account = live.placement.call.account_sid
        self._queues.setdefault(account, collections.deque()).append(live)
        pump = self._pumps.get(account)
        if pump is None or pump.done():
            self._pumps[account] = asyncio.ensure_future(self._pump(account))

    async def _pump(self, account: str) -> None:
        """One account's queue, ``cps`` calls a second (the spacing is 1/cps)."""
        loop = asyncio.get_running_loop()
        queue = self._queues[account]
        while queue:
            wait = await self._slot(account, queue[0].placement.call.tenant_id) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not queue:  # the calls waiting were cancelled meanwhile
                break
            live = queue.popleft()
            live.state = "ringing"  # out of the queue: the INVITE leaves now (Twilio's "ringing")
            if live.hangup_wanted:
                await self._finish(live, "canceled")
                continue
            self._spawn(self._place(live))

    async def _slot(self, account: str, tenant_id: object) -> float:
        """When (the loop's time) the account's next call may leave: a slot reserved in the store,
        so the account's rate holds across the nodes sharing it (cpaas/calls/pacing.py); this
        node's own spacing if the store cannot be asked."""
        loop = asyncio.get_running_loop()
        gap = 1.0 / self.cps
        if self.pacer is not None:
            try:
                slot = await asyncio.to_thread(self.pacer.reserve, uuid.UUID(str(tenant_id)), gap)
                return loop.time() + max(0.0, (slot - rows.now()).total_seconds())
            except Exception:
                log.exception("cpaas.call.pacing_unavailable account=%s (paced on this node)", account)
        at = max(self._next_at.get(account, 0.0), loop.time())
        self._next_at[account] = at + gap
        return at

    async def _place(self, live: LiveCall) -> None:
        p = live.placement
        call = p.call
        try:
            leg = await self.outbound.place(
                uuid.UUID(str(call.tenant_id)),
                p.target,
                caller_id=call.from_number,
                caller_name=call.caller_name or "",
            )
        except Exception:
            log.exception("cpaas.call.place_failed sid=%s", live.sid)
            await self._finish(live, "failed")
            return
        live.leg, live.state = leg, "ringing"
        await self._status(live, "initiated", "ringing")
        ringing = asyncio.ensure_future(leg.ringing.wait())
        ringing.add_done_callback(
            lambda t: None if t.cancelled() else self._spawn(self._status(live, "ringing", "ringing"))
        )
        if live.hangup_wanted:
            leg.cancel()
        outcome = await leg.wait_answer(p.timeout_s)
        ringing.cancel()
        if outcome != "answered":
            await self._finish(live, "canceled" if live.hangup_wanted else outcome)
            return
        live.state, live.answered_at = "in-progress", rows.now()
        if live.hangup_wanted:
            leg.hangup()
        await self._run(live, leg, p)
        leg.hangup()
        with self._lock:
            self._calls.pop(live.sid, None)
        log.info("cpaas.call.end sid=%s status=completed", live.sid)

    async def _run(self, live: LiveCall, leg: OutboundLeg, p: Placement) -> None:
        """The app on the answered leg (the interpreter's run, cpaas/voice/runner.py, with its
        answered and completed status callbacks); a redirect replaces the document it runs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + p.time_limit_s
        control = LegControl(self, live)
        interp = Interpreter(p.call, leg.media, control, self.env)
        interp.answered_at = live.answered_at or rows.now()
        await interp.status("answered", "in-progress")
        final = "completed"
        start: AppStart | None = p.start
        try:
            while start is not None and not leg.ended:
                live.next_start = None
                live.app = asyncio.ensure_future(self._document(interp, start))
                gone = asyncio.ensure_future(leg.wait_ended())
                try:
                    await asyncio.wait(
                        {live.app, gone},
                        timeout=max(0.0, deadline - loop.time()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    gone.cancel()
                if not live.app.done():
                    live.app.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await live.app
                elif not live.app.cancelled() and live.app.exception() is not None:
                    log.warning("cpaas.call.app_failed sid=%s: %r", live.sid, live.app.exception())
                    final = "failed"
                start = live.next_start
                if loop.time() >= deadline:
                    break
        finally:
            leg.hangup()
            await interp.status("completed", final)

    @staticmethod
    async def _document(interp: Interpreter, start: AppStart) -> None:
        """One document and what it leads to (action URLs, Redirect) until it ends."""
        try:
            doc: Document | None = await interp.first_document(start, "in-progress")
            while doc is not None and not interp.media.closed.is_set():
                doc = await interp.execute(doc)
        except (FetchError, VerbError) as exc:
            await interp.notice(str(exc), code=getattr(exc, "code", None))
            await interp.prompt(Say(APP_ERROR), interrupt="")
        except CallEnded:  # the interpreter's <Hangup>
            pass

    async def _record(self, live: LiveCall, max_s: int) -> None:
        assert live.leg is not None
        media = live.leg.media
        frames: list[Pcm] = []
        started = rows.now()
        media.taps.append(frames.append)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(media.closed.wait(), max_s)
        finally:
            with contextlib.suppress(ValueError):
                media.taps.remove(frames.append)
            live.recording = False
        samples = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)
        if self.env.records is not None:
            # cpaas.txt §2.4.2 (i): kept 30 days like every CPaaS recording (voice-apps' retention job).
            await asyncio.to_thread(
                self.env.records.save_recording,
                live.placement.call,
                samples,
                started,
                "StartCallRecordingAPI",
            )

    def _restart(self, live: LiveCall) -> None:
        if live.app is not None and not live.app.done():
            live.app.cancel()  # _run starts live.next_start

    def _hangup(self, live: LiveCall) -> None:
        live.hangup_wanted = True
        queue = self._queues.get(live.placement.call.account_sid)
        if live.state == "queued" and queue is not None and live in queue:
            queue.remove(live)  # cancelled where it waits (Twilio: Status=canceled of a queued call)
            self._spawn(self._finish(live, "canceled"))
        elif live.leg is not None:
            live.leg.hangup()

    async def _finish(self, live: LiveCall, status: str) -> None:
        """A call that never ran its app: queued and cancelled, or busy, no-answer, failed."""
        with self._lock:
            self._calls.pop(live.sid, None)
        await self._status(live, "completed", status, ended=True)
        log.info("cpaas.call.end sid=%s status=%s", live.sid, status)

    async def _status(self, live: LiveCall, event: str, status: str, *, ended: bool = False) -> None:
        """The row's status (with the next SequenceNumber) and the status callback when the call
        subscribed to ``event`` (Twilio's initiated, ringing; answered and completed of an answered
        call are the interpreter's)."""
        call = live.placement.call
        when = rows.now()
        wanted = bool(call.status_callback) and event in call.status_callback_events

        def params_for(seq: int) -> dict[str, str]:
            params = {
                "CallSid": call.sid,
                "AccountSid": call.account_sid,
                "From": call.from_number,
                "To": call.to_number,
                "Caller": call.from_number,
                "Called": call.to_number,
                "CallStatus": "initiated" if event == "initiated" else status,  # Twilio's initiated event
                "Direction": call.direction,
                "ApiVersion": API_VERSION,
                "SequenceNumber": str(seq),
                "CallbackSource": "call-progress-events",
                "Timestamp": when.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            if ended:
                params["CallDuration"] = "0"
            return params

        seq = 0
        if self.env.records is not None:
            # Through the webhooks outbox with the status (retries, delivery log, in order).
            queued = wanted and self.env.outbox
            seq = await asyncio.to_thread(
                self.env.records.set_status,
                call,
                status,
                ended=when if ended else None,
                callback=params_for if queued else None,
            )
            if queued and seq >= 0:
                return
            seq = max(seq, 0)
        if not wanted:
            return
        assert call.status_callback is not None
        await self.env.client.notify(
            call.status_callback, call.status_callback_method, params_for(seq), call.auth_token
        )


def default_env(server: AppServer, sessions: sessionmaker[Session]) -> VoiceEnv:
    """The interpreter's world when the app server gives none: one HTTP client, espeak-ng or tones
    as the app server's prompts, the store for statuses, notices and recordings."""
    voice = getattr(server, "voice", None)  # voice-apps' AppServer.voice, once merged
    env = getattr(voice, "env", None)
    if isinstance(env, VoiceEnv):
        return env
    client = AppClient()
    tts = "tones" if server.config.prompts == "tones" else "auto"
    return VoiceEnv(client, Sounds(client.client, tts=tts), VoiceRecords(sessions, server.config.data_dir))
