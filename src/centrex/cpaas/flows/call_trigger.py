"""The incoming-call trigger of flows (issue 20 §1): a number or an extension points at an
application (``cpaas_applications``: a number by ``numbers.target_type = 'app'``, an extension by
its ``extension``) whose ``flow_id`` names a flow; a call to it runs the flow's published revision
from the trigger's ``incomingCall`` transition, on the call (a CallChannel over the voice-app
interpreter, call_channel.py).

Before answer: a flow that is not the tenant's, or has no published revision, refuses the INVITE
with 480 Temporarily Unavailable and a line in the call's log — the caller is never answered into
silence. After answer: ``start_by_call`` runs the execution (runtime.py logs each step); when it
ends (a state without a next, or the caller hung up) the call is hung up, as Studio does, and the
call's status callbacks (answered … completed) go out as for any application.

``trigger.call`` holds Twilio's call parameters (CallSid, AccountSid, From, To, Caller, Called,
CallStatus, Direction, ApiVersion, CallerName); ``contact.channel.address`` is the caller's number
and ``flow.channel.address`` the number (or extension) called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows.call_channel import CallChannel
from centrex.store.types import utcnow

if TYPE_CHECKING:
    from centrex.cpaas.voice.runner import Interpreter

log = logging.getLogger(__name__)

UNPUBLISHED = (480, "Temporarily Unavailable (the flow has no published revision)")
NO_FLOW = (404, "Not Found (no such flow)")


class FlowCalls:
    """The app server's side of flows on calls (one per VoiceApps)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def refusal(self, interp: Interpreter, flow_id: object) -> tuple[int, str] | None:
        """Why the call cannot run the flow (the INVITE's final response), or None."""
        call = interp.call
        published = await asyncio.to_thread(published_revision, self._sessions, call.tenant_id, flow_id)
        if published is not None:
            return None
        refused = NO_FLOW if published is None and not await asyncio.to_thread(
            flow_exists, self._sessions, call.tenant_id, flow_id
        ) else UNPUBLISHED
        await interp.notice(f"the application's flow {flow_id}: {refused[1]}", code=20404)
        await interp.status("completed", "failed")
        await interp.flush()
        return refused

    async def run(self, interp: Interpreter, flow_id: object) -> None:
        """The call was answered: run the flow on it until the flow or the caller ends it."""
        channel = CallChannel(interp)
        interp.answered_at = utcnow()
        final = "completed"
        await interp.status("answered", "in-progress")
        try:
            await start_by_call(self._sessions, channel, flow_id)
        except Exception:
            log.exception("cpaas.flows call=%s the flow failed", interp.call.sid)
            final = "failed"
        finally:
            with contextlib.suppress(Exception):
                if not channel.closed:
                    await channel.hangup()
            await interp.status("completed", final)
            await interp.flush()


def trigger_of(channel: CallChannel) -> dict[str, object]:
    """Studio's ``trigger.call`` (Twilio's call parameters as the voice URL would get them)."""
    return {"call": channel.params()}


async def start_by_call(sessions: sessionmaker[Session], channel: CallChannel, flow_id: object) -> None:
    """Run the flow's published revision on the call from its trigger's incomingCall transition."""
    raise NotImplementedError("wired to runtime.run_execution once h/flows is merged")


def published_revision(sessions: sessionmaker[Session], tenant_id: object, flow_id: object) -> int | None:
    from centrex.store.models.flows import Flow

    if not isinstance(flow_id, uuid.UUID):
        return None
    with sessions() as s:
        row = s.get(Flow, flow_id)
        if row is None or row.tenant_id != tenant_id:
            return None
        return row.published_revision


def flow_exists(sessions: sessionmaker[Session], tenant_id: object, flow_id: object) -> bool:
    from centrex.store.models.flows import Flow

    if not isinstance(flow_id, uuid.UUID):
        return False
    with sessions() as s:
        row = s.get(Flow, flow_id)
        return row is not None and row.tenant_id == tenant_id
