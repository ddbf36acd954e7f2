"""The voice-app interpreter: runs a document's verbs on one call (issue 16 §1).

Semantics are Twilio's: verbs run in order; a verb with an action URL (Gather, Record, Dial,
Enqueue) requests it with its results, and the document returned **replaces** the rest of the current
one; Redirect does the same unconditionally; when the verbs run out the call is hung up. A failed
request of the application's documents (connection, non-2xx, bad content type, unparsable or
unknown verb) tries the fallback URL; if that fails too, the caller hears "an application error has
occurred" and the call ends, with the error in the call's log (cpaas_call_notices).

Status callbacks (initiated/ringing/answered/completed per the call's subscription) carry a per-call
SequenceNumber from 0, CallDuration on completion; they are queued in the webhooks outbox with
the status change (retried with back-off, in the delivery log; cpaas/voice/records.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from centrex.apps.prompts import beep
from centrex.cpaas.voice.control import AppStart, CallControl, DialRequest, DialResult, VoiceCall
from centrex.cpaas.voice.emergency import REFUSAL, is_emergency
from centrex.cpaas.voice.fetch import API_VERSION, AppClient, FetchError, absolute
from centrex.cpaas.voice.jsonverbs import parse_document
from centrex.cpaas.voice.queues import AppQueues, Waiter, bridge, queue_sid
from centrex.cpaas.voice.sounds import AudioError, Sounds
from centrex.cpaas.voice.verbs import (
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Message,
    Pause,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Say,
    Verb,
    VerbError,
)
from centrex.media.g711 import Pcm
from centrex.media.tones import dtmf_tone, silence
from centrex.store.types import utcnow

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia
    from centrex.cpaas.voice.records import VoiceRecords

log = logging.getLogger(__name__)

APP_ERROR = "We are sorry, an application error has occurred. Goodbye."
DIGITS = "0123456789*#"
MAX_DOCUMENTS = 500  # documents one call may fetch (a Redirect loop ends here, not never)


@dataclass
class VoiceEnv:
    """What the app server gives every interpreter: the HTTP client, the audio, the store, and the
    app server's rooms and queues."""

    client: AppClient
    sounds: Sounds
    records: VoiceRecords | None = None
    recording_url: Callable[[VoiceCall, str], str] = lambda call, sid: sid
    # A conference room by name: runs the caller in it until they leave (apps/conference.py).
    conference: Callable[[CallMedia, VoiceCall, str], Awaitable[None]] | None = None
    # A tenant queue's REFER target by the <Enqueue> name (its name or extension), or None.
    queue_target: Callable[[VoiceCall, str], Awaitable[str | None]] | None = None
    # Twilio-style queues of the app server: <Enqueue> to another name, <Leave>, <Dial><Queue>.
    app_queues: AppQueues | None = None
    # <Message>: the messaging part's send function (after merge); None: refused with a notice.
    send_message: Callable[[VoiceCall, Message], Awaitable[str]] | None = None
    # Status callbacks through the webhooks outbox (retries, delivery log); False: posted directly.
    outbox: bool = True
    events: list[tuple[str, str]] = field(default_factory=list)  # (event, url) posted, for tests


class _End(Exception):
    pass


class _Leave(Exception):
    """<Leave> in a queue's wait document."""


WAIT_VERBS = (Say, Play, Pause, Redirect, Hangup, Leave)  # what a wait URL's document may hold


@dataclass(frozen=True, slots=True)
class Captured:
    """A recording taken on the call: its sid (RE…, "" if not stored), length, the finish key."""

    sid: str
    duration_s: int
    digit: str
    hung_up: bool


class Interpreter:
    def __init__(
        self, call: VoiceCall, media: CallMedia | None, control: CallControl | None, env: VoiceEnv
    ) -> None:
        self.call = call
        self._media = media
        self._control = control
        self.env = env
        self.url: str | None = None  # the current document's URL (base of relative action URLs)
        self.start: AppStart | None = None
        self._posting: asyncio.Future[None] | None = None
        self.answered_at = utcnow()
        self.fetched = 0
        self._waiting = False  # running a queue's wait document

    def attach(self, media: CallMedia, control: CallControl) -> None:
        """The call was answered: its media and control (the first document was fetched before)."""
        self._media, self._control = media, control

    @property
    def media(self) -> CallMedia:
        assert self._media is not None, "the interpreter runs on an answered call"
        return self._media

    @property
    def control(self) -> CallControl:
        assert self._control is not None, "the interpreter runs on an answered call"
        return self._control

    async def abandoned(self) -> None:
        """The caller hung up before the call was answered: Twilio's no-answer."""
        await self.status("completed", "no-answer")
        await self.flush()

    async def fail(self, exc: Exception) -> None:
        """No first document: the caller hears the application error, the call ends."""
        self.answered_at = utcnow()
        await self.status("answered", "in-progress")
        await self.notice(str(exc), code=getattr(exc, "code", None))
        await self._say_plain(APP_ERROR)
        with contextlib.suppress(Exception):
            await self.control.hangup()
        await self.status("completed", "completed")
        await self.flush()

    # -- requests ---------------------------------------------------------------------------------
    def params(self, status: str = "in-progress") -> dict[str, str]:
        c = self.call
        p = {
            "CallSid": c.sid,
            "AccountSid": c.account_sid,
            "From": c.from_number,
            "To": c.to_number,
            "Caller": c.from_number,
            "Called": c.to_number,
            "CallStatus": status,
            "Direction": c.direction,
            "ApiVersion": API_VERSION,
        }
        if c.caller_name:
            p["CallerName"] = c.caller_name
        if c.parent_call_sid:
            p["ParentCallSid"] = c.parent_call_sid
        return p

    async def first_document(self, start: AppStart, status: str = "ringing") -> Document:
        """The call's first document: inline, or fetched from the voice URL (fallback on failure).
        Raises FetchError/VerbError when neither gives one."""
        self.start = start
        if start.document is not None and not start.url:
            return parse_document(start.document)
        if not start.url:
            raise FetchError("the application has neither a voice URL nor a document", 21205)
        return await self.fetch(start.url, start.method, self.params(status), fallback=True)

    async def fetch(
        self, url: str, method: str, params: dict[str, str], *, fallback: bool = True
    ) -> Document:
        self.fetched += 1
        if self.fetched > MAX_DOCUMENTS:
            raise FetchError(f"more than {MAX_DOCUMENTS} documents on one call", 12100)
        url = absolute(self.url, url)
        try:
            doc = await self.env.client.document(url, method, params, self.call.auth_token)
            self.url = url
            return doc
        except FetchError as exc:
            start = self.start
            if not fallback or start is None or not start.fallback_url:
                raise
            await self.notice(f"{exc} (fallback URL used)", code=exc.code, level="warning")
            doc = await self.env.client.document(
                start.fallback_url, start.fallback_method, params, self.call.auth_token
            )
            self.url = start.fallback_url
            return doc

    async def notice(self, message: str, *, code: int | None = None, level: str = "error") -> None:
        log.log(
            logging.WARNING if level != "info" else logging.INFO,
            "cpaas.voice call=%s code=%s %s",
            self.call.sid,
            code,
            message,
        )
        if self.env.records is not None:
            await asyncio.to_thread(self.env.records.notice, self.call, message, level=level, code=code)

    async def status(self, event: str, status: str) -> None:
        """Record the call's status; the status callback if the call subscribed to ``event``.

        With the store (``env.records``) and ``env.outbox`` the callback is queued in the webhooks
        outbox in the status's own transaction (retried with back-off, in the delivery log, a
        call's SequenceNumbers in order: cpaas/voice/records.py). Without, it is posted directly."""
        call = self.call
        now = utcnow()
        wanted = bool(call.status_callback) and event in call.status_callback_events
        answered_at = self.answered_at

        def params_for(seq: int) -> dict[str, str]:
            params = self.params(status) | {
                "SequenceNumber": str(seq),
                "CallbackSource": "call-progress-events",
                "Timestamp": now.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            if event == "completed":
                talked = max(0, int((now - answered_at).total_seconds()))
                params["CallDuration"] = str(talked)
                params["Duration"] = str(max(1, -(-talked // 60)))
            return params

        seq = 0
        if self.env.records is not None:
            queued = wanted and self.env.outbox
            seq = await asyncio.to_thread(
                self.env.records.set_status,
                call,
                status,
                answered=now if event == "answered" else None,
                ended=now if event == "completed" else None,
                callback=params_for if queued else None,
            )
            if queued and seq >= 0:
                assert call.status_callback is not None
                self.env.events.append((event, call.status_callback))
                return
            seq = max(seq, 0)
        if not wanted:
            return
        assert call.status_callback is not None
        params = params_for(seq)
        self.env.events.append((event, call.status_callback))
        # Posted in the background, in order (each waits for the one before): the caller's audio
        # never waits for a customer's callback server.
        before = self._posting
        url, method, token = call.status_callback, call.status_callback_method, call.auth_token

        async def post() -> None:
            if before is not None:
                with contextlib.suppress(Exception):
                    await before
            await self.env.client.notify(url, method, params, token)

        self._posting = asyncio.ensure_future(post())

    async def callback(self, url: str, method: str, params: dict[str, str], kind: str) -> None:
        """A callback other than call progress (a recording's status): through the webhooks outbox
        when the call has records (retried, logged), else posted once."""
        if self.env.records is not None and self.env.outbox:
            queue = self.env.records.queue_callback
            await asyncio.to_thread(queue, self.call, url, method, params, kind=kind)
            return
        await self.env.client.notify(url, method, params, self.call.auth_token)

    async def flush(self, timeout_s: float = 20.0) -> None:
        """Wait for the status callbacks still being posted (at the end of the call)."""
        if self._posting is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._posting), timeout_s)

    # -- the run ----------------------------------------------------------------------------------
    async def run(self, start: AppStart, first: Document | None = None) -> None:
        """Run from ``start`` (or its already fetched ``first`` document) until the call ends."""
        self.start = start
        self.answered_at = utcnow()
        final = "completed"
        await self.status("answered", "in-progress")
        try:
            doc: Document | None = first
            if doc is None:
                doc = await self.first_document(start, "in-progress")
            while doc is not None and not self.media.closed.is_set():
                doc = await self.execute(doc)
        except (FetchError, VerbError) as exc:
            await self.notice(str(exc), code=getattr(exc, "code", None))
            await self._say_plain(APP_ERROR)
        except _End:
            pass
        except Exception:
            log.exception("cpaas.voice call=%s the interpreter failed", self.call.sid)
            final = "failed"
        finally:
            with contextlib.suppress(Exception):
                if not self.media.closed.is_set():
                    await self.control.hangup()
            await self.status("completed", final)
            await self.flush()

    async def execute(self, doc: Document) -> Document | None:
        for verb in doc.verbs:
            if self.media.closed.is_set():
                return None
            nxt = await self.verb(verb)
            if nxt is not None:
                return nxt
        return None

    async def verb(self, verb: Verb) -> Document | None:
        """Run one verb; a Document means "this replaces the rest" (action URL or Redirect)."""
        if self._waiting and not isinstance(verb, WAIT_VERBS):
            await self.notice(f"<{type(verb).__name__}> is not allowed in a queue's wait URL", code=12200)
            return None
        if isinstance(verb, (Say, Play, Pause)):
            await self.prompt(verb, interrupt="")
            return None
        if isinstance(verb, Gather):
            return await self.gather(verb)
        if isinstance(verb, Record):
            return await self.record(verb)
        if isinstance(verb, Dial):
            return await self.dial(verb)
        if isinstance(verb, Hangup):
            await self.control.hangup()
            raise _End
        if isinstance(verb, Reject):
            await self.control.reject(verb.reason)  # after answer this is a hang-up (Twilio's too)
            raise _End
        if isinstance(verb, Redirect):
            return await self.fetch(verb.url, verb.method, self.params())
        if isinstance(verb, Enqueue):
            return await self.enqueue(verb)
        if isinstance(verb, Leave):
            if self._waiting:
                raise _Leave
            await self.notice("<Leave> outside a queue's wait URL does nothing", level="warning", code=12200)
            return None
        return await self.message(verb)

    # -- prompts ----------------------------------------------------------------------------------
    async def prompt(self, verb: Prompt, interrupt: str) -> str | None:
        """Play one Say/Play/Pause; the digit that interrupted it, if any."""
        if isinstance(verb, Pause):
            if verb.length:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.media.closed.wait(), verb.length)
            return None
        try:
            if isinstance(verb, Say):
                pcm = await self.env.sounds.say(verb.text, verb.language)
            elif verb.url:
                pcm = await self.env.sounds.play(absolute(self.url, verb.url), self.call.auth_token)
            else:
                pcm = _dtmf_audio(verb.digits)
        except AudioError as exc:
            await self.notice(str(exc), code=exc.code)
            return None
        for _ in range(verb.loop):
            digit = await self.media.play(pcm, interrupt=interrupt)
            if digit is not None or self.media.closed.is_set():
                return digit
        return None

    async def _say_plain(self, text: str) -> None:
        if not self.media.closed.is_set():
            with contextlib.suppress(Exception):
                await self.media.play(await self.env.sounds.say(text), interrupt="")

    # -- Gather -----------------------------------------------------------------------------------
    async def gather(self, g: Gather) -> Document | None:
        got = await self.collect(g)
        if got is None:
            return None
        digits, finished_on = got
        if not digits and not g.action_on_empty_result:
            return None  # Twilio: no input, go on with the next verb
        params = self.params() | {"Digits": digits}
        if finished_on:
            params["FinishedOnKey"] = finished_on
        return await self.fetch(g.action or self.url or "", g.method, params)

    async def collect(self, g: Gather) -> tuple[str, str] | None:
        """Play the prompts (a digit interrupts them) and collect digits until numDigits, a finish
        key or the timeout: (digits, the finish key pressed or ""); None if the caller hung up.
        <Gather> and the flows' gather-input-on-call (cpaas/flows/call_channel.py) both use it."""
        digits = ""
        finished_on = ""
        first: str | None = None
        for p in g.prompts:
            first = await self.prompt(p, interrupt=DIGITS)
            if first is not None or self.media.closed.is_set():
                break
        pending = first
        while not self.media.closed.is_set():
            digit = pending if pending is not None else await self.media.next_digit(g.timeout)
            pending = None
            if digit is None:
                break  # timeout
            if digit in g.finish_on_key:
                finished_on = digit
                break
            digits += digit
            if g.num_digits is not None and len(digits) >= g.num_digits:
                break
        if self.media.closed.is_set():
            return None
        return digits, finished_on

    # -- Record -----------------------------------------------------------------------------------
    async def record(self, r: Record) -> Document | None:
        took = await self.capture(r)
        if took is None:
            return None  # Twilio: an empty recording, go on with the next verb
        sid, duration, hung_up = took.sid, took.duration_s, took.hung_up
        params = self.params("completed" if hung_up else "in-progress")
        if sid:
            params |= {
                "RecordingSid": sid,
                "RecordingUrl": self.env.recording_url(self.call, sid),
                "RecordingDuration": str(duration),
            }
        params["Digits"] = "hangup" if hung_up else took.digit
        if r.recording_status_callback and sid:
            cb = params | {
                "RecordingStatus": "completed",
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            }
            await self.callback(
                absolute(self.url, r.recording_status_callback),
                r.recording_status_callback_method,
                cb,
                "recording_status_callback",
            )
        url = r.action or self.url
        if url is None:
            return None
        if hung_up:  # Twilio requests the action URL and ignores what it answers
            with contextlib.suppress(FetchError):
                await self.env.client.send(absolute(self.url, url), r.method, params, self.call.auth_token)
            return None
        return await self.fetch(url, r.method, params)

    async def capture(self, r: Record, source: str = "RecordVerb") -> Captured | None:
        """Beep, record until silence, a finish key, maxLength or hang-up, and save the recording
        (its row and WAV); None for an empty recording (silence only) while the caller stays.
        <Record> and the flows' record-voicemail both use it."""
        if r.play_beep:
            await self.media.play(beep(), interrupt="")
        started = utcnow()
        silence_ms = r.timeout * 1000 if r.timeout else r.max_length * 1000 + 1000
        rec = await self.media.record(r.max_length * 1000, silence_ms=silence_ms, stop_digits=r.finish_on_key)
        hung_up = rec.reason == "hangup"
        if (len(rec.samples) == 0 or not np.any(rec.samples)) and not hung_up:
            return None
        sid, duration = "", 0
        if self.env.records is not None and len(rec.samples):
            saved = await asyncio.to_thread(
                self.env.records.save_recording, self.call, rec.samples, started, source
            )
            sid, duration = saved.sid, saved.duration_s
        return Captured(sid, duration, rec.digit or "", hung_up)

    # -- Dial -------------------------------------------------------------------------------------
    async def dial(self, d: Dial) -> Document | None:
        result = await self.place(d)
        if self.media.closed.is_set():
            return None
        if d.action is None:
            return None  # Twilio: without an action, go on with the next verb
        params = self.params() | {
            "DialCallStatus": result.status,
            "DialCallDuration": str(result.duration_s),
        }
        if result.dialed_call_sid:
            params["DialCallSid"] = result.dialed_call_sid
        if result.recording_sid:
            params["RecordingSid"] = result.recording_sid
            params["RecordingUrl"] = self.env.recording_url(self.call, result.recording_sid)
        return await self.fetch(d.action, d.method, params)

    async def place(self, d: Dial) -> DialResult:
        """Dial the targets and return when the dialled leg ends; 911/933 is never dialled.
        <Dial> and the flows' connect-call-to both use it."""
        refused = [t for t in d.targets if t.kind in ("number", "sip", "extension") and is_emergency(t.value)]
        result: DialResult
        if refused:
            # cpaas.txt §2.4.4: never dialled; the call's log says why, DialCallStatus failed.
            await self.notice(REFUSAL.format(value=refused[0].value), code=13227)
            result = DialResult("failed")
        elif any(t.kind == "conference" for t in d.targets):
            result = await self.conference(next(t.value for t in d.targets if t.kind == "conference"))
        elif any(t.kind == "queue" for t in d.targets):
            result = await self.dequeue(next(t.value for t in d.targets if t.kind == "queue"), d)
        else:
            request = DialRequest(
                targets=list(d.targets),
                caller_id=d.caller_id,
                timeout_s=d.timeout,
                time_limit_s=d.time_limit,
                record=d.record,
                answer_on_bridge=d.answer_on_bridge,
            )
            result = await self.control.dial(request)
        return result

    async def conference(self, name: str) -> DialResult:
        if self.env.conference is None:
            await self.notice("<Conference> is not available on this server", code=12200)
            return DialResult("failed")
        began = utcnow()
        await self.env.conference(self.media, self.call, name)
        return DialResult("completed", int((utcnow() - began).total_seconds()))

    # -- Enqueue / Message ------------------------------------------------------------------------
    async def enqueue(self, e: Enqueue) -> Document | None:
        target = await self.env.queue_target(self.call, e.name) if self.env.queue_target else None
        if target is None and self.env.app_queues is not None:  # a Twilio-style queue of the app server
            return await self.wait_in_queue(e, self.env.app_queues)
        result = await self.hand_to_queue(e.name, "<Enqueue>", target=target)
        if result == "enqueued":
            raise _End  # the switch has the caller now (the tenant queue's own music and agents)
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
                if isinstance(exc, _Leave):
                    result = "leave"
                elif isinstance(exc, _End):
                    raise _End
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

    async def dequeue(self, name: str, d: Dial) -> DialResult:
        """<Dial><Queue>name</Queue></Dial>: bridge the caller waiting longest in the app server's
        queue ``name`` (waiting up to the Dial's timeout for one) until one of the two hangs up."""
        if self.env.app_queues is None:
            await self.notice("<Dial><Queue> is not available on this server", code=12200)
            return DialResult("failed")
        waiter = await self.env.app_queues.take(self.call.tenant_id, name, self.media, d.timeout)
        if waiter is None:
            return DialResult("no-answer")
        began = utcnow()
        try:
            await bridge(self.media, waiter.media, d.time_limit)
        finally:
            waiter.bridged.set()
        return DialResult("completed", int((utcnow() - began).total_seconds()), waiter.call.sid)

    async def message(self, m: Message) -> Document | None:
        if self.env.send_message is None:
            await self.notice(
                "<Message> is not available yet on voice calls (messaging not configured)", code=12200
            )
            return None
        try:
            sid = await self.env.send_message(self.call, m)
        except Exception as exc:  # a refusal of the messaging part (consent, A2P): said in the log
            code = getattr(exc, "code", None)
            await self.notice(f"<Message> refused: {exc}", code=code if isinstance(code, int) else None)
            if m.action is None:
                return None
            return await self.fetch(m.action, m.method, self.params() | {"SmsStatus": "failed"})
        if m.action is None:
            return None
        return await self.fetch(m.action, m.method, self.params() | {"SmsSid": sid, "SmsStatus": "sent"})


async def run_voice_app(
    call: VoiceCall, media: CallMedia, control: CallControl, start: AppStart, env: VoiceEnv
) -> None:
    """Run an application on an answered call until it ends (status callbacks answered …
    completed included). The entry point for calls the app server answers or places (cpaas-calls'
    originated calls); ``env`` is the app server's (``AppServer.voice.env``: HTTP client, TTS,
    store)."""
    await Interpreter(call, media, control, env).run(start)


def _dtmf_audio(digits: str) -> Pcm:
    """<Play digits>: in-band DTMF tones (w: half a second's pause)."""
    parts = []
    for d in digits:
        parts.append(silence(500) if d in "wW" else np.concatenate([dtmf_tone(d, 100), silence(60)]))
    return np.concatenate(parts) if parts else silence(0)
