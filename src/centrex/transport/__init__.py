"""asyncio transports for the sans-I/O SIP core: UDP, TCP and TLS, DSCP marking.

The application (registrar, B2BUA) starts transports with an ``on_event(event, transport)``
callback and answers through ``transport.send_response`` / ``send_request``; see base.py.
"""

from centrex.transport.base import EventHandler, SipTransport
from centrex.transport.dscp import SIGNALLING_TOS, set_dscp
from centrex.transport.stream import StreamTransport
from centrex.transport.tls import client_context, ensure_certificate, server_context
from centrex.transport.udp import UdpTransport

__all__ = [
    "SIGNALLING_TOS",
    "EventHandler",
    "SipTransport",
    "StreamTransport",
    "UdpTransport",
    "client_context",
    "ensure_certificate",
    "server_context",
    "set_dscp",
]
