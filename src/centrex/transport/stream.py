"""SIP over TCP and TLS (RFC 3261 §18, RFC 5626 keep-alives).

One listening socket and one shared SipEndpoint (reliable: no retransmissions); each
connection feeds its bytes to the endpoint under the peer's address, which therefore names the
connection. Responses go back on the connection the request came on (§18.2.2). A request to a
peer with no open connection opens one (its bytes wait until it is up) and is reused after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address, Event, ParseFailed
from centrex.sip.transaction import TimerConfig
from centrex.transport.base import EventHandler, SipTransport
from centrex.transport.dscp import SIGNALLING_TOS, set_dscp

log = logging.getLogger(__name__)

READ_SIZE = 65536
CONNECT_TIMEOUT = 10.0


@dataclass
class _Connection:
    writer: asyncio.StreamWriter | None = None
    pending: list[bytes] = field(default_factory=list)  # bytes queued while connecting
    task: asyncio.Task[None] | None = None


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
    ) -> None:
        super().__init__(endpoint, on_event)
        self.name = endpoint.transport
        self._ssl = ssl_context
        self._client_ssl = client_ssl
        self._tos = tos
        self._server: asyncio.Server | None = None
        self._conns: dict[Address, _Connection] = {}

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
    ) -> StreamTransport:
        name = "TLS" if ssl_context is not None else "TCP"
        endpoint = SipEndpoint((advertised_host or host, port), name, timers=timers)
        self = cls(endpoint, on_event, ssl_context, client_ssl, tos)
        self._server = await asyncio.start_server(self._accepted, host, port, ssl=ssl_context)
        sock = self._server.sockets[0]
        if tos is not None:
            set_dscp(sock, tos)  # accepted sockets inherit it on Linux; set again on each below
        endpoint.local = (endpoint.local[0], sock.getsockname()[1])
        return self

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    async def close(self) -> None:
        await super().close()
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns.values()):
            if conn.writer is not None:
                conn.writer.close()
            if conn.task is not None:
                conn.task.cancel()
        self._conns.clear()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # -- connections -----------------------------------------------------------------------
    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        addr: Address = (str(peer[0]), int(peer[1]))
        self._mark(writer)
        old = self._conns.get(addr)
        if old is not None and old.writer is not None:
            old.writer.close()
        self._conns[addr] = _Connection(writer, [], asyncio.current_task())
        await self._read_loop(reader, writer, addr)

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
                self.endpoint.receive_stream_data(data, addr, self.now())
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
