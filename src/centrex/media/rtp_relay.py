"""Symmetric RTP relay (media anchoring) for calls the B2BUA keeps in the media path.

One ``RtpRelay`` per call has two legs, ``a`` (the caller's side) and ``b`` (the callee's side),
each an even/odd UDP socket pair from the ``PortAllocator``. The SDP sent to the caller names leg a's
address and port, the SDP sent to the callee names leg b's. What arrives on one leg goes out of the
other leg's socket of the same kind (RTP or RTCP).

Latching (symmetric RTP, RFC 4961 practice; what rtpengine and Kamailio's nathelper do): a phone
behind NAT puts its private address in SDP, so each leg sends to the address its first packet came
from, not to the SDP address. The SDP address (``set_remote``) is only used until then, for peers
that wait to receive before sending. A latched leg moves to a new source address only after the
latched one has been silent for ``relatch_after`` seconds, so a third party cannot hijack an active
stream by sending to the port.

RTP sockets carry DSCP EF. peering-policy.txt offers peers "access to OfficeTone's Quality of Service
DSCP packet markings"; RFC 4594 §4.1 (Telephony) puts bearer traffic in Expedited Forwarding (DSCP 46,
TOS byte 0xB8). RTCP rides with it so reports see the same queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from centrex.media.errors import MediaError, PortsExhausted
from centrex.media.ports import PortAllocator
from centrex.media.recorder import CallRecorder, FeatureCodeWatch, RecordingResult
from centrex.media.rtcp import ReceptionStats
from centrex.media.srtp import SdesState, SrtpLeg

EF_TOS = 0xB8  # DSCP 46 (EF) << 2
LEGS = ("a", "b")
Address = tuple[str, int]

log = logging.getLogger(__name__)


def mark_ef(sock: socket.socket) -> bool:
    """Set DSCP EF on ``sock``; False where the OS refuses (the call still works, unmarked)."""
    try:
        if sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, EF_TOS)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, EF_TOS)
        return True
    except OSError as exc:
        log.warning("cannot set DSCP EF on RTP socket: %s", exc)
        return False


def bind_pair(allocator: PortAllocator, host: str) -> tuple[socket.socket, socket.socket]:
    """Bound (RTP, RTCP) UDP sockets on a pair from the allocator, skipping pairs another program holds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(allocator.capacity):
        rtp_port, rtcp_port = allocator.allocate()
        socks: list[socket.socket] = []
        try:
            for port in (rtp_port, rtcp_port):
                s = socket.socket(family, socket.SOCK_DGRAM)
                socks.append(s)
                s.setblocking(False)
                mark_ef(s)
                s.bind((host, port))
            return socks[0], socks[1]
        except OSError as exc:
            for s in socks:
                s.close()
            allocator.release(rtp_port)
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
    raise PortsExhausted(f"rtp_ports: no bindable pair in {allocator.low}-{allocator.high} on {host}")


@dataclass(frozen=True, slots=True)
class LegStats:
    """What one leg's endpoint sent us (``*_in``) and what we sent it (``*_out``)."""

    leg: str
    local_port: int
    remote: Address | None
    packets_in: int
    bytes_in: int
    packets_out: int
    bytes_out: int
    rtcp_in: int
    rtcp_out: int
    dropped: int  # arrived for a leg with nowhere to send yet, or from a non-latched source
    lost: int  # RFC 3550 §A.3 cumulative lost of the leg's incoming stream
    jitter_ms: float  # RFC 3550 §A.8 interarrival jitter of the leg's incoming stream


@dataclass(slots=True)
class RelayTotals:
    """Packets over many relays: received from the phones, sent to them, lost on the way in
    (RFC 3550 §A.3, per stream) and dropped here (no destination yet, or a stranger's)."""

    packets_in: int = 0
    packets_out: int = 0
    lost: int = 0
    dropped: int = 0

    def add(self, legs: Iterable[LegStats]) -> None:
        for s in legs:
            self.packets_in += s.packets_in
            self.packets_out += s.packets_out
            self.lost += s.lost
            self.dropped += s.dropped


class _Leg:
    __slots__ = (
        "bytes_in",
        "bytes_out",
        "copies",
        "dropped",
        "expected_rtcp",
        "expected_rtp",
        "last_seen",
        "name",
        "packets_in",
        "packets_out",
        "reception",
        "remote_rtcp",
        "remote_rtp",
        "rtcp_in",
        "rtcp_out",
        "rtcp_port",
        "rtcp_transport",
        "rtp_port",
        "rtp_transport",
        "srtp",
        "ssrc",
        "tap",
    )

    def __init__(self, name: str, rtp_port: int, rtcp_port: int) -> None:
        self.name = name
        self.rtp_port, self.rtcp_port = rtp_port, rtcp_port
        self.rtp_transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self.remote_rtp: Address | None = None
        self.remote_rtcp: Address | None = None
        self.expected_rtp: Address | None = None
        self.expected_rtcp: Address | None = None
        self.last_seen = 0.0
        self.packets_in = self.bytes_in = self.packets_out = self.bytes_out = 0
        self.rtcp_in = self.rtcp_out = self.dropped = 0
        self.reception = ReceptionStats()
        self.ssrc: int | None = None
        # Recording and feature-code taps (media/recorder.py): None unless the call is recorded
        # or watched, so an untapped packet pays one attribute test.
        self.tap: Callable[[tuple[bytes, float]], object] | None = None
        # Fan-out (paging, pbx/paging.py): when set, what goes out of this leg goes to each of
        # these addresses instead of the leg's one remote — one talker, many listeners.
        self.copies: tuple[Address, ...] = ()
        # SDES-SRTP toward this leg's phone (media/srtp.py, calls/secure_media.py): None is plain RTP.
        self.srtp: SrtpLeg | None = None

    def send_rtp(self, data: bytes, target: Address) -> None:
        """One RTP packet to this leg's phone, encrypted when the leg is SRTP (music, prompts)."""
        if self.srtp is not None:
            protected = self.srtp.protect(data, False)
            if protected is None:
                return
            data = protected
        assert self.rtp_transport is not None
        self.rtp_transport.sendto(data, target)

    def stats(self) -> LegStats:
        r = self.reception
        return LegStats(
            self.name, self.rtp_port, self.remote_rtp, self.packets_in, self.bytes_in, self.packets_out,
            self.bytes_out, self.rtcp_in, self.rtcp_out, self.dropped, max(0, r.lost), r.jitter_ms,
        )  # fmt: skip


class _Proto(asyncio.DatagramProtocol):
    __slots__ = ("handler",)

    def __init__(self, handler: Callable[[bytes, Address], None]) -> None:
        self.handler = handler

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.handler(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a hung-up phone: nothing to do, the idle timer ends the relay.
        log.debug("RTP socket error: %s", exc)


class RtpRelay:
    def __init__(
        self,
        call_id: str,
        allocator: PortAllocator,
        host: str = "0.0.0.0",
        idle_timeout: float = 60.0,
        relatch_after: float = 2.0,
        clock_rate: int = 8000,
        on_idle: Callable[[RtpRelay], None] | None = None,
    ) -> None:
        self.call_id = call_id
        self._allocator = allocator
        self._host = host
        self.idle_timeout = idle_timeout
        self.relatch_after = relatch_after
        self._clock_rate = clock_rate
        self._on_idle = on_idle
        self._legs: dict[str, _Leg] = {}
        self._sockets: list[socket.socket] = []
        self._timer: asyncio.TimerHandle | None = None
        self.last_activity = time.monotonic()
        self.closed = False
        self.close_reason = ""
        self._recorder: CallRecorder | None = None
        self._watches: dict[str, FeatureCodeWatch] = {}
        self._flush_timer: asyncio.TimerHandle | None = None
        self.sdes: dict[str, SdesState] = {}  # per leg, kept by calls/secure_media.py

    def bind(self) -> RtpRelay:
        """Bind both legs' sockets now (their ports are known at once, for the SDP); packets that
        arrive before ``attach`` wait in the kernel's buffer."""
        try:
            for name in LEGS:
                rtp_sock, rtcp_sock = bind_pair(self._allocator, self._host)
                self._sockets += [rtp_sock, rtcp_sock]
                leg = _Leg(name, rtp_sock.getsockname()[1], rtcp_sock.getsockname()[1])
                leg.reception = ReceptionStats(self._clock_rate)
                self._legs[name] = leg
        except BaseException:
            self.close("start failed")
            raise
        return self

    async def attach(self) -> RtpRelay:
        """Start forwarding on the bound sockets."""
        loop = asyncio.get_running_loop()
        try:
            for i, name in enumerate(LEGS):
                if self.closed:  # hung up before forwarding started
                    return self
                leg = self._legs[name]
                rtp_sock, rtcp_sock = self._sockets[2 * i], self._sockets[2 * i + 1]
                other = "b" if name == "a" else "a"
                t1, _ = await loop.create_datagram_endpoint(
                    lambda n=name, o=other: _Proto(self._rtp_handler(n, o)),  # type: ignore[misc]
                    sock=rtp_sock,
                )
                t2, _ = await loop.create_datagram_endpoint(
                    lambda n=name, o=other: _Proto(self._rtcp_handler(n, o)),  # type: ignore[misc]
                    sock=rtcp_sock,
                )
                leg.rtp_transport, leg.rtcp_transport = t1, t2
                if self.closed:  # closed while attaching
                    t1.close()
                    t2.close()
        except BaseException:
            self.close("start failed")
            raise
        if self.idle_timeout > 0 and not self.closed:
            self._timer = loop.call_later(min(self.idle_timeout, 5.0), self._check_idle)
        return self

    async def start(self) -> RtpRelay:
        self.bind()
        return await self.attach()

    # -- the forwarding paths: kept flat, they run for every packet ----------------------------

    def _rtp_handler(self, name: str, other: str) -> Callable[[bytes, Address], None]:
        src = self._legs[name]

        def handle(data: bytes, addr: Address) -> None:
            if src.srtp is not None:  # authenticated before it may latch (RFC 3711 §3.3)
                plain = src.srtp.unprotect(data, False)
                if plain is None:
                    src.dropped += 1
                    return
                data = plain
            now = time.monotonic()
            if addr != src.remote_rtp:
                if src.remote_rtp is not None and now - src.last_seen < self.relatch_after:
                    src.dropped += 1  # not the latched source while it is still talking
                    return
                src.remote_rtp = addr  # latch (or re-latch after the old source fell silent)
            src.last_seen = now
            self.last_activity = now
            src.packets_in += 1
            src.bytes_in += len(data)
            if len(data) >= 12 and data[0] >> 6 == 2:
                ssrc = int.from_bytes(data[8:12], "big")
                if ssrc != src.ssrc:  # a new source (re-INVITE, transfer): restart its statistics
                    src.ssrc = ssrc
                    src.reception = ReceptionStats(self._clock_rate)
                src.reception.update((data[2] << 8) | data[3], int.from_bytes(data[4:8], "big"), now)
            if src.copies:
                src.dropped += 1  # a listener of a fan-out (a page) is not heard: one-way
                return
            tap = src.tap
            if tap is not None:
                tap((data, now))
            dst = self._legs.get(other)
            if dst is None or dst.rtp_transport is None:
                return
            copies = dst.copies
            if copies:
                for copy in copies:
                    dst.rtp_transport.sendto(data, copy)
                dst.packets_out += len(copies)
                dst.bytes_out += len(data) * len(copies)
                return
            target = dst.remote_rtp or dst.expected_rtp
            if target is None:
                src.dropped += 1
                return
            if dst.srtp is not None:
                protected = dst.srtp.protect(data, False)
                if protected is None:
                    return
                data = protected
            dst.rtp_transport.sendto(data, target)
            dst.packets_out += 1
            dst.bytes_out += len(data)

        return handle

    def _rtcp_handler(self, name: str, other: str) -> Callable[[bytes, Address], None]:
        src = self._legs[name]

        def handle(data: bytes, addr: Address) -> None:
            if src.srtp is not None:
                plain = src.srtp.unprotect(data, True)
                if plain is None:
                    src.dropped += 1
                    return
                data = plain
            if src.remote_rtcp is None or (
                addr != src.remote_rtcp and src.remote_rtp is not None and addr[0] == src.remote_rtp[0]
            ):
                src.remote_rtcp = addr
            elif addr != src.remote_rtcp:
                src.dropped += 1
                return
            self.last_activity = time.monotonic()
            src.rtcp_in += 1
            dst = self._legs.get(other)
            if dst is None or dst.rtcp_transport is None:
                return
            target = dst.remote_rtcp or dst.expected_rtcp
            if target is None and dst.remote_rtp is not None:
                target = (dst.remote_rtp[0], dst.remote_rtp[1] + 1)  # RFC 3550 §11 default
            if target is None:
                return
            if dst.srtp is not None:
                protected = dst.srtp.protect(data, True)
                if protected is None:
                    return
                data = protected
            dst.rtcp_transport.sendto(data, target)
            dst.rtcp_out += 1

        return handle

    # -- control ------------------------------------------------------------------------------

    def local_port(self, leg: str) -> int:
        return self._leg(leg).rtp_port

    def _leg(self, leg: str) -> _Leg:
        try:
            return self._legs[leg]
        except KeyError:
            raise MediaError(f"leg: {leg!r} is not one of {LEGS}") from None

    def set_remote(self, leg: str, address: str, port: int, rtcp_port: int | None = None) -> None:
        """Where the leg's SDP says it receives; used until the leg's first packet latches it."""
        lg = self._leg(leg)
        if lg.expected_rtp is None and port:
            self.last_activity = time.monotonic()  # the side just answered: its media may start now
        lg.expected_rtp = (address, port) if port else None
        lg.expected_rtcp = (address, rtcp_port or port + 1) if port else None

    def stats(self, leg: str) -> LegStats:
        return self._leg(leg).stats()

    def fan_out(self, leg: str, addresses: Iterable[Address]) -> None:
        """Send what goes out of ``leg`` to every one of ``addresses`` (their SDP addresses: a
        listener sends nothing to latch on), and forward nothing that arrives on it (one-way: a
        phone that sends anyway is not heard); an empty list returns the leg to its one remote."""
        self._leg(leg).copies = tuple(addresses)
        self.last_activity = time.monotonic()

    def set_srtp(self, leg: str, srtp: SrtpLeg | None) -> None:
        """SRTP on ``leg`` from now (None: plain RTP again, after a re-INVITE to RTP/AVP)."""
        self._leg(leg).srtp = srtp

    def srtp(self, leg: str) -> SrtpLeg | None:
        return self._leg(leg).srtp

    # -- recording (media/recorder.py) --------------------------------------------------------

    @property
    def recorder(self) -> CallRecorder | None:
        return self._recorder

    def start_recording(self, path: str | Path, flush_every_s: float = 1.0) -> CallRecorder:
        """Record both legs into a new stereo WAV at ``path`` (caller left, callee right) from now."""
        if self.closed:
            raise MediaError(f"call_id: {self.call_id!r} relay is closed")
        if self._recorder is not None:
            raise MediaError(f"call_id: {self.call_id!r} is already being recorded")
        self._recorder = CallRecorder(path, time.monotonic())
        self._retap()
        with contextlib.suppress(RuntimeError):  # no running loop: the caller flushes
            loop = asyncio.get_running_loop()
            # A random first flush: recordings started together (a burst of calls, the bench's
            # 500 at once) would otherwise all flush in the same loop turn every second, a stall
            # of tens of milliseconds for every relayed packet behind them.
            first = flush_every_s * (0.05 + 0.95 * random.random())
            self._flush_timer = loop.call_later(first, self._flush_recording, flush_every_s)
        return self._recorder

    def stop_recording(self) -> RecordingResult | None:
        """Finish the file; None when nothing was being recorded."""
        rec, self._recorder = self._recorder, None
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if rec is None:
            return None
        self._retap()
        return rec.close(time.monotonic())

    def _flush_recording(self, every: float) -> None:
        self._flush_timer = None
        rec = self._recorder
        if rec is None:
            return
        try:
            rec.flush(time.monotonic())
        except OSError as exc:  # disk full, file gone: the call goes on unrecorded
            log.error("media.recording.failed call=%s path=%s: %s", self.call_id, rec.path, exc)
            self.stop_recording()
            return
        self._flush_timer = asyncio.get_running_loop().call_later(every, self._flush_recording, every)

    def watch(self, leg: str, watch: FeatureCodeWatch | None) -> None:
        """Feed ``leg``'s incoming packets to a feature-code watch (None stops watching)."""
        self._leg(leg)
        if watch is None:
            self._watches.pop(leg, None)
        else:
            self._watches[leg] = watch
        self._retap()

    def _retap(self) -> None:
        rec = self._recorder
        for name, leg in self._legs.items():
            feed = None if rec is None else (rec.feed_a if name == "a" else rec.feed_b)
            watch = self._watches.get(name)
            if feed is not None and watch is not None:
                leg.tap = lambda item, f=feed, w=watch.feed: (f(item), w(item))
            elif watch is not None:
                leg.tap = watch.feed
            else:
                leg.tap = feed

    def _check_idle(self) -> None:
        self._timer = None
        if self.closed:
            return
        if any(lg.expected_rtp is None and lg.remote_rtp is None for lg in self._legs.values()):
            # One side's media address is not known yet (the call still rings, no early media):
            # silence is expected; the no-media clock starts once both sides are known.
            self.last_activity = time.monotonic()
        idle = time.monotonic() - self.last_activity
        if idle >= self.idle_timeout:
            self.close("idle")
            if self._on_idle is not None:
                self._on_idle(self)
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(min(self.idle_timeout - idle, 5.0) + 0.01, self._check_idle)

    def close(self, reason: str = "closed") -> None:
        """Close the sockets and give the ports back; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        if self._timer is not None:
            self._timer.cancel()
        try:
            self.stop_recording()  # the file is complete when the relay closes (idle, hang-up)
        except OSError as exc:
            log.error("media.recording.failed call=%s: %s", self.call_id, exc)
        self._watches.clear()
        for leg in self._legs.values():
            for t in (leg.rtp_transport, leg.rtcp_transport):
                if t is not None:
                    t.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()
        for leg in self._legs.values():
            self._allocator.release(leg.rtp_port)
