"""DSCP marking of signalling sockets.

peering-policy.txt offers peers "access to OfficeTone's Quality of Service DSCP packet
markings"; for those markings to mean anything our packets must carry them. Media is Expedited
Forwarding (DSCP 46; media/relay.py EF_TOS, RFC 4594 §4.1 Telephony). SIP signalling is a setting
(config.py ``sip_dscp``), because the two references disagree:

- ``cs3`` (DSCP 24, TOS byte 0x60), the default: Cisco's QoS baseline and the phones and enterprise
  networks built on it (and this service until now) mark call signalling CS3, and a peer's
  classifier matching our markings expects it; RFC 4594 gives CS3 to Broadcast Video, which a
  voice network does not carry.
- ``cs5`` (DSCP 40, TOS byte 0xA0): RFC 4594 §3.2 puts the Signaling service class in CS5; for
  networks whose queues follow the RFC.
"""

from __future__ import annotations

import contextlib
import logging
import socket

SIGNALLING_CLASSES = {"cs3": 24, "cs5": 40}  # DSCP values
SIGNALLING_TOS = SIGNALLING_CLASSES["cs3"] << 2  # 0x60, the default

log = logging.getLogger(__name__)


def signalling_tos(name: str) -> int:
    """The TOS byte of a signalling class name (config.py ``sip_dscp``): DSCP << 2."""
    try:
        return SIGNALLING_CLASSES[name.strip().lower()] << 2
    except KeyError:
        raise ValueError(
            f"signalling DSCP must be one of {', '.join(SIGNALLING_CLASSES)}, got {name!r}"
        ) from None


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
