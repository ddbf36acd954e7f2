"""SIP over UDP (RFC 3261 §18): one socket, one endpoint, one timer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import cast

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address
from centrex.sip.transaction import TimerConfig
from centrex.transport.base import EventHandler, SipTransport
from centrex.transport.dscp import SIGNALLING_TOS, set_dscp

log = logging.getLogger(__name__)


RECEIVE_BUFFER = 2 * 1024 * 1024  # ~2,000 queued messages: a GC pause, not a second of backlog


def enlarge_receive_buffer(sock: socket.socket, size: int = RECEIVE_BUFFER) -> int:
    """Ask for a larger receive buffer on the one SIP UDP socket: at 500 calls/s (~8,500 messages/s)
    the kernel's default (~200 KB, ~150 queued messages) overflows in a 20 ms pause of the loop (a
    garbage collection), and every datagram dropped there is a retransmission 500 ms later
    (measured: /proc/net/snmp RcvbufErrors, p99 setup ~0.5 s). SO_RCVBUFFORCE (root or
    CAP_NET_ADMIN) passes net.core.rmem_max; otherwise SO_RCVBUF gets what rmem_max allows.
    Returns the size the kernel reports."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors arrive without the datagram they refer to; §17.1.4 handling would need
        # the destination, which Linux only gives with IP_RECVERR. Logged, timers cover it.
        log.debug("UDP error: %s", exc)


class UdpTransport(SipTransport):
    """Use ``await UdpTransport.start(host, port, on_event)``; port 0 picks a free port."""

    name = "UDP"

    def __init__(self, endpoint: SipEndpoint, on_event: EventHandler) -> None:
        super().__init__(endpoint, on_event)
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def start(
        cls,
        host: str,
        port: int,
        on_event: EventHandler,
        *,
        tos: int | None = SIGNALLING_TOS,
        timers: TimerConfig | None = None,
        advertised_host: str | None = None,
    ) -> UdpTransport:
        """Bind and start. ``advertised_host`` goes into our Via (default: the bound host)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind((host, port))
        if tos is not None:
            set_dscp(sock, tos)
        enlarge_receive_buffer(sock)
        bound = sock.getsockname()
        endpoint = SipEndpoint((advertised_host or host, bound[1]), "UDP", timers=timers)
        self = cls(endpoint, on_event)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport
        return self

    @property
    def socket(self) -> socket.socket:
        assert self._transport is not None
        return cast(socket.socket, self._transport.get_extra_info("socket"))

    def _received(self, data: bytes, addr: Address) -> None:
        self.endpoint.receive_datagram(data, addr, self.now())
        self._pump()

    def _write(self, data: bytes, addr: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    async def close(self) -> None:
        await super().close()
        if self._transport is not None:
            self._transport.close()
