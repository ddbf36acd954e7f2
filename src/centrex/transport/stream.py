"""SIP over TCP and TLS (RFC 3261 §18, RFC 5626 keep-alives).

One listening socket and one shared SipEndpoint (reliable: no retransmissions); each
connection feeds its bytes to the endpoint under the peer's address, which therefore names the
connection. Responses go back on the connection the request came on (§18.2.2). A request to a
peer with no open connection opens one (its bytes wait until it is up) and is reused after.

Limits (``StreamLimits``, docs/switch.md "Bans"): a connection that brings no complete message
or keep-alive for ``idle_s`` is closed (a slow or silent client holds no socket for long); at most
``per_source`` accepted connections from one address and ``total`` altogether — one more is
closed at accept; and ``admit(source)``, when set, refuses a banned source at accept, before any
TLS work (the handshake is done after accepting, so a refused peer costs no crypto).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address, Event, ParseFailed
from centrex.sip.transaction import TimerConfig
from centrex.transport.base import EventHandler, SipTransport
from centrex.transport.dscp import SIGNALLING_TOS, set_dscp

log = logging.getLogger(__name__)

READ_SIZE = 65536
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Kamailio's tcp_connection_lifetime (120 s) for the idle time; a per-source cap roomy enough
    for a site's phones behind one NAT address, each with its own connection; a global cap well
    under the process's file descriptors."""

    idle_s: float = 120.0
    per_source: int = 200
    total: int = 10_000
    handshake_s: float = 10.0

    def __post_init__(self) -> None:
        if self.idle_s <= 0 or self.per_source < 1 or self.total < 1 or self.handshake_s <= 0:
            raise ValueError(f"stream limits {self}: every limit must be positive")


@dataclass
class _Connection:
    writer: asyncio.StreamWriter | None = None
    pending: list[bytes] = field(default_factory=list)  # bytes queued while connecting
    task: asyncio.Task[None] | None = None
    deadline: float = 0.0  # loop time after which an idle connection is closed


class StreamTransport(SipTransport):
    """Use ``await StreamTransport.start(host, port, on_event, ssl_context=...)``.

    Without ``ssl_context`` it is SIP over TCP; with one, SIP over TLS (``client_ssl`` is used
    for connections we open).
    """

    def __init__(
        self,
        endpoint: SipEndpoint,
        on_event: EventHandler,
        ssl_context: ssl.SSLContext | None,
        client_ssl: ssl.SSLContext | None,
        tos: int | None,
        limits: StreamLimits | None = None,
    ) -> None:
        super().__init__(endpoint, on_event)
        self.name = endpoint.transport
        self._ssl = ssl_context
        self._client_ssl = client_ssl
        self._tos = tos
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._serving: set[asyncio.Task[None]] = set()
        self._conns: dict[Address, _Connection] = {}
        self.limits = limits or StreamLimits()
        # Asked with the peer's address at accept and on every read: False closes the connection.
        self.admit: Callable[[str], bool] | None = None
        self._accepted_from: Counter[str] = Counter()
        self._accepted_total = 0
        self.refused = 0  # connections closed at accept (banned, or over a cap)
        self._at_total_cap = False
        self.idle_closed = 0
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        host: str,
        port: int,
        on_event: EventHandler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        client_ssl: ssl.SSLContext | None = None,
        tos: int | None = SIGNALLING_TOS,
        timers: TimerConfig | None = None,
        advertised_host: str | None = None,
        limits: StreamLimits | None = None,
    ) -> StreamTransport:
        name = "TLS" if ssl_context is not None else "TCP"
        endpoint = SipEndpoint((advertised_host or host, port), name, timers=timers)
        self = cls(endpoint, on_event, ssl_context, client_ssl, tos, limits)
        # Our own accept loop, not asyncio's server: a refused peer is closed before any protocol,
        # transport or TLS handshake is made for it (_accept_loop).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=1024)
        sock.setblocking(False)
        self._listener = sock
        self._acceptor = self._loop.create_task(self._accept_loop(sock))
        self._sweeper = self._loop.create_task(self._sweep())
        if tos is not None:
            set_dscp(sock, tos)  # accepted sockets inherit it on Linux; set again on each below
        endpoint.local = (endpoint.local[0], sock.getsockname()[1])
        return self

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    @property
    def accepted_count(self) -> int:
        return self._accepted_total

    def hold_open(self, addr: Address, seconds: float) -> None:
        """Keep the connection to ``addr`` at least ``seconds`` although idle: a phone registered
        over it is reached through it (its NAT admits nothing else) until the binding expires."""
        conn = self._conns.get(addr)
        if conn is not None:
            conn.deadline = max(conn.deadline, self.now() + seconds)

    async def close(self) -> None:
        await super().close()
        for task in (self._sweeper, self._acceptor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._listener is not None:
            self._listener.close()
        for conn in list(self._conns.values()):
            if conn.writer is not None:
                conn.writer.close()
            if conn.task is not None:
                conn.task.cancel()
        self._conns.clear()
        for task in list(self._serving):
            task.cancel()  # connections still in their TLS handshake

    # -- connections -----------------------------------------------------------------------
    def _refuse(self, source: str) -> bool:
        if self._closed or (self.admit is not None and not self.admit(source)):
            return True
        # Refusals are counted, not logged one by one: a flood must not become a log flood.
        if self._accepted_total >= self.limits.total:
            if not self._at_total_cap:
                self._at_total_cap = True
                log.warning("sip.%s.full connections=%d: new ones refused", self.name, self.limits.total)
            return True
        self._at_total_cap = False
        return self._accepted_from[source] >= self.limits.per_source

    async def _accept_loop(self, listener: socket.socket) -> None:
        while not self._closed:
            try:
                sock, peer = await self._loop.sock_accept(listener)
            except OSError as exc:  # EMFILE and the like: wait a moment rather than spin
                log.warning("sip.%s.accept failed: %s", self.name, exc)
                await asyncio.sleep(0.1)
                continue
            addr: Address = (str(peer[0]), int(peer[1]))
            if self._refuse(addr[0]):
                self.refused += 1
                # Reset at once: no FIN handshake, no TIME_WAIT kept for a refused peer.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                continue
            self._accepted_from[addr[0]] += 1
            self._accepted_total += 1
            task = self._loop.create_task(self._serve(sock, addr))
            self._serving.add(task)  # a strong reference while it runs (asyncio keeps a weak one)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, sock: socket.socket, addr: Address) -> None:
        source = addr[0]
        try:
            if self._tos is not None:
                set_dscp(sock, self._tos)
            reader = asyncio.StreamReader(limit=READ_SIZE)
            protocol = asyncio.StreamReaderProtocol(reader)
            try:
                transport, _ = await asyncio.wait_for(
                    self._loop.connect_accepted_socket(lambda: protocol, sock, ssl=self._ssl),
                    self.limits.handshake_s,
                )
            except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
                log.debug("connection %s not set up: %s", addr, exc)
                sock.close()
                return
            writer = asyncio.StreamWriter(transport, protocol, reader, self._loop)
            old = self._conns.get(addr)
            if old is not None and old.writer is not None:
                old.writer.close()
            conn = _Connection(writer, [], asyncio.current_task(), self.now() + self.limits.idle_s)
            self._conns[addr] = conn
            await self._read_loop(reader, writer, addr)
        finally:
            self._accepted_total -= 1
            left = self._accepted_from[source] - 1
            if left > 0:
                self._accepted_from[source] = left
            else:
                del self._accepted_from[source]

    async def _sweep(self) -> None:
        """Close connections idle past their deadline; a few checks per idle period suffice."""
        period = min(max(self.limits.idle_s / 4, 0.05), 5.0)
        while not self._closed:
            await asyncio.sleep(period)
            now = self.now()
            for addr, conn in list(self._conns.items()):
                if conn.writer is not None and conn.deadline and conn.deadline <= now:
                    self.idle_closed += 1
                    log.debug("connection %s idle for %gs: closed", addr, self.limits.idle_s)
                    self._conns.pop(addr, None)
                    conn.writer.transport.abort()

    def _mark(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if self._tos is not None and sock is not None:
            set_dscp(sock, self._tos)

    async def _read_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, addr: Address
    ) -> None:
        try:
            while not self._closed:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                if self.admit is not None and not self.admit(addr[0]):
                    break  # banned since it connected
                now = self.now()
                self.endpoint.receive_stream_data(data, addr, now)
                conn = self._conns.get(addr)
                if conn is None:
                    break  # closed by a fatal framing error, or idle
                if self.endpoint.stream_pending(addr) == 0:
                    # At a message boundary: a whole message or keep-alive came; half of one
                    # (a slow sender holding the socket) does not move the deadline.
                    conn.deadline = max(conn.deadline, now + self.limits.idle_s)
                self._pump()
                if self._conns.get(addr) is None:
                    break  # closed by the pump (fatal framing error)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.debug("connection %s: %s", addr, exc)
        finally:
            self._forget(addr, writer)
            writer.close()

    def _forget(self, addr: Address, writer: asyncio.StreamWriter | None) -> None:
        conn = self._conns.get(addr)
        if conn is not None and (writer is None or conn.writer is writer):
            del self._conns[addr]
        self.endpoint.connection_lost(addr)

    async def _connect(self, addr: Address, conn: _Connection) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    addr[0],
                    addr[1],
                    ssl=self._client_ssl if self.name == "TLS" else None,
                    server_hostname=addr[0] if self.name == "TLS" else None,
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            self._conns.pop(addr, None)
            self.endpoint.transport_error(addr, f"connect failed: {exc}")
            self._pump()
            return
        self._mark(writer)
        conn.writer = writer
        conn.deadline = self.now() + self.limits.idle_s
        for data in conn.pending:
            writer.write(data)
        conn.pending.clear()
        await self._read_loop(reader, writer, addr)

    def _write(self, data: bytes, addr: Address) -> None:
        conn = self._conns.get(addr)
        if conn is None:
            if self._closed:
                return
            conn = self._conns[addr] = _Connection(None, [data])
            conn.task = self._loop.create_task(self._connect(addr, conn))
            return
        if conn.writer is None:
            conn.pending.append(data)
        elif not conn.writer.is_closing():
            conn.writer.write(data)

    def _deliver(self, event: Event) -> None:
        if isinstance(event, ParseFailed) and event.fatal:
            # The stream lost its framing: nothing after this point can be trusted (§18.3).
            conn = self._conns.pop(event.addr, None)
            if conn is not None and conn.writer is not None:
                conn.writer.close()
        super()._deliver(event)
