"""What the application (registrar, B2BUA) sees of a transport, and the shared endpoint driver.

Every transport owns one SipEndpoint and one loop timer handle. After anything happens (bytes
in, a timer, an application send) it *pumps*: writes what the endpoint wants sent, hands each
event to ``on_event(event, transport)``, and re-arms the single timer at ``next_timer()``.
Time given to the endpoint is ``loop.time()``.

The application's contract:
- ``on_event`` is a plain callable, called on the event loop for every event (RequestReceived,
  ResponseReceived, CancelReceived, TransactionTimedOut, TransportError, ParseFailed). It must
  not block; start a task for slow work. It may call ``send_request``/``send_response`` on the
  transport it is given, from inside the callback or later.
- Exceptions raised by ``on_event`` are logged and do not stop the transport.

Output commit: transports may share an ``OutputGate``. The application then says which durable
writes what it sends next depends on (``gate.depend(seq)``), and bytes wait in the gate until the
writer reports them committed (``gate.committed(seq)``): nobody hears of a call's answer or end
before the store knows it. Everything one pump (or one application step, ``gate.corked()``)
produces is judged at its end, after the events it delivered were handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address, Event, TransactionKey
from centrex.sip.message import Request, Response

log = logging.getLogger(__name__)

EventHandler = Callable[[Event, "SipTransport"], None]


class OutputGate:
    """Holds outgoing bytes until the durable writes they follow are committed, in order.

    ``wanted`` is the last write the output depends on, ``done`` the last one committed. While
    ``done`` has caught up, bytes go straight out; otherwise they queue, tagged with the write they
    wait for, and leave (in the order they were sent, across transports) as commits are reported.
    Between ``cork()`` and the matching ``uncork()`` nothing is judged yet: a step of the
    application may both send and submit a write, and what it sent must wait for that write too.
    A retransmission of a message that is still held is dropped: it would leave right behind it.
    """

    def __init__(self) -> None:
        self.wanted = 0
        self.done = 0
        self._depth = 0
        self._corked: list[tuple[SipTransport, bytes, Address]] = []
        self._held: deque[tuple[int, SipTransport, bytes, Address]] = deque()
        self._held_keys: set[tuple[int, bytes, Address]] = set()

    @property
    def held(self) -> int:
        return len(self._held)

    def depend(self, seq: int) -> None:
        """What is sent from now on (and what the current step sent) waits for write ``seq``."""
        if seq > self.wanted:
            self.wanted = seq

    def committed(self, seq: int) -> None:
        """Writes up to ``seq`` are durable: release what waited for them."""
        if seq > self.done:
            self.done = seq
        held = self._held
        while held and held[0][0] <= self.done:
            _, transport, data, addr = held.popleft()
            self._held_keys.discard((id(transport), data, addr))
            transport._write_out(data, addr)

    def send(self, transport: SipTransport, data: bytes, addr: Address) -> None:
        if self._depth:
            self._corked.append((transport, data, addr))
        elif self.wanted > self.done:
            key = (id(transport), data, addr)
            if key not in self._held_keys:
                self._held_keys.add(key)
                self._held.append((self.wanted, transport, data, addr))
        else:
            transport._write_out(data, addr)

    def cork(self) -> None:
        self._depth += 1

    def uncork(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._corked:
            corked, self._corked = self._corked, []
            for transport, data, addr in corked:
                self.send(transport, data, addr)

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        self.cork()
        try:
            yield
        finally:
            self.uncork()


class SipTransport:
    """Base of UdpTransport and StreamTransport: the API the application uses."""

    name = "UDP"

    def __init__(self, endpoint: SipEndpoint, on_event: EventHandler) -> None:
        self.endpoint = endpoint
        self.on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._pumping = False
        self._closed = False
        self.gate: OutputGate | None = None

    @property
    def local_address(self) -> Address:
        """The (host, port) actually bound (port 0 in the config becomes the real port)."""
        return self.endpoint.local

    def now(self) -> float:
        return self._loop.time()

    # -- application API -------------------------------------------------------------------
    def send_request(self, request: Request, addr: Address) -> TransactionKey:
        """Send through a new client transaction; a Via with our address is added if absent."""
        key = self.endpoint.send_request(request, addr, self.now())
        self._pump()
        return key

    def send_response(self, response: Response) -> None:
        """Send through the server transaction the response belongs to (its Via branch)."""
        self.endpoint.send_response(response, self.now())
        self._pump()

    def send_cancel(self, invite_key: TransactionKey) -> TransactionKey | None:
        key = self.endpoint.send_cancel(invite_key, self.now())
        self._pump()
        return key

    async def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- driver ----------------------------------------------------------------------------
    def _write(self, data: bytes, addr: Address) -> None:
        raise NotImplementedError

    def _write_out(self, data: bytes, addr: Address) -> None:
        """The gate's way out (after a transport closed, bytes it held are dropped)."""
        if not self._closed:
            self._write(data, addr)

    def _pump(self) -> None:
        if self._pumping or self._closed:
            return  # re-entered from on_event: the outer loop drains what this call queued
        self._pumping = True
        gate = self.gate
        if gate is not None:
            gate.cork()
        try:
            while True:
                out = self.endpoint.datagrams_to_send()
                for data, addr in out:
                    if gate is None:
                        self._write(data, addr)
                    else:
                        gate.send(self, data, addr)
                event = self.endpoint.next_event()
                if event is not None:
                    self._deliver(event)
                elif not out:
                    break
        finally:
            self._pumping = False
            if gate is not None:
                gate.uncork()
        self._arm_timer()

    def _deliver(self, event: Event) -> None:
        try:
            self.on_event(event, self)
        except Exception:
            # An application bug must not take signalling down for every other call.
            log.exception("on_event failed for %s", type(event).__name__)

    def _arm_timer(self) -> None:
        if self._closed:
            return
        at = self.endpoint.next_timer()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._on_timer) if at is not None else None

    def _on_timer(self) -> None:
        # The loop may run a handle up to one clock resolution early; the deadline is due.
        due = max(self.now(), self._timer_at or 0.0)
        self._timer = None
        self._timer_at = None
        self.endpoint.handle_timer(due)
        self._pump()
