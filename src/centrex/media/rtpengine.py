"""A client of rtpengine's "ng" control protocol (Sipwise rtpengine, Debian ``rtpengine-daemon``).

An ng message is a cookie, one space and a bencoded dictionary; the reply carries the same cookie
and ``result`` (``ok``, ``pong``, ``error`` with ``error-reason``, or ``load limit``), so a reply to
a request we gave up on is recognised and dropped, and a retransmission reuses its cookie (rtpengine
answers a repeated cookie from its cache instead of running the command twice).

The message layer (``request_datagram``, ``parse_reply``, ``stream_stats``) is sans-I/O; ``NgClient``
is a small blocking UDP transport for the call engine, whose ``MediaAnchor`` port is synchronous
and runs on the event loop. Blocking is acceptable because an ng round trip to a daemon on the
same host or LAN is short: measured on loopback with rtpengine 10.5 (userspace, 2-core machine;
tests/rtpengine/test_anchor.py prints it), a ``ping`` takes 0.02 ms (p99 0.07 ms) and a call's
set-up (``offer`` + ``answer``) 0.19 ms (p99 0.34 ms); ``play media`` ~3 ms (ffmpeg opens the
file). A daemon that does not answer costs at most ``timeout_s``; the anchor then stops asking it
for ``retry_after_s`` so a dead daemon cannot stall call set-up.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from centrex.media.bencode import BencodeError, decode, encode, text


class NgError(Exception):
    """rtpengine refused a command: ``reason`` is its ``error-reason`` (or what else went wrong)."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"rtpengine {command}: {reason}")
        self.command = command
        self.reason = reason


class NgUnreachable(NgError):
    """No reply within the timeout, or the daemon's port refused the datagram."""


class NgProtocolError(NgError):
    """A datagram that is not an ng reply (no cookie, not bencode, not a dictionary)."""


_counter = itertools.count(1)
_prefix = os.urandom(4).hex()


def new_cookie() -> str:
    """Unique per request in this process (and unlikely to collide with another process's)."""
    return f"{_prefix}_{next(_counter)}"


def request_datagram(cookie: str, command: str, fields: Mapping[str, Any]) -> bytes:
    if " " in cookie or not cookie:
        raise ValueError(f"cookie {cookie!r}: must be non-empty without spaces")
    return cookie.encode() + b" " + encode({"command": command, **fields})


def split_reply(data: bytes) -> tuple[str, bytes]:
    """(cookie, bencoded body) of a reply datagram."""
    cookie, sep, body = bytes(data).partition(b" ")
    if not sep or not cookie:
        raise NgProtocolError("reply", "datagram without a 'cookie<space>' prefix")
    return cookie.decode("ascii", "replace"), body


def parse_reply(command: str, body: bytes) -> dict[str, Any]:
    """The reply dictionary with strings as ``str``; NgError naming rtpengine's reason if it refused."""
    try:
        value = text(decode(body))
    except BencodeError as exc:
        raise NgProtocolError(command, f"reply is not bencode: {exc}") from None
    if not isinstance(value, dict):
        raise NgProtocolError(command, "reply is not a dictionary")
    result = value.get("result")
    if result == "error":
        raise NgError(command, str(value.get("error-reason") or "error without error-reason"))
    if result == "load limit":
        raise NgError(command, f"load limit: {value.get('message') or 'rtpengine is at its session limit'}")
    if result not in ("ok", "pong"):
        raise NgProtocolError(command, f"unexpected result {result!r}")
    return value


@dataclass(frozen=True, slots=True)
class StreamStats:
    """One participant's RTP stream as rtpengine reports it (query / delete replies)."""

    tag: str
    local_port: int | None
    endpoint: tuple[str, int] | None  # where rtpengine sends to (learnt, or from SDP)
    packets_in: int  # received from this participant
    bytes_in: int
    errors: int
    rtcp_in: int


def stream_stats(reply: Mapping[str, Any]) -> dict[str, StreamStats]:
    """Per tag, the first audio media's RTP (and RTCP) stream of a ``query``/``delete`` reply."""
    out: dict[str, StreamStats] = {}
    tags = reply.get("tags")
    if not isinstance(tags, dict):
        return out
    for tag, info in tags.items():
        if not isinstance(info, dict):
            continue
        medias = [m for m in info.get("medias") or [] if isinstance(m, dict)]
        audio: dict[str, Any] = next(
            (m for m in medias if m.get("type") == "audio"), medias[0] if medias else {}
        )
        streams = [s for s in audio.get("streams") or [] if isinstance(s, dict)]
        rtp: dict[str, Any] = next(
            (s for s in streams if "RTP" in (s.get("flags") or [])), streams[0] if streams else {}
        )
        rtcp: dict[str, Any] = next((s for s in streams if "RTCP" in (s.get("flags") or [])), {})
        ep = rtp.get("endpoint")
        endpoint = None
        if isinstance(ep, dict) and ep.get("address") and ep.get("port"):
            endpoint = (str(ep["address"]), int(ep["port"]))
        st: dict[str, Any] = rtp["stats"] if isinstance(rtp.get("stats"), dict) else {}
        rst: dict[str, Any] = rtcp["stats"] if isinstance(rtcp.get("stats"), dict) else {}
        port = rtp.get("local port")
        out[tag] = StreamStats(
            tag=tag,
            local_port=int(port) if isinstance(port, int) else None,
            endpoint=endpoint,
            packets_in=int(st.get("packets", 0)),
            bytes_in=int(st.get("bytes", 0)),
            errors=int(st.get("errors", 0)),
            rtcp_in=int(rst.get("packets", 0)),
        )
    return out


class NgClient:
    """Blocking ng over UDP: one request at a time, retransmitted with the same cookie.

    Waits ``first_wait_s`` for the reply, then doubles the wait on each retransmission, never
    past ``timeout_s`` in all. Not thread-safe (the engine calls it from the event loop only).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = 0.5,
        first_wait_s: float = 0.05,
    ) -> None:
        self.address = (host, port)
        self.timeout_s = timeout_s
        self.first_wait_s = first_wait_s
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        # connect(): replies from anyone else are filtered by the kernel, and a closed port on
        # the daemon's host comes back as ECONNREFUSED at once instead of a timeout.
        self._sock.connect(self.address)
        self.round_trips = 0
        self.retransmissions = 0

    def request(self, command: str, **fields: Any) -> dict[str, Any]:
        cookie = new_cookie()
        datagram = request_datagram(cookie, command, fields)
        deadline = time.monotonic() + self.timeout_s
        wait = self.first_wait_s
        while True:
            try:
                self._sock.send(datagram)
            except OSError as exc:
                raise NgUnreachable(command, f"{self.address[0]}:{self.address[1]}: {exc}") from None
            reply = self._await(cookie, command, min(deadline, time.monotonic() + wait))
            if reply is not None:
                self.round_trips += 1
                return parse_reply(command, reply)
            if time.monotonic() >= deadline:
                raise NgUnreachable(
                    command, f"{self.address[0]}:{self.address[1]}: no reply within {self.timeout_s:g} s"
                )
            self.retransmissions += 1
            wait *= 2

    def _await(self, cookie: str, command: str, until: float) -> bytes | None:
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(65535)
            except TimeoutError:
                return None
            except OSError as exc:  # ECONNREFUSED: nothing listens on the ng port
                raise NgUnreachable(command, f"{self.address[0]}:{self.address[1]}: {exc}") from None
            try:
                got, body = split_reply(data)
            except NgProtocolError:
                continue
            if got == cookie:
                return body
            # A late reply to a request we already gave up on: not ours, keep waiting.

    def ping(self) -> None:
        self.request("ping")

    def close(self) -> None:
        self._sock.close()
