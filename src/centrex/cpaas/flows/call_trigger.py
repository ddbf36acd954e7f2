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
import re
import uuid
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
        exists = await asyncio.to_thread(flow_exists, self._sessions, call.tenant_id, flow_id)
        refused = UNPUBLISHED if exists else NO_FLOW
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


async def start_by_call(sessions: sessionmaker[Session], channel: CallChannel, flow_id: object) -> str:
    """Run the flow's published revision on the call, from its trigger's incomingCall transition,
    here on the app server's loop (the call's media lives on it). Returns the execution's final
    status (ended, failed); "refused" when the flow cannot run (no longer published)."""
    call = channel.call
    started = await asyncio.to_thread(_create, sessions, call.tenant_id, flow_id, channel)
    if isinstance(started, str):
        await channel.notice(started, code=20404)
        return "refused"
    ctx, definition, max_steps = started
    return await run_execution(ctx, definition, sessions, max_steps=max_steps)


def _create(
    sessions: sessionmaker[Session], tenant_id: object, flow_id: object, channel: CallChannel
) -> tuple[FlowContext, dict[str, Any], int] | str:
    """The execution's row (channel voice, the caller as contact, the number called as the flow's
    address) and its context; or why the flow cannot run."""
    if not isinstance(tenant_id, uuid.UUID) or not isinstance(flow_id, uuid.UUID):
        return "no such flow"
    call = channel.call
    with transaction(sessions) as s:
        flow = store.get_flow(s, tenant_id, flow_id)
        if flow is None:
            return f"flow {flow_id}: no such flow"
        row = store.revision(s, flow, flow.published_revision)
        if row is None:
            return f"flow {sid_of('FW', flow.id)} has no published revision: publish it first"
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
        execution = store.create_execution(s, flow, revision, "voice", call.from_number, call.to_number, data)
        execution_id = execution.id
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
    return ctx, definition, engine.max_steps


def published_revision(sessions: sessionmaker[Session], tenant_id: object, flow_id: object) -> int | None:
    """The flow's published revision, None when it has none or is not the tenant's."""
    if not isinstance(tenant_id, uuid.UUID) or not isinstance(flow_id, uuid.UUID):
        return None
    with sessions() as s:
        flow = store.get_flow(s, tenant_id, flow_id)
        return flow.published_revision if flow is not None else None


def flow_exists(sessions: sessionmaker[Session], tenant_id: object, flow_id: object) -> bool:
    if not isinstance(tenant_id, uuid.UUID) or not isinstance(flow_id, uuid.UUID):
        return False
    with sessions() as s:
        return store.get_flow(s, tenant_id, flow_id) is not None
