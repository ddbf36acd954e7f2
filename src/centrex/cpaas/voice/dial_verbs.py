"""<Dial> (issue 16 §1): numbers, SIP URIs and extensions through the call's CallControl (the
cpaas-calls part's bridge), a <Conference> room of the app server, or the caller waiting longest in
one of its queues (<Queue>, queues.py); 911/933 is never dialled (cpaas.txt §2.4.4). The flows'
connect-call-to uses ``place`` too (cpaas/flows/call_channel.py).
"""

from __future__ import annotations

from centrex.cpaas.voice.app_session import AppSession
from centrex.cpaas.voice.control import DialRequest, DialResult
from centrex.cpaas.voice.emergency import REFUSAL, is_emergency
from centrex.cpaas.voice.queues import bridge
from centrex.cpaas.voice.verbs import Dial, Document
from centrex.store.types import utcnow


class DialVerbs(AppSession):
    """<Dial> and its nouns."""

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
