"""Voice apps on the app server (issue 16 §1): the calls whose Request-URI user is
``cpaas.<application uuid>`` (a number routed to an application, or an application's extension).

Before the call is answered the application's first document is fetched (Twilio asks the voice URL
with CallStatus=ringing), so a first <Reject> refuses the INVITE — 486 Busy Here for
reason="busy", 603 Decline otherwise — without answering. Otherwise the app server answers and the
interpreter (runner.py) runs the document on the call's media.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows.call_trigger import Admitted, FlowCalls, studio_flow
from centrex.cpaas.voice.app_session import VoiceEnv
from centrex.cpaas.voice.control import AppStart, CallControl, VoiceCall
from centrex.cpaas.voice.fetch import FETCH_TIMEOUT_S, USER_AGENT, AppClient, FetchError
from centrex.cpaas.voice.queues import AppQueues
from centrex.cpaas.voice.records import VoiceRecords
from centrex.cpaas.voice.runner import Interpreter
from centrex.cpaas.voice.sounds import Sounds
from centrex.cpaas.voice.verbs import Document, Message, Reject, VerbError
from centrex.store.models.queues import CallQueue

if TYPE_CHECKING:
    from centrex.apps.media import CallMedia

PREFIX = "cpaas."
_USER = re.compile(r"^cpaas\.([0-9a-fA-F-]{32,36})$")
REJECT_STATUS = {"busy": (486, "Busy Here"), "rejected": (603, "Decline")}

MESSAGING = "centrex.cpaas.messaging.service"  # the messaging part's send_message (issue 16 §4)

# A named <Conference> room: the app server's room uuid5(tenant:name).
ROOMS = uuid.UUID("6f1d8f4e-51c1-4a43-9d0b-3c1f3f2c9a11")


def _has_messaging() -> bool:
    try:
        return importlib.util.find_spec(MESSAGING) is not None
    except ModuleNotFoundError:  # no centrex.cpaas.messaging package in this build
        return False


def application_of(user: str | None) -> uuid.UUID | None:
    m = _USER.match(user or "")
    if m is None:
        return None
    try:
        return uuid.UUID(m.group(1))
    except ValueError:
        return None


def room_id(tenant_id: object, name: str) -> uuid.UUID:
    return uuid.uuid5(ROOMS, f"{tenant_id}:{name}")


@dataclass
class Prepared:
    """An INVITE to an application, before answer: its call, start, and first document (or the
    error that stopped fetching one); or, for an application that runs a flow, its execution."""

    call: VoiceCall
    start: AppStart
    interpreter: Interpreter
    first: Document | None
    error: Exception | None = None
    flow: Admitted | None = None


class VoiceApps:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        data_dir: Path,
        *,
        public_url: str = "http://127.0.0.1:8080",
        tts: str = "auto",
        conference: Callable[[CallMedia, VoiceCall, str], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self.records = VoiceRecords(sessions, data_dir)
        self.public_url = public_url.rstrip("/")
        http = httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, headers={"User-Agent": USER_AGENT})
        self.env = VoiceEnv(
            client=AppClient(http),
            sounds=Sounds(http, tts=tts),
            records=self.records,
            recording_url=self.recording_url,
            conference=conference,
            queue_target=self.queue_target,
            app_queues=AppQueues(),
            send_message=self.send_message if _has_messaging() else None,
        )
        self.flows = FlowCalls(sessions)  # an application that runs a flow (issue 20 §1)

    async def close(self) -> None:
        await self.env.client.close()

    def recording_url(self, call: VoiceCall, sid: str) -> str:
        """Twilio's RecordingUrl: the Recordings resource of the compatible API (served by the
        cpaas-calls part: /2010-04-01/Accounts/{AccountSid}/Recordings/{sid}, .wav/.mp3)."""
        return f"{self.public_url}/2010-04-01/Accounts/{call.account_sid}/Recordings/{sid}"

    async def queue_target(self, call: VoiceCall, name: str) -> str | None:
        """<Enqueue>name</Enqueue>: the tenant's queue by name or extension → its extension (the
        app server REFERs the caller to it; the switch's queue then has the call)."""

        def find() -> str | None:
            with self._sessions() as s:
                return s.scalar(
                    select(CallQueue.extension).where(
                        CallQueue.tenant_id == call.tenant_id,
                        or_(CallQueue.name == name, CallQueue.extension == name),
                    )
                )

        return await asyncio.to_thread(find)

    async def send_message(self, call: VoiceCall, m: Message) -> str:
        """<Message> during a call: the messaging part's ``send_message`` (looked up by name, so
        this part stands without it). Twilio's defaults: from the account's number of the call (the
        number called on an inbound call, the caller ID of one the app placed), to the other party."""
        send = importlib.import_module(MESSAGING).send_message
        tenant = call.tenant_id
        ours, theirs = (
            (call.from_number, call.to_number)
            if call.direction.startswith("outbound")
            else (call.to_number, call.from_number)
        )
        from_, to = m.from_ or ours, m.to or theirs

        def go() -> str:
            row = send(self._sessions, tenant, from_, to, m.body, status_callback=m.status_callback)
            return str(getattr(row, "sid", ""))

        return await asyncio.to_thread(go)

    async def exists(self, tenant_id: uuid.UUID, app_id: uuid.UUID) -> bool:
        return await asyncio.to_thread(self.records.application_exists, tenant_id, app_id)

    async def prepare(
        self,
        tenant_id: uuid.UUID,
        app_id: uuid.UUID,
        from_number: str,
        to_number: str,
        caller_name: str | None,
        switch_call_id: str | None,
    ) -> Prepared | tuple[int, str]:
        started = await asyncio.to_thread(
            self.records.start_inbound, tenant_id, app_id, from_number, to_number, caller_name, switch_call_id
        )
        if started is None:
            return 404, "Not Found (no such application)"
        call, start = started
        interp = Interpreter(call, None, None, self.env)
        await interp.status("ringing", "ringing")
        if start.flow_id is None and (flow := studio_flow(start.url, call.account_sid)) is not None:
            start = replace(start, flow_id=flow)  # a Studio webhook as the voice URL (Twilio's way)
        if start.flow_id is not None:  # the application runs a flow: its execution, before answer
            admitted = await self.flows.admit(interp, start.flow_id)
            if isinstance(admitted, tuple):
                return admitted
            return Prepared(call, start, interp, None, flow=admitted)
        try:
            first = await interp.first_document(start, "ringing")
        except (FetchError, VerbError) as exc:
            return Prepared(call, start, interp, None, exc)
        if first.verbs and isinstance(first.verbs[0], Reject):
            reason = first.verbs[0].reason
            await interp.status("completed", "busy" if reason == "busy" else "failed")
            await interp.flush()
            return REJECT_STATUS[reason]
        return Prepared(call, start, interp, first)

    async def abandoned(self, prepared: Prepared) -> None:
        """The caller hung up before the answer: Twilio's no-answer; a flow's execution ends too."""
        if prepared.flow is not None:
            await self.flows.abandoned(prepared.flow)
        await prepared.interpreter.abandoned()

    async def run(self, prepared: Prepared, media: CallMedia, control: CallControl) -> None:
        interp = prepared.interpreter
        interp.attach(media, control)
        if prepared.flow is not None:
            await self.flows.run(interp, prepared.flow)
            return
        if prepared.error is not None:
            await interp.fail(prepared.error)
            return
        await interp.run(prepared.start, prepared.first)
