"""Webhooks in a running service (issue 16 §3): the event bus joined to the switch's sources, and
the outbox's delivery worker. `centrex serve` calls ``start_webhooks`` once SIP runs, and
``Webhooks.stop`` on the way down."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters import call_records
from centrex.calls.service import SipService
from centrex.cpaas import events
from centrex.cpaas.delivery import DeliveryWorker
from centrex.cpaas.events import CallWebhooks, EventBus, RegistrationEvents
from centrex.cpaas.outbox import SCHEDULE_S
from centrex.e911.nomadic_listener import Listeners


@dataclass
class Webhooks:
    bus: EventBus
    worker: DeliveryWorker | None

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        self.bus.stop()
        with contextlib.suppress(ValueError):
            call_records.cdr_listeners.remove(self.bus.cdrs_written)
        if events.current() is self.bus:
            events.install(None)


def start_webhooks(
    sip: SipService,
    sessions: sessionmaker[Session],
    *,
    deliver: bool = True,
    timeout_s: float = 10.0,
    retry_scale: float = 1.0,
    poll_s: float = 1.0,
    block_private: bool = False,
) -> Webhooks:
    """Must run on the event loop (the worker is an asyncio task)."""
    bus = EventBus(sessions)
    bus.start()
    events.install(bus)  # voicemail and the API reach it through the module
    try:
        sip.engine.service(CallWebhooks).bus = bus
    except LookupError:  # an engine built without the standard services (tools, some tests)
        sip.engine.listeners.append(bus.call_event)
    call_records.cdr_listeners.append(bus.cdrs_written)
    current = sip.location.listener
    registrations = RegistrationEvents(bus)
    sip.location.listener = Listeners([current, registrations] if current is not None else [registrations])
    worker = None
    if deliver:
        worker = DeliveryWorker(
            sessions,
            timeout_s=timeout_s,
            poll_s=poll_s,
            block_private=block_private,
            schedule=[s * retry_scale for s in SCHEDULE_S],
        )
        worker.start()
    return Webhooks(bus, worker)
