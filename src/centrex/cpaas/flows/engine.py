"""Where executions run: one FlowEngine per database (per sessionmaker), on one asyncio loop.

`centrex serve` hands the engine its running loop (``start_flows``); elsewhere (the API under a
test server, a tool) the engine starts a loop of its own in a thread on first use. Executions are
started from any thread (``start_by_rest``, ``start_by_message`` through ``start``; a call's runs on
the app server's loop, call_trigger.py): the row is written at once (the caller gets its SID, or
store.ContactBusy when the flow does not allow concurrent calls and the contact is in it already),
the walk runs on the loop.

send-and-wait-for-reply parks a future under (tenant, flow's number, contact's number); an incoming
SMS for that pair (``inbound``, called by the Messenger, cpaas/messaging/service.py) resolves it
instead of going to the number's SMS URL. The wait is also parked in the store (waits.py), so a
reply reaching another process — a second node, or this one after a restart — takes it up there, and
a deadline that passes while no process holds it takes the timeout transition at the next start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import uuid
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.flows import basic_widgets as _basic  # noqa: F401 - registers the widgets
from centrex.cpaas.flows import http_widget as _http  # noqa: F401
from centrex.cpaas.flows import message_widgets as _messages  # noqa: F401
from centrex.cpaas.flows import store, waits
from centrex.cpaas.flows.runtime import MAX_STEPS, run_execution
from centrex.cpaas.flows.steplog import step_log
from centrex.cpaas.flows.widgets import FlowContext
from centrex.cpaas.sids import sid_of
from centrex.store.db import transaction
from centrex.store.models.flows import Flow, FlowExecution

if TYPE_CHECKING:
    from centrex.cpaas.messaging.service import Messenger

log = logging.getLogger(__name__)

MAX_SUBFLOW_DEPTH = 5


class NotRunnable(ValueError):
    """The flow cannot start (not published, no such revision): the API answers 409."""


ReplyKey = tuple[uuid.UUID, str, str]  # tenant, the flow's number, the contact's number


class FlowEngine:
    def __init__(self, sessions: sessionmaker[Session], *, max_steps: int = MAX_STEPS) -> None:
        self.sessions = sessions
        self.max_steps = max_steps
        # make-http-request to loopback/private/link-local addresses (the service's own network):
        # off unless the operator allows it (setting flow_http_private; tests allow it).
        self.http_private = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.messenger: Messenger | None = None  # set by serve / the API; else the active one
        self.waiters: dict[ReplyKey, asyncio.Future[dict[str, Any]]] = {}
        self.running: dict[uuid.UUID, concurrent.futures.Future[str]] = {}
        self.finished: OrderedDict[uuid.UUID, str] = OrderedDict()  # the last executions' ends (wait)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._http: httpx.AsyncClient | None = None
        self.timeouts: list[asyncio.Future[None]] = []  # parked waits' deadlines (waits.py)

    # -- the loop ---------------------------------------------------------------------------------
    def use_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="centrex-flows", daemon=True)
                self._thread.start()
                self.loop = loop
            return self.loop

    def stop(self) -> None:
        loop = self.loop
        if loop is None:
            return
        for fut in list(self.running.values()):
            fut.cancel()
        for task in self.timeouts:
            loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(5)
            self._thread = None
            self.loop = None

    def http(self) -> httpx.AsyncClient:
        """The HTTP client of make-http-request (one per engine: connections are reused)."""
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    def messenger_now(self) -> Messenger:
        from centrex.cpaas.messaging.service import Messenger, active

        return self.messenger or active() or Messenger(self.sessions)

    # -- starting ---------------------------------------------------------------------------------
    def _definition(self, s: Session, flow: Flow, revision: int | str | None) -> tuple[int, dict[str, Any]]:
        number: int | None
        if revision in (None, "LatestPublished", "published"):
            number = flow.published_revision
            if number is None:
                raise NotRunnable(f"flow {sid_of('FW', flow.id)} has no published revision: publish it first")
        elif revision in ("LatestRevision", "draft"):
            number = flow.draft_revision
        else:
            try:
                number = int(str(revision))
            except ValueError as exc:
                raise NotRunnable(f"revision {revision!r}: a number, 'LatestPublished' or 'draft'") from exc
        row = store.revision(s, flow, number)
        if row is None:
            raise NotRunnable(f"flow {sid_of('FW', flow.id)} has no revision {number}")
        return row.revision, row.definition

    def start(
        self,
        tenant_id: uuid.UUID,
        flow_id: uuid.UUID,
        *,
        channel: str,
        contact: str,
        flow_address: str,
        trigger: dict[str, Any],
        flow_data: dict[str, Any] | None = None,
        call: Any | None = None,
        revision: int | str | None = None,
    ) -> FlowExecution:
        """Write the execution and run it on the loop. NotRunnable, LookupError (no such flow),
        store.ContactBusy (the flow does not allow concurrent calls and the contact is in it)."""
        with transaction(self.sessions) as s:
            flow = store.get_flow(s, tenant_id, flow_id)
            if flow is None:
                raise LookupError("no such flow")
            number, definition = self._definition(s, flow, revision)
            data = {
                "flow": {
                    "sid": sid_of("FW", flow.id),
                    "revision": number,
                    "variables": {},
                    "data": dict(flow_data or {}),
                    "channel": {"address": flow_address},
                },
                "trigger": trigger,
                "widgets": {},
                "contact": {"channel": {"address": contact}},
            }
            row = store.create_execution(s, flow, number, definition, channel, contact, flow_address, data)
        data["execution"] = {"sid": sid_of("FN", row.id)}
        ctx = FlowContext(
            tenant_id=tenant_id,
            execution_id=row.id,
            flow_id=flow_id,
            channel=channel,
            call=call,
            data=data,
            engine=self,
        )
        self.running[row.id] = asyncio.run_coroutine_threadsafe(
            self._run(ctx, definition), self._ensure_loop()
        )
        return row

    async def _run(
        self, ctx: FlowContext, definition: dict[str, Any], start: str | None = None, seq_start: int = 0
    ) -> str:
        status = "failed"
        try:
            status = await run_execution(
                ctx, definition, self.sessions, start=start, seq_start=seq_start, max_steps=self.max_steps
            )
            return status
        finally:
            self.finished[ctx.execution_id] = status
            if len(self.finished) > 10_000:
                self.finished.popitem(last=False)
            self.running.pop(ctx.execution_id, None)

    def start_by_rest(
        self, tenant_id: uuid.UUID, flow_id: uuid.UUID, to: str, from_: str, parameters: dict[str, Any]
    ) -> FlowExecution:
        """Studio's REST trigger: To is the contact, From the flow's number, Parameters flow.data."""
        return self.start(
            tenant_id,
            flow_id,
            channel="rest",
            contact=to,
            flow_address=from_,
            trigger={"request": {"to": to, "from": from_, "parameters": parameters}},
            flow_data=parameters,
        )

    def start_by_message(
        self, tenant_id: uuid.UUID, flow_id: uuid.UUID, from_: str, to: str, body: str, message_sid: str
    ) -> FlowExecution:
        message = {"Body": body, "From": from_, "To": to, "MessageSid": message_sid, "SmsSid": message_sid}
        return self.start(
            tenant_id,
            flow_id,
            channel="message",
            contact=from_,
            flow_address=to,
            trigger={"message": message},
        )

    def end_run(self, execution_id: uuid.UUID) -> None:
        """Before the API ends the execution (store.end_by_api): its walk in this process, if any,
        stops at once (cancelled wherever it awaits: a reply, an HTTP request), and the steps
        queued so far are written, so the API's step comes after them. A call's walk runs on the
        app server's loop, not here: it stops before its next widget (runtime.py)."""
        fut = self.running.get(execution_id)
        if fut is not None:
            fut.cancel()
        step_log(self.sessions).flush()

    def wait(self, execution_id: uuid.UUID, timeout: float = 30.0) -> str | None:
        """Block until the execution's walk ends (tests, tools); None if it is not running here."""
        fut = self.running.get(execution_id)
        if fut is None:
            return self.finished.get(execution_id)
        try:
            return fut.result(timeout)
        except concurrent.futures.CancelledError:
            return None

    # -- replies ----------------------------------------------------------------------------------
    async def wait_reply(self, ctx: FlowContext, timeout_s: float) -> dict[str, Any] | None:
        """The contact's next message to the flow's number, or None after ``timeout_s``."""
        key = (ctx.tenant_id, ctx.flow_address, ctx.contact_address)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[key] = fut
        try:
            return await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            return None
        finally:
            if self.waiters.get(key) is fut:
                del self.waiters[key]

    def inbound(self, tenant_id: uuid.UUID, from_: str, to: str, body: str, message_sid: str) -> bool:
        """An incoming SMS (the Messenger's thread): a reply a widget awaits, or the trigger of the
        flow the number points at. True when a flow took it."""
        fut = self.waiters.get((tenant_id, to, from_))
        if fut is not None and not fut.done() and self.loop is not None:
            message = {"Body": body, "From": from_, "To": to, "MessageSid": message_sid}
            self.loop.call_soon_threadsafe(_resolve, fut, message)
            return True
        with self.sessions() as s:
            parked = waits.waiting_for(s, tenant_id, to, from_)
        if parked is not None and parked.execution_id not in self.running:
            # a wait another process parked (a second node, or this one before a restart)
            message = {"Body": body, "From": from_, "To": to, "MessageSid": message_sid}
            if self.resume(parked, {"inbound": message}):
                return True
        with self.sessions() as s:
            target = store.flow_for_number(s, to)
            if target is None or target.tenant_id != tenant_id:
                return False
            flow_id = target.flow_id
        try:
            self.start_by_message(tenant_id, flow_id, from_, to, body, message_sid)
        except NotRunnable:
            return False  # an unpublished flow: the number's SMS URL, if any, still gets it
        except store.ContactBusy as exc:
            # Studio ignores it too (its warning 81002: a new message for a contact that already
            # has an active execution); the number is the flow's, so its SMS URL does not get it.
            log.warning("cpaas.flows message %s from %s not started: %s", message_sid, from_, exc)
        return True

    def resume(self, parked: waits.Parked, event: dict[str, Any]) -> bool:
        """Take up a parked wait (the reply, or ``{"timeout": True}``): False if another took it."""
        if not waits.claim(self.sessions, parked.tenant_id, parked.execution_id, parked.state):
            return False
        with self.sessions() as s:
            flow = store.get_flow(s, parked.tenant_id, parked.flow_id)
            row = store.revision(s, flow, parked.revision) if flow is not None else None
            definition = dict(row.definition) if row is not None else None
        if definition is None:  # the flow was deleted meanwhile (its executions go with it)
            return True
        ctx = FlowContext(
            tenant_id=parked.tenant_id,
            execution_id=parked.execution_id,
            flow_id=parked.flow_id,
            channel=parked.channel,
            data=parked.context,
            engine=self,
            resume={**event, "outbound": parked.outbound},
        )
        self.running[parked.execution_id] = asyncio.run_coroutine_threadsafe(
            self._run(ctx, definition, start=parked.state, seq_start=parked.seq - 1), self._ensure_loop()
        )
        return True

    # -- subflows ---------------------------------------------------------------------------------
    async def run_subflow(
        self, parent: FlowContext, flow_ref: str, revision: Any, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if parent.depth >= MAX_SUBFLOW_DEPTH:
            raise ValueError(f"run-subflow: more than {MAX_SUBFLOW_DEPTH} nested subflows")
        with transaction(self.sessions) as s:
            flow = store.flow_by_ref(s, parent.tenant_id, flow_ref)
            if flow is None:
                raise ValueError(f"run-subflow: no flow {flow_ref!r} in this account")
            try:
                number, definition = self._definition(s, flow, revision)
            except NotRunnable as exc:
                raise ValueError(f"run-subflow: {exc}") from exc
            data = {
                "flow": {
                    "sid": sid_of("FW", flow.id),
                    "revision": number,
                    "variables": {},
                    "data": params,
                    "channel": {"address": parent.flow_address},
                },
                "trigger": {"parent": {"parameters": params, "execution_sid": parent.execution_sid}},
                "widgets": {},
                "contact": {"channel": {"address": parent.contact_address}},
            }
            row = store.create_execution(
                s,
                flow,
                number,
                definition,
                "subflow",
                parent.contact_address,
                parent.flow_address,
                data,
                parent_id=parent.execution_id,
            )
        ctx = FlowContext(
            tenant_id=parent.tenant_id,
            execution_id=row.id,
            flow_id=flow.id,
            channel="subflow",
            call=parent.call,
            data=data,
            engine=self,
            depth=parent.depth + 1,
        )
        status = await run_execution(ctx, definition, self.sessions, max_steps=self.max_steps)
        return status, dict(ctx.variables)


def _resolve(fut: asyncio.Future[dict[str, Any]], message: dict[str, Any]) -> None:
    if not fut.done():
        fut.set_result(message)


_engines: weakref.WeakKeyDictionary[sessionmaker[Session], FlowEngine] = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()


def engine_for(sessions: sessionmaker[Session]) -> FlowEngine:
    """The engine of this database in this process (made on first use)."""
    with _engines_lock:
        engine = _engines.get(sessions)
        if engine is None:
            engine = _engines[sessions] = FlowEngine(sessions)
        return engine


def route_inbound(
    messenger: Messenger, tenant_id: uuid.UUID, from_: str, to: str, body: str, sid: str
) -> bool:
    """The Messenger's inbound route (cpaas/messaging/service.py INBOUND_ROUTES)."""
    engine = engine_for(messenger.sessions)
    if engine.messenger is None:
        engine.messenger = messenger
    return engine.inbound(tenant_id, from_, to, body, sid)


def install() -> None:
    """Incoming SMS reach the flows (idempotent)."""
    from centrex.cpaas.messaging.service import INBOUND_ROUTES

    if route_inbound not in INBOUND_ROUTES:
        INBOUND_ROUTES.append(route_inbound)


install()


def start_flows(app: Any, max_steps: int = MAX_STEPS, http_private: bool = False) -> FlowEngine:
    """serve: the flows of this database run on the service's loop; incoming SMS reach them."""
    engine = engine_for(app.state.sessionmaker)
    engine.use_loop(asyncio.get_running_loop())
    engine.max_steps = max_steps
    engine.http_private = http_private
    engine.messenger = getattr(app.state, "messaging", None)
    app.state.flows = engine
    install()
    engine.timeouts.append(asyncio.ensure_future(waits.resume_timeouts(engine)))
    return engine
