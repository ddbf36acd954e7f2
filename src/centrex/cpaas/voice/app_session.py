"""One voice-app call's session with its application (issue 16 §1): what the interpreter keeps of the
call, the documents it asks the application for, and the notices and callbacks it sends.

A failed request of the application's documents (connection, non-2xx, bad content type, unparsable or
unknown verb) tries the fallback URL; one call fetches at most MAX_DOCUMENTS.

Status callbacks (initiated/ringing/answered/completed per the call's subscription) carry a per-call
SequenceNumber from 0, CallDuration on completion; they are queued in the webhooks outbox with
the status change (retried with back-off, in the delivery log; cpaas/voice/records.py).

The verbs are the subclasses' (media_verbs.py, dial_verbs.py, queue_verbs.py, message_verb.py), the
run loop the interpreter's (runner.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from centrex.cpaas.voice.control import AppStart, CallControl, VoiceCall
from centrex.cpaas.voice.fetch import API_VERSION, AppClient, FetchError, absolute
from centrex.cpaas.voice.jsonverbs import parse_document
from centrex.cpaas.voice.queues import AppQueues
from centrex.cpaas.voice.sounds import Sounds
from centrex.cpaas.voice.verbs import Document, Message
from centrex.store.types import utcnow

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia
    from centrex.cpaas.voice.records import VoiceRecords

log = logging.getLogger(__name__)

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


class CallEnded(Exception):
    """The document ended the call: <Hangup>, <Reject>, or the switch has the caller now."""


class QueueLeft(Exception):
    """<Leave> in a queue's wait document."""


class AppSession:
    """One call's session with its application: its media and control once answered, the current
    document's URL, the documents fetched, the status callbacks being posted. The interpreter
    (runner.py) is one, with the verbs."""

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
