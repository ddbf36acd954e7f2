"""Where a webhook may be sent (server-side request forgery: a tenant's URL must not reach what
only the service can reach). Always refused: link-local addresses (169.254.0.0/16 and fe80::/10,
where clouds serve instance metadata and credentials), multicast, unspecified and reserved ones.
With ``block_private`` (setting ``webhook_block_private``, for a service inside a private network),
loopback and private (RFC 1918, fc00::/7) addresses too. Off by default: developers run their
apps on their own machine or on the same network, and the tests use loopback receivers.

A host name is resolved and every address checked. Not closed: a name that resolves differently
at the check and at the request (DNS rebinding) — pin the address in front of the service (an
egress proxy) where that matters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def refused_address(ip: Address, block_private: bool) -> str | None:
    if ip.is_link_local:
        return "a link-local address (where clouds serve instance metadata)"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "not a unicast address"
    if block_private and (ip.is_loopback or ip.is_private):
        return "a private or loopback address (webhook_block_private)"
    return None


async def refused_target(url: str, block_private: bool) -> str | None:
    """Why ``url`` may not be requested, or None. A name that does not resolve is left to the
    request (which fails and is retried: DNS may come back)."""
    host = urlsplit(url).hostname or ""
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for ip in addresses:
        reason = refused_address(ip, block_private)
        if reason is not None:
            return f"refused: {host} is {reason}"
    return None
