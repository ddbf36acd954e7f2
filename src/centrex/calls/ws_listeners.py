"""The SIP service's WebSocket listeners (RFC 7118; transport/websocket.py) and the rtpengine
WebRTC gateway their calls' media go through (calls/webrtc_gateway.py).

``SipConfig.ws_port`` opens SIP over plain WebSocket (``ws://``: for a browser on the same host,
or behind a reverse proxy that terminates TLS), ``wss_port`` over TLS with the SIP TLS
certificate (the configured one, else the self-signed one in the data dir: a browser must be told
to trust it, docs/softphone.md). Both register as transports "WS"/"WSS", so a browser's
registration, its calls and the requests to it take the same paths as a desk phone's on TCP.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from centrex.calls.rtpengine_anchor import parse_ng_address
from centrex.calls.webrtc_gateway import WebRtcGateway
from centrex.media.rtpengine import NgClient
from centrex.sip.events import Address
from centrex.transport.tls import ensure_certificate, server_context
from centrex.transport.websocket import WsTransport

if TYPE_CHECKING:
    from centrex.calls.service import SipService

log = logging.getLogger(__name__)


async def start_websockets(service: SipService) -> None:
    c = service.config
    if c.ws_port is None and c.wss_port is None:
        return
    if service.webrtc is None:
        host, port = parse_ng_address(c.rtpengine_ng)
        service.webrtc = WebRtcGateway(NgClient(host, port, timeout_s=1.0))
    started: list[WsTransport] = []
    try:
        if c.ws_port is not None:
            started.append(
                await WsTransport.start(
                    c.host, c.ws_port, service._on_event, timers=c.timers, advertised_host=service.advertised
                )
            )
        if c.wss_port is not None:
            if c.tls_cert and c.tls_key:
                cert, key = c.tls_cert, c.tls_key
            else:
                made = ensure_certificate(c.tls_dir, "localhost")
                cert, key = str(made[0]), str(made[1])
            started.append(
                await WsTransport.start(
                    c.host,
                    c.wss_port,
                    service._on_event,
                    ssl_context=server_context(cert, key),
                    timers=c.timers,
                    advertised_host=service.advertised,
                )
            )
    except OSError:
        for transport in started:
            await transport.close()
        raise
    for transport in started:
        service._guard(transport)
        service.transports[transport.name] = transport
        transport.on_close = partial(_flow_closed, service, transport.name)
        log.info("sip.ws.listening transport=%s port=%d", transport.name, transport.local_address[1])


def _flow_closed(service: SipService, transport: str, addr: Address) -> None:
    drop_flow(service, transport, addr)


def drop_flow(service: SipService, transport: str, addr: Address) -> int:
    """A browser's WebSocket closed: the bindings it registered over it are removed. Its
    connection was the only way to reach it (RFC 5626 §5.2: a failed flow is not used again); it
    registers anew when it reconnects (JsSIP does at once), and until then calls to the user ring
    the user's other devices only, instead of waiting on a browser that is gone."""
    gone = [b for b in service.location.all() if b.transport == transport and b.source == addr]
    for binding in gone:
        service.location.remove(binding.aor, binding.contact)
    if gone:
        log.info("sip.ws.flow_closed source=%s:%d bindings=%d", addr[0], addr[1], len(gone))
    return len(gone)
