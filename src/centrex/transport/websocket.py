"""SIP over WebSocket (RFC 7118): the transport browsers (JsSIP, SIP.js) register and call over.

Framing is the ``websockets`` library's (RFC 6455, maintained, asyncio-native); SIP is the same
sans-I/O SipEndpoint as on TCP, named "WS" (or "WSS" with TLS): reliable, so no retransmissions.
Each WebSocket message carries exactly one SIP message (RFC 7118 §5.1), so it is fed whole
through ``receive_datagram``, text or binary frame alike; we send text frames (JsSIP and SIP.js
read both). The peer's (host, port) names the connection, as on TCP: responses go back on the
connection their request came on, and a request to a browser goes over the connection it
registered on -- the connection is the RFC 5626 flow (a browser cannot be connected to).

The handshake must ask for the ``sip`` subprotocol (RFC 7118 §4.1, "Sec-WebSocket-Protocol:
sip"); a client that does not is refused with 400 before any SIP is read. ``admit(source)``, when
set, refuses a banned source at the handshake (the same ban service as UDP/TCP/TLS). A
connection stays open while the peer answers WebSocket pings (every ``ping_s``); a dead one is
closed and every transaction waiting on it fails at once (``transport_error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address
from centrex.sip.message import Response
from centrex.sip.transaction import TimerConfig
from centrex.transport.base import EventHandler, SipTransport

log = logging.getLogger(__name__)

SUBPROTOCOL = "sip"  # RFC 7118 §4.1 (IANA WebSocket Subprotocol Name Registry)
MAX_MESSAGE = 65536  # the same bound as a stream read (transport/stream.py READ_SIZE)


class WsTransport(SipTransport):
    """Use ``await WsTransport.start(host, port, on_event, ssl_context=...)``."""

    def __init__(self, endpoint: SipEndpoint, on_event: EventHandler, ping_s: float) -> None:
        super().__init__(endpoint, on_event)
        self.name = endpoint.transport
        self.ping_s = ping_s
        self._server: Server | None = None
        self._conns: dict[Address, ServerConnection] = {}
        self._queues: dict[Address, asyncio.Queue[bytes | None]] = {}
        # Asked with the peer's address at the handshake and on every message: False closes it.
        self.admit: Callable[[str], bool] | None = None
        self.refused = 0
        # Called with the peer's address when its connection closes (its flow is gone: RFC 5626).
        self.on_close: Callable[[Address], None] | None = None

    @classmethod
    async def start(
        cls,
        host: str,
        port: int,
        on_event: EventHandler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timers: TimerConfig | None = None,
        advertised_host: str | None = None,
        ping_s: float = 20.0,
    ) -> WsTransport:
        name = "WSS" if ssl_context is not None else "WS"
        endpoint = SipEndpoint((advertised_host or host, port), name, timers=timers)
        self = cls(endpoint, on_event, ping_s)
        self._server = await serve(
            self._handle,
            host,
            port,
            ssl=ssl_context,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            process_request=self._check_handshake,
            max_size=MAX_MESSAGE,
            ping_interval=ping_s,
            ping_timeout=ping_s,
            compression=None,  # SIP messages are small; permessage-deflate costs more than it saves
        )
        sock = next(iter(self._server.sockets))
        endpoint.local = (endpoint.local[0], sock.getsockname()[1])
        return self

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    def _check_handshake(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        peer = connection.remote_address
        if self._closed or (self.admit is not None and peer and not self.admit(str(peer[0]))):
            self.refused += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
        if SUBPROTOCOL not in [p.strip().lower() for p in offered.split(",")]:
            self.refused += 1
            return connection.respond(
                HTTPStatus.BAD_REQUEST, "Sec-WebSocket-Protocol must include 'sip' (RFC 7118 4.1)\n"
            )
        return None

    async def close(self) -> None:
        await super().close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def send_response(self, response: Response) -> None:
        md5_last(response)
        super().send_response(response)

    # -- connections -----------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        peer = ws.remote_address
        addr: Address = (str(peer[0]), int(peer[1]))
        old = self._conns.get(addr)
        if old is not None:
            await old.close()
        self._conns[addr] = ws
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._queues[addr] = queue
        writer = asyncio.create_task(self._write_loop(ws, queue))
        try:
            async for message in ws:
                if self.admit is not None and not self.admit(addr[0]):
                    break  # banned since it connected
                data = message.encode() if isinstance(message, str) else bytes(message)
                if data.strip() == b"":
                    continue  # a CRLF keep-alive some clients send (RFC 5626 §3.5.1 style)
                self.endpoint.receive_datagram(data, addr, self.now())
                self._pump()
        except ConnectionClosed:
            pass
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            if self._conns.get(addr) is ws:
                del self._conns[addr]
                del self._queues[addr]
                self.endpoint.connection_lost(addr)
                # Transactions still waiting on this connection fail now, not at their timeout.
                self.endpoint.transport_error(addr, "WebSocket closed")
                self._pump()
                if self.on_close is not None:
                    try:
                        self.on_close(addr)
                    except Exception:
                        log.exception("ws on_close failed for %s", addr)

    @staticmethod
    async def _write_loop(ws: ServerConnection, queue: asyncio.Queue[bytes | None]) -> None:
        """One writer per connection: messages leave in the order they were sent."""
        while True:
            data = await queue.get()
            if data is None:
                return
            try:
                await ws.send(data.decode("utf-8", "replace"))
            except ConnectionClosed:
                return

    def _write(self, data: bytes, addr: Address) -> None:
        queue = self._queues.get(addr)
        if queue is None:
            # A browser cannot be connected to: without its connection, it cannot be reached.
            if not self._closed:
                self._loop.call_soon(self._unreachable, addr)
            return
        queue.put_nowait(data)

    def _unreachable(self, addr: Address) -> None:
        if addr not in self._queues and not self._closed:
            self.endpoint.transport_error(addr, "no WebSocket connection from this peer")
            self._pump()


CHALLENGES = ("WWW-Authenticate", "Proxy-Authenticate")


def md5_last(response: Response) -> None:
    """Browsers' SIP stacks answer one digest challenge: JsSIP 3 keeps the *last* WWW-/Proxy-
    Authenticate header and knows only MD5 (so does SIP.js), while SIPp and many phones take the
    first. Over WebSocket the MD5 challenge goes last, whatever the configured order
    (CENTREX_SIP_DIGEST), so a browser registers; SHA-256 keeps its place for everyone else."""
    if response.status not in (401, 407):
        return
    for name in CHALLENGES:
        values = response.headers.get_all(name)
        if len(values) > 1:
            ordered = sorted(values, key=lambda v: "algorithm=md5" in v.lower().replace(" ", ""))
            if ordered != values:
                response.headers.set_all(name, ordered)
