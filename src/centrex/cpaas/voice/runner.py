"""The voice-app interpreter: runs a document's verbs on one call (issue 16 §1).

Semantics are Twilio's: verbs run in order; a verb with an action URL (Gather, Record, Dial,
Enqueue) requests it with its results, and the document returned **replaces** the rest of the current
one; Redirect does the same unconditionally; when the verbs run out the call is hung up. A failed
request of the application's documents (connection, non-2xx, bad content type, unparsable or
unknown verb) tries the fallback URL; if that fails too, the caller hears "an application error has
occurred" and the call ends, with the error in the call's log (cpaas_call_notices).

Here: the run loop and which verb goes where. The verbs are in media_verbs.py (Say, Play, Pause,
Gather, Record), dial_verbs.py (Dial), queue_verbs.py (Enqueue; Leave ends a queue's wait) and
message_verb.py (Message); the documents' requests, the notices and the status callbacks in
app_session.py.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from centrex.cpaas.voice.app_session import CallEnded, QueueLeft, VoiceEnv
from centrex.cpaas.voice.control import AppStart, CallControl, VoiceCall
from centrex.cpaas.voice.dial_verbs import DialVerbs
from centrex.cpaas.voice.fetch import FetchError
from centrex.cpaas.voice.media_verbs import MediaVerbs
from centrex.cpaas.voice.message_verb import MessageVerb
from centrex.cpaas.voice.queue_verbs import WAIT_VERBS, QueueVerbs
from centrex.cpaas.voice.verbs import (
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Pause,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    Verb,
    VerbError,
)
from centrex.store.types import utcnow

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia

log = logging.getLogger(__name__)

APP_ERROR = "We are sorry, an application error has occurred. Goodbye."


class Interpreter(MediaVerbs, DialVerbs, QueueVerbs, MessageVerb):
    """One call's application, run: its documents, verb by verb, until the call ends.

    Each verb module is a subclass of AppSession mixed in here, so the flows' call channel and the
    call desk reach ``prompt``, ``collect``, ``capture``, ``place`` and ``hand_to_queue`` on the
    interpreter itself."""

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
        except CallEnded:
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
            raise CallEnded
        if isinstance(verb, Reject):
            await self.control.reject(verb.reason)  # after answer this is a hang-up (Twilio's too)
            raise CallEnded
        if isinstance(verb, Redirect):
            return await self.fetch(verb.url, verb.method, self.params())
        if isinstance(verb, Enqueue):
            return await self.enqueue(verb)
        if isinstance(verb, Leave):
            if self._waiting:
                raise QueueLeft
            await self.notice("<Leave> outside a queue's wait URL does nothing", level="warning", code=12200)
            return None
        return await self.message(verb)


async def run_voice_app(
    call: VoiceCall, media: CallMedia, control: CallControl, start: AppStart, env: VoiceEnv
) -> None:
    """Run an application on an answered call until it ends (status callbacks answered …
    completed included). The entry point for calls the app server answers or places (cpaas-calls'
    originated calls); ``env`` is the app server's (``AppServer.voice.env``: HTTP client, TTS,
    store)."""
    await Interpreter(call, media, control, env).run(start)
