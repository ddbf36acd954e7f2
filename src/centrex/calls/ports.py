"""The call core's ports: what it needs from the outside, as Protocols (DESIGN.md: the core reads
the store only through ports). The SIP service binds ``Network`` to the real transports; the
media anchors are media/relay.py (calls/media.py RelayAnchor) or rtpengine; the store-backed
adapters live outside calls/ (adapters/, e911/, routing/, pbx/)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from centrex.calls.location import AorKey, Binding, LocationService
from centrex.media.g711 import Pcm
from centrex.sip.events import Address, TransactionKey
from centrex.sip.message import Request, Response

if TYPE_CHECKING:
    from centrex.calls.dialog_record import DialogRecord
    from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted


class Network(Protocol):
    """What the engine needs from the transports, by transport name ("UDP", "TCP", "TLS")."""

    def send_request(self, transport: str, request: Request, addr: Address) -> TransactionKey: ...
    def send_response(self, transport: str, response: Response) -> None: ...
    def send_cancel(self, transport: str, key: TransactionKey) -> None: ...
    def contact(self, transport: str) -> str: ...


class NomadicHold(Protocol):
    """e911/nomadic_store.py NomadicTracker: whether a device's calls other than 911 are held
    because it registered from a new network whose location is not verified (§V.14.3)."""

    def held(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> object | None: ...


class MediaAnchor(Protocol):
    """media/relay.py RelayManager: one relay per call, leg ``a`` toward the caller and ``b``
    toward the callee (or app, or trunk). ``open`` binds at once and returns the addresses to
    write into the SDP sent to each side."""

    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]] | None: ...
    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None: ...
    def close(self, call_id: str) -> None: ...
    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None: ...


@runtime_checkable
class Announcer(Protocol):
    """A media anchor that can also play a prompt to a leg over its music (calls/media.py
    RelayAnchor): the queue position announcements. Kept apart from MediaAnchor so an anchor
    without it (rtpengine) still anchors calls; its callers then just hear the music."""

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None: ...


class CallJournal(Protocol):
    """The durable side of the switch (adapters/call_records.py CallRecords): the journal of calls
    in progress, CDRs and registrations, written by one writer thread. Each call event returns the
    sequence number of its write, which the output gate waits for (transport/base.py)."""

    def start(self, loop: asyncio.AbstractEventLoop, on_durable: Callable[[int], None]) -> None: ...
    async def stop(self) -> None: ...
    def call_started(self, ev: CallStarted) -> int: ...
    def call_answered(self, ev: CallAnswered) -> int: ...
    def call_ended(self, ev: CallEnded) -> int: ...
    def call_dialogs(self, ev: CallDialogs) -> int: ...
    def recover(self, *, stale_s: float = 0.0) -> Recovery: ...
    def register_node(self) -> None: ...
    def heartbeat(self) -> int: ...
    def load_registrations(self, location: LocationService, now: float) -> int: ...
    def purge_registrations(self, now: float) -> None: ...
    def saved(self, binding: Binding) -> None: ...
    def removed(self, aor: AorKey, contact: str | None) -> None: ...


class Recovery(Protocol):
    """What closing a stopped node's calls found: how many, and their dialogs to hang up."""

    calls: int
    dialogs: list[DialogRecord]
