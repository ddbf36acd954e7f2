"""The incoming-call trigger of flows (issue 20 §1): a number or an extension points at an
application (``cpaas_applications``: a number by ``numbers.target_type = 'app'``, an extension by
its ``extension``) whose ``flow_id`` names a flow; a call to it runs the flow's published revision
from the trigger's ``incomingCall`` transition, on the call (a CallChannel over the voice-app
interpreter, call_channel.py).

Before answer, ``FlowCalls.admit`` writes the call's execution (channel voice, the caller as
contact), so the INVITE is refused — never answered into silence — with a line in the call's log
(cpaas_call_notices) when the flow cannot run it:

- 404 Not Found: no such flow in the call's tenant;
- 480 Temporarily Unavailable: the flow has no published revision (it may have one later);
- 486 Busy Here: the flow's ``flags.allow_concurrent_calls`` is false and the caller already has an
  active execution of it (store.create_execution refuses; the database decides a race). 486, not
  480: the refusal is about this caller being busy in the flow, as a <Reject reason="busy"/> is,
  and Twilio's CallStatus for it is ``busy``.

Writing the row before answer is what makes the refusal a SIP answer: two calls from the same
caller at once cannot both pass. A call cancelled before answer ends its execution (``abandoned``).
After answer ``run`` walks the flow from the trigger's ``incomingCall`` transition (runtime.py logs
each step); when it ends (a state without a next, or the caller hung up) the call is hung up, as
Studio does, and the call's status callbacks (answered … completed) go out as for any application.

``trigger.call`` holds Twilio's call parameters (CallSid, AccountSid, From, To, Caller, Called,
CallStatus, Direction, ApiVersion, CallerName); ``contact.channel.address`` is the caller's number
and ``flow.channel.address`` the number (or extension) called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows import store
from centrex.cpaas.flows import voice_widgets as _voice  # noqa: F401 - registers the call widgets
from centrex.cpaas.flows.call_channel import CallChannel
from centrex.cpaas.flows.engine import engine_for
from centrex.cpaas.flows.runtime import run_execution
from centrex.cpaas.flows.widgets import FlowContext
from centrex.cpaas.sids import parse_sid, sid_of
from centrex.store.db import transaction
from centrex.store.types import utcnow

if TYPE_CHECKING:
    from centrex.cpaas.voice.runner import Interpreter

log = logging.getLogger(__name__)

# Twilio's way to point a number at a Studio flow: its VoiceUrl is the flow's webhook,
# https://webhooks.twilio.com/v1/Accounts/{AccountSid}/Flows/{FlowSid} — honoured on any host, for the
# call's own account, so Twilio code that sets it (IncomingPhoneNumbers) runs the flow here.
_STUDIO = re.compile(r"/v1/Accounts/(?P<account>AC[0-9a-f]{32})/Flows/(?P<flow>FW[0-9a-f]{32})/?$")

UNPUBLISHED = (480, "Temporarily Unavailable (the flow has no published revision)")
NO_FLOW = (404, "Not Found (no such flow)")
BUSY = (486, "Busy Here (the caller already has an active execution of the flow)")
CONTACT_BUSY_CODE = 81002  # Twilio's Studio warning for a new call of a contact already in the flow


@dataclass(frozen=True)
class Refused:
    """Why the call cannot run the flow: the INVITE's final response and the call log's line."""

    status: int
    reason: str
    notice: str
    code: int = 20404
    level: str = "error"


@dataclass
class Admitted:
    """The call's execution, written before answer: what ``run`` walks once the call is answered."""

    ctx: FlowContext
    definition: dict[str, Any]
    max_steps: int


class FlowCalls:
    """The app server's side of flows on calls (one per VoiceApps)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def admit(self, interp: Interpreter, flow_id: object) -> Admitted | tuple[int, str]:
        """Before answer: the call's execution of the flow, or the INVITE's final response."""
        channel = CallChannel(interp)
        started = await asyncio.to_thread(_create, self._sessions, interp.call.tenant_id, flow_id, channel)
        if isinstance(started, Admitted):
            return started
        await interp.notice(started.notice, code=started.code, level=started.level)
        await interp.status("completed", "busy" if started.status == BUSY[0] else "failed")
        await interp.flush()
        return started.status, started.reason

    async def abandoned(self, admitted: Admitted) -> None:
        """The caller hung up before the answer: the execution ends with the call."""
        await store.end_execution(self._sessions, admitted.ctx, "ended", None)

    async def run(self, interp: Interpreter, admitted: Admitted) -> None:
        """The call was answered: run the flow on it until the flow or the caller ends it."""
        channel = admitted.ctx.call
        assert isinstance(channel, CallChannel)
        interp.answered_at = utcnow()
        final = "completed"
        ended = False
        try:
            await interp.status("answered", "in-progress")
            await run_execution(
                admitted.ctx, admitted.definition, self._sessions, max_steps=admitted.max_steps
            )
            ended = True
        except Exception:
            log.exception("cpaas.flows call=%s the flow failed", interp.call.sid)
            final = "failed"
        finally:
            if not ended:
                # Cancelled (the app server stopping) or broken: the execution must not stay active,
                # or a flow without concurrent calls would refuse this caller for good. A call's
                # execution cannot go on in another process, so it ends here, queued (no await).
                store.queue_end(self._sessions, admitted.ctx, "failed", "the call's flow was interrupted")
            with contextlib.suppress(Exception):
                if not channel.closed:
                    await channel.hangup()
            await interp.status("completed", final)
            await interp.flush()


def studio_flow(url: str | None, account_sid: str) -> uuid.UUID | None:
    """The flow a Studio webhook URL names (for this account), or None for any other URL."""
    if not url:
        return None
    m = _STUDIO.search(urlsplit(url).path)
    if m is None or m["account"] != account_sid:
        return None
    return parse_sid(m["flow"], "FW")


def trigger_of(channel: CallChannel) -> dict[str, object]:
    """Studio's ``trigger.call`` (Twilio's call parameters as the voice URL would get them)."""
    return {"call": channel.params()}


def _create(
    sessions: sessionmaker[Session], tenant_id: object, flow_id: object, channel: CallChannel
) -> Admitted | Refused:
    """The execution's row (channel voice, the caller as contact, the number called as the flow's
    address) and its context; or why the flow cannot run on the call."""
    if not isinstance(tenant_id, uuid.UUID) or not isinstance(flow_id, uuid.UUID):
        return Refused(*NO_FLOW, f"the application's flow {flow_id}: {NO_FLOW[1]}")
    call = channel.call
    try:
        with transaction(sessions) as s:
            flow = store.get_flow(s, tenant_id, flow_id)
            if flow is None:
                return Refused(*NO_FLOW, f"the application's flow {flow_id}: {NO_FLOW[1]}")
            row = store.revision(s, flow, flow.published_revision)
            if row is None:
                return Refused(*UNPUBLISHED, f"the application's flow {flow_id}: {UNPUBLISHED[1]}")
            revision, definition = row.revision, row.definition
            data: dict[str, Any] = {
                "flow": {
                    "sid": sid_of("FW", flow.id),
                    "revision": revision,
                    "variables": {},
                    "data": {},
                    "channel": {"address": call.to_number},
                },
                "trigger": trigger_of(channel),
                "widgets": {},
                "contact": {"channel": {"address": call.from_number}},
            }
            execution = store.create_execution(
                s, flow, revision, definition, "voice", call.from_number, call.to_number, data
            )
            execution_id = execution.id
    except store.ContactBusy as exc:
        return Refused(*BUSY, f"the call was refused 486: {exc}", CONTACT_BUSY_CODE, "warning")
    data["execution"] = {"sid": sid_of("FN", execution_id)}
    engine = engine_for(sessions)
    ctx = FlowContext(
        tenant_id=tenant_id,
        execution_id=execution_id,
        flow_id=flow_id,
        channel="voice",
        call=channel,
        data=data,
        engine=engine,
    )
    return Admitted(ctx, definition, engine.max_steps)
