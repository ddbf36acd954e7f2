"""A tenant's events on their way to its webhooks (issue 16 §3, like Wazo's webhookd).

Each event is JSON: ``{"type", "id", "timestamp", "tenant_id", "sequence", "data"}``. ``sequence``
counts the events of one subject — a call (call.started 1, call.answered 2, call.ended 3,
cdr.written 4, voicemail.left after), a device's registrations — so a receiver can put them in
order and drop repeats whatever order the deliveries arrive in (Twilio's SequenceNumber).

Emitting never blocks the call path: ``EventBus.emit`` checks a set of the tenants that have a
webhook (one dictionary look-up for the others), makes the payload and puts it on a queue; one
thread takes what is queued, finds the subscribed endpoints and writes the deliveries into the
outbox (cpaas/outbox.py) in one transaction per batch. The tenants set is refreshed by that thread
every ``refresh_s`` and at once when this process changes a subscription (``want``).

What a crash can lose: events emitted but not yet written into the outbox (the last moments);
a delivery once in the outbox is never lost.

Taps (``add_tap``) see every emitted event, of every tenant, before the webhook fast path: insights
(insights/aggregator.py) counts them whether or not the tenant has a webhook. A tap is called on
the emitter's thread and must not block (insights only adds to a dictionary under a lock).

Sources of events: the call core's event listeners (``CallWebhooks``, a CallService whose
``attach`` joins ``CallEngine.listeners``: CallStarted, CallAnswered, CallEnded), the CDR writer
(adapters/call_records.py ``cdr_listeners``), the voicemail store (apps/vm_store.py calls
``emit_event``) and the registrar (``RegistrationEvents``, a location listener).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.calls.location import AorKey, Binding, contact_key
from centrex.calls.services import CallService
from centrex.cpaas import outbox
from centrex.cpaas.subscriptions import wants
from centrex.store.db import transaction
from centrex.store.models.webhooks import WebhookEndpoint

log = logging.getLogger(__name__)

MAX_SUBJECTS = 200_000  # sequence counters kept (oldest dropped: a call's events span minutes)

# A tap: (tenant_id, event type, data, at) for every event emitted, webhook or not.
Tap = Callable[[uuid.UUID, str, dict[str, Any], datetime], None]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class EventBus:
    def __init__(self, sessions: sessionmaker[Session], *, refresh_s: float = 5.0, batch: int = 500) -> None:
        self.sessions = sessions
        self.refresh_s = refresh_s
        self.batch = batch
        self.tenants: set[uuid.UUID] = set()
        self.emitted = 0
        self.written = 0
        self._seq: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._refreshed = 0.0
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self.taps: tuple[Tap, ...] = ()

    def add_tap(self, tap: Tap) -> None:
        self.taps = (*self.taps, tap)

    def remove_tap(self, tap: Tap) -> None:
        self.taps = tuple(t for t in self.taps if t != tap)

    # -- the producers' side (any thread; never blocks) ----------------------------------------
    def want(self, tenant_id: uuid.UUID) -> None:
        """This tenant has (or may now have) a webhook: emit its events from now on."""
        self.tenants.add(tenant_id)

    def emit(
        self,
        tenant_id: uuid.UUID,
        event_type: str,
        data: dict[str, Any],
        *,
        subject: str | None = None,
        at: datetime | None = None,
    ) -> None:
        if self.taps:
            when = at or datetime.now(UTC)
            for tap in self.taps:
                try:
                    tap(tenant_id, event_type, data, when)
                except Exception:  # a tap's bug never reaches the call path
                    log.exception("events.tap_failed type=%s", event_type)
            at = when
        if tenant_id not in self.tenants:
            return
        sequence = None
        if subject is not None:
            with self._lock:
                sequence = self._seq.pop(subject, 0) + 1
                self._seq[subject] = sequence
                if len(self._seq) > MAX_SUBJECTS:
                    self._seq.popitem(last=False)
        self._idle.clear()
        self._queue.put(
            {
                "type": event_type,
                "id": f"evt_{uuid.uuid4().hex}",
                "timestamp": _iso(at or datetime.now(UTC)),
                "tenant_id": str(tenant_id),
                "sequence": sequence,
                "data": data,
            }
        )
        self.emitted += 1

    # -- the thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="centrex-webhook-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every event emitted so far is in the outbox (tests, the benchmark)."""
        return self._idle.wait(timeout)

    def refresh(self) -> None:
        with self.sessions() as session:
            found = set(
                session.scalars(select(WebhookEndpoint.tenant_id).where(WebhookEndpoint.enabled.is_(True)))
            )
        self.tenants = found
        self._refreshed = time.monotonic()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                item = self._queue.get(timeout=self.refresh_s)
            except queue.Empty:
                self._refresh_quietly()
                continue
            events: list[dict[str, Any]] = []
            while item is not None:
                events.append(item)
                if len(events) >= self.batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if item is None:
                stopping = True
            try:
                self.write(events)
            except Exception:
                log.exception("webhooks.events.write_failed count=%d", len(events))
            if time.monotonic() - self._refreshed > self.refresh_s:
                self._refresh_quietly()
            if self._queue.empty():
                self._idle.set()
        self._idle.set()

    def _refresh_quietly(self) -> None:
        with contextlib.suppress(Exception):
            self.refresh()

    def write(self, events: Sequence[dict[str, Any]]) -> int:
        """The deliveries of ``events`` to every enabled endpoint that wants them, in one transaction."""
        if not events:
            return 0
        tenant_ids = {uuid.UUID(e["tenant_id"]) for e in events}
        made = 0
        with transaction(self.sessions) as session:
            endpoints = session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.tenant_id.in_(tenant_ids), WebhookEndpoint.enabled.is_(True)
                )
            ).all()
            by_tenant: dict[str, list[WebhookEndpoint]] = {}
            for endpoint in endpoints:
                by_tenant.setdefault(str(endpoint.tenant_id), []).append(endpoint)
            for event in events:
                for endpoint in by_tenant.get(event["tenant_id"], ()):
                    if not wants(endpoint.events, event["type"]):
                        continue
                    outbox.enqueue(
                        session,
                        tenant_id=endpoint.tenant_id,
                        url=endpoint.url,
                        json_body=event,
                        signing="standard",
                        kind="event",
                        event_type=event["type"],
                        endpoint_id=endpoint.id,
                        msg_id=event["id"],
                        flush=False,  # one flush for the batch, at the commit
                    )
                    made += 1
        self.written += made
        return made

    # -- sources -------------------------------------------------------------------------------
    def call_event(self, event: object) -> None:
        """A ``CallEngine.listeners`` entry: the call core's events as call.started/answered/ended."""
        if isinstance(event, CallStarted):
            self.emit(
                event.tenant_id,
                "call.started",
                {
                    "call_id": str(event.call_id),
                    "from": event.from_,
                    "dialled": event.dialled,
                    "direction": event.direction,
                    "call_class": event.call_class,
                    "user_id": _opt(event.user_id),
                    "device_id": _opt(event.device_id),
                    "site_id": _opt(event.site_id),
                    "started_at": _iso(event.started_at),
                },
                subject=str(event.call_id),
                at=event.started_at,
            )
        elif isinstance(event, CallAnswered):
            self.emit(
                event.tenant_id,
                "call.answered",
                {"call_id": str(event.call_id), "to": event.to, "answered_at": _iso(event.answered_at)},
                subject=str(event.call_id),
                at=event.answered_at,
            )
        elif isinstance(event, CallEnded):
            self.emit(
                event.tenant_id,
                "call.ended",
                ended_data(event),
                subject=str(event.call_id),
                at=event.ended_at,
            )

    def cdrs_written(self, written: Sequence[tuple[uuid.UUID, CallEnded]]) -> None:
        """An ``adapters.call_records.cdr_listeners`` entry: cdr.written, the call's last event."""
        for cdr_id, ev in written:
            self.emit(
                ev.tenant_id,
                "cdr.written",
                {"cdr_id": str(cdr_id), **ended_data(ev)},
                subject=str(ev.call_id),
            )


def ended_data(ev: CallEnded) -> dict[str, Any]:
    return {
        "call_id": str(ev.call_id),
        "from": ev.from_,
        "to": ev.to,
        "dialled": ev.dialled,
        "direction": ev.direction,
        "call_class": ev.call_class,
        "disposition": ev.disposition,
        "hangup_cause": ev.hangup_cause,
        "sip_code": ev.sip_code,
        "started_at": _iso(ev.started_at),
        "answered_at": None if ev.answered_at is None else _iso(ev.answered_at),
        "ended_at": _iso(ev.ended_at),
        "duration_ms": ev.duration_ms,
        "trunk": ev.trunk,
    }


# -- the process's bus (set by `centrex serve`; None: nothing is emitted) -------------------------
_bus: EventBus | None = None


def install(bus: EventBus | None) -> None:
    global _bus
    _bus = bus


def current() -> EventBus | None:
    return _bus


def emit_event(
    tenant_id: uuid.UUID, event_type: str, data: dict[str, Any], *, subject: str | None = None
) -> None:
    """Emit through this process's bus, if there is one (voicemail, tools)."""
    bus = _bus
    if bus is not None:
        bus.emit(tenant_id, event_type, data, subject=subject)


def subscriptions_changed(tenant_id: uuid.UUID) -> None:
    bus = _bus
    if bus is not None:
        bus.want(tenant_id)


class CallWebhooks(CallService):
    """The call core's side of the events: joins the engine's listeners when attached. Its ``bus``
    port is set by `centrex serve` (cpaas/webhook_service.py); without one it does nothing."""

    name = "call_webhooks"

    def __init__(self) -> None:
        self.bus: EventBus | None = None

    def attach(self, core: Any) -> None:
        super().attach(core)
        core.listeners.append(self._event)

    def _event(self, event: object) -> None:
        if self.bus is not None:
            self.bus.call_event(event)


class RegistrationEvents:
    """A location listener (calls/location.py): registration.changed when a contact appears or
    goes away — not on refreshes (a phone re-registers every few minutes) nor on expiry, which
    nobody is told of (every reader checks the time)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._known: dict[tuple[uuid.UUID, str, str], str] = {}

    def saved(self, binding: Binding) -> None:
        key = (binding.tenant_id, binding.username, contact_key(binding.contact))
        if binding.tenant_id not in self.bus.tenants:
            self._known.pop(key, None)
            return
        source = f"{binding.source[0]}:{binding.source[1]}/{binding.transport}"
        if self._known.get(key) == source:
            return  # a refresh
        self._known[key] = source
        self.bus.emit(
            binding.tenant_id,
            "registration.changed",
            {
                "action": "registered",
                "username": binding.username,
                "device_id": str(binding.device_id),
                "user_id": _opt(binding.user_id),
                "contact": binding.contact,
                "source": source,
                "transport": binding.transport,
            },
            subject=f"registration:{binding.tenant_id}:{binding.username}",
        )

    def removed(self, aor: AorKey, contact: str | None) -> None:
        tenant_id, username = aor
        gone = [
            k
            for k in self._known
            if k[0] == tenant_id and k[1] == username and (contact is None or k[2] == contact_key(contact))
        ]
        for key in gone:
            del self._known[key]
        self.bus.emit(
            tenant_id,
            "registration.changed",
            {"action": "unregistered", "username": username, "contact": contact},
            subject=f"registration:{tenant_id}:{username}",
        )
