"""DSCP marking of signalling sockets.

peering-policy.txt offers peers "access to OfficeTone's Quality of Service DSCP packet
markings"; for those markings to mean anything our packets must carry them. SIP signalling is
class CS3 (RFC 4594 §4.2, "Call Signaling" -> CS3, DSCP 24), i.e. a TOS byte of 0x60.
"""

from __future__ import annotations

import contextlib
import logging
import socket

SIGNALLING_TOS = 0x60  # DSCP CS3 (24) << 2

log = logging.getLogger(__name__)


def set_dscp(sock: socket.socket, tos: int = SIGNALLING_TOS) -> bool:
    """Mark ``sock``'s traffic; False (and a log line) where the OS refuses."""
    try:
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
            # A dual-stack socket also sends IPv4; mark that too where the OS allows it.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        return True
    except (OSError, AttributeError) as exc:
        log.warning("cannot set DSCP/TOS 0x%02x on %s: %s", tos, sock, exc)
        return False


def get_tos(sock: socket.socket) -> int:
    if sock.family == socket.AF_INET6:
        return sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS)
    return sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS)
