"""One app call's media: paced G.711 playback, recording, and DTMF from RFC 4733 or in-band tones.

The app server sends to the address in the caller's SDP (the engine's relay, which sends from the
port it advertises, so no latching is needed) and accepts RTP only from that host or from the app
server's allowed sources. Playback is paced by the loop clock, one 20 ms frame per tick, with
continuous sequence numbers and timestamps that follow wall time across pauses (a new talk spurt
carries the marker bit). DTMF: RFC 4733 events when the SDP negotiated telephone-event, else a
Goertzel detector on the decoded audio (cheap: one 205x8 matrix product per 25 ms).

Recording places each packet's samples at its RTP timestamp, so loss leaves silence, reordering
and duplicates change nothing, and a new SSRC (or a timestamp jump that wall time does not explain)
continues where the recording is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from centrex.media.dtmf import DtmfDecoder, GoertzelDetector
from centrex.media.errors import MediaError
from centrex.media.g711 import Pcm, codec_for
from centrex.media.ports import PortAllocator
from centrex.media.rtp import RtpPacket, parse_rtp, seq_add, ts_add, ts_diff

log = logging.getLogger(__name__)

Address = tuple[str, int]
FRAME = 160  # samples of 20 ms at 8 kHz
FRAME_S = 0.02
RATE = 8000


@dataclass(frozen=True, slots=True)
class MediaFormat:
    """What offer/answer settled: the G.711 codec and payload type, and telephone-event's type."""

    encoding: str  # PCMU or PCMA
    payload_type: int
    event_type: int | None  # None: the caller offered no telephone-event, listen in-band


@dataclass(frozen=True, slots=True)
class Recording:
    samples: Pcm
    reason: str  # digit, max, silence, hangup
    digit: str | None = None

    @property
    def duration_ms(self) -> int:
        return len(self.samples) * 1000 // RATE


class _Recorder:
    def __init__(self, max_samples: int, now: float) -> None:
        self.buf = np.zeros(max_samples, dtype=np.int16)
        self.max = max_samples
        self.end = 0
        self.last_voice_end = 0  # sample index after the last voiced frame
        self.ssrc: int | None = None
        self.base_ts = 0
        self.offset = 0
        self.last_pos = 0
        self.last_arrival = now

    def add(self, packet: RtpPacket, pcm: Pcm, now: float, voiced: bool) -> None:
        if self.ssrc is None or packet.ssrc != self.ssrc:
            self._rebase(packet, now)
        pos = self.offset + ts_diff(packet.timestamp, self.base_ts)
        # A jump the clock does not explain (a peer restarted its timestamps): continue from here.
        expected = self.last_pos + int((now - self.last_arrival) * RATE)
        if abs(pos - expected) > RATE:
            self._rebase(packet, now, at=max(self.end, expected))
            pos = self.offset
        self.last_arrival, self.last_pos = now, pos
        if pos < 0 or pos >= self.max:
            return
        n = min(len(pcm), self.max - pos)
        self.buf[pos : pos + n] = pcm[:n]
        self.end = max(self.end, pos + n)
        if voiced:
            self.last_voice_end = max(self.last_voice_end, pos + n)

    def _rebase(self, packet: RtpPacket, now: float, at: int | None = None) -> None:
        self.offset = self.end if at is None else at
        self.ssrc = packet.ssrc
        self.base_ts = packet.timestamp
        self.last_pos = self.offset
        self.last_arrival = now

    @property
    def full(self) -> bool:
        return self.end >= self.max


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, owner: CallMedia) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("app RTP socket error: %s", exc)


class CallMedia:
    """RTP of one call. ``start()`` binds a pair from the allocator; ``close()`` gives it back."""

    def __init__(
        self,
        allocator: PortAllocator,
        host: str,
        fmt: MediaFormat,
        remote: Address | None,
        *,
        trusted_hosts: frozenset[str] = frozenset(),
        voice_rms: float = 100.0,
    ) -> None:
        self.allocator = allocator
        self.host = host
        self.fmt = fmt
        self.remote = remote
        self.trusted_hosts = trusted_hosts
        self.voice_rms = voice_rms
        self.port = 0
        self.closed = asyncio.Event()
        self.packets_in = 0
        self.packets_out = 0
        self._encode, _ = codec_for(fmt.encoding)
        self._digits: asyncio.Queue[str] = asyncio.Queue()
        self._dtmf = DtmfDecoder(fmt.event_type) if fmt.event_type is not None else None
        self._inband = GoertzelDetector() if fmt.event_type is None else None
        self._transport: asyncio.DatagramTransport | None = None
        self._sockets: list[socket.socket] = []
        self._recorder: _Recorder | None = None
        self._last_voice_at = 0.0
        self._seq = random.randrange(1 << 16)
        self._ts0 = random.randrange(1 << 32)
        self._ssrc = random.randrange(1, 1 << 32)
        self._t0 = 0.0
        self._next_ts: int | None = None
        self._playing = False
        # Streaming apps (the conference): every decoded G.711 frame received goes here too.
        self.on_audio: Callable[[Pcm], None] | None = None
        # Listeners besides the app (a call recording started by the API, cpaas/calls/desk.py).
        self.taps: list[Callable[[Pcm], None]] = []
        self._streaming = False

    async def start(self) -> CallMedia:
        from centrex.media.rtp_relay import bind_pair

        loop = asyncio.get_running_loop()
        rtp, rtcp = bind_pair(self.allocator, self.host)
        self._sockets = [rtp, rtcp]
        self.port = rtp.getsockname()[1]
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Proto(self), sock=rtp)
        except BaseException:
            self._release()
            raise
        self._transport = transport
        self._t0 = loop.time()
        return self

    # -- receiving ------------------------------------------------------------------------------
    def _received(self, data: bytes, addr: Address) -> None:
        if self.closed.is_set():
            return
        if addr[0] not in self.trusted_hosts and (self.remote is None or addr[0] != self.remote[0]):
            return  # RTP only from the caller's SDP address or the switch itself
        try:
            packet = parse_rtp(data)
        except MediaError:
            return
        self.packets_in += 1
        if self._dtmf is not None and packet.payload_type == self.fmt.event_type:
            try:
                digit = self._dtmf.feed(packet)
            except MediaError:
                return
            if digit is not None:
                self.push_digit(digit)
            return
        if packet.payload_type not in (0, 8):
            return
        _, decode = codec_for("PCMU" if packet.payload_type == 0 else "PCMA")
        pcm = decode(packet.payload)
        now = asyncio.get_running_loop().time()
        voiced = len(pcm) > 0 and float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > self.voice_rms
        if voiced:
            self._last_voice_at = now
        if self._recorder is not None:
            self._recorder.add(packet, pcm, now, voiced)
        if self._inband is not None:
            for digit in self._inband.feed(pcm):
                self.push_digit(digit)
        if self.on_audio is not None:
            self.on_audio(pcm)
        for tap in self.taps:
            tap(pcm)

    def push_digit(self, digit: str) -> None:
        """A key press from RTP, in-band audio or SIP INFO."""
        self._digits.put_nowait(digit)

    # -- sending ----------------------------------------------------------------------------------
    def _send_frame(self, frame: Pcm, marker: bool) -> None:
        if self._transport is None or self.remote is None or self.remote[1] == 0:
            return
        assert self._next_ts is not None
        payload = self._encode(frame)
        packet = RtpPacket(self.fmt.payload_type, self._seq, self._next_ts, self._ssrc, payload, marker)
        self._transport.sendto(packet.pack(), self.remote)
        self.packets_out += 1
        self._seq = seq_add(self._seq, 1)
        self._next_ts = ts_add(self._next_ts, FRAME)

    def send_stream_frame(self, frame: Pcm) -> None:
        """Send one 20 ms frame now: for an app that paces frames itself (the conference mixer's
        tick). The first frame after a ``play`` (or the first ever) starts a talk spurt whose
        timestamp follows wall time; the next ones follow on. ``end_stream()`` before a ``play``."""
        if not self._streaming:
            now = asyncio.get_running_loop().time()
            self._next_ts = ts_add(self._ts0, int((now - self._t0) * RATE))
        self._send_frame(frame, marker=not self._streaming)
        self._streaming = True

    def end_stream(self) -> None:
        self._streaming = False

    async def play(self, pcm: Pcm, *, interrupt: str = "0123456789*#ABCD") -> str | None:
        """Send ``pcm`` in real time. A digit in ``interrupt`` stops it and is returned (other digits
        are dropped); None when it played to the end or the call closed."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        self._streaming = False
        # Timestamps follow wall time: a pause between prompts is a gap the receiver can see.
        self._next_ts = ts_add(self._ts0, int((start - self._t0) * RATE))
        frames = max(1, -(-len(pcm) // FRAME)) if len(pcm) else 0
        for i in range(frames):
            digit = self._take_digit(interrupt)
            if digit is not None:
                return digit
            if self.closed.is_set():
                return None
            frame = pcm[i * FRAME : (i + 1) * FRAME]
            if len(frame) < FRAME:
                frame = np.concatenate([frame, np.zeros(FRAME - len(frame), dtype=np.int16)])
            self._send_frame(frame, marker=i == 0)
            delay = start + (i + 1) * FRAME_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        return self._take_digit(interrupt)

    def _take_digit(self, allowed: str) -> str | None:
        while not self._digits.empty():
            digit = self._digits.get_nowait()
            if digit in allowed:
                return digit
        return None

    async def next_digit(self, timeout: float) -> str | None:
        """The next key press (typed-ahead ones first), or None after ``timeout`` s or a hang-up."""
        if not self._digits.empty():
            return self._digits.get_nowait()
        get = asyncio.ensure_future(self._digits.get())
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _ = await asyncio.wait({get, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not get.done():
                get.cancel()
        if get in done and not get.cancelled():
            return get.result()
        return None

    def clear_digits(self) -> None:
        while not self._digits.empty():
            self._digits.get_nowait()

    async def record(
        self, max_ms: int, *, silence_ms: int, stop_digits: str = "#", max_wall_slack_s: float = 2.0
    ) -> Recording:
        """Record what the caller sends until a stop digit, ``max_ms`` of audio, ``silence_ms`` without
        voice, or a hang-up. Trailing silence is cut when silence ended it."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        rec = self._recorder = _Recorder(RATE * max_ms // 1000, start)
        self._last_voice_at = start
        reason, digit = "max", None
        try:
            while True:
                if self.closed.is_set():
                    reason = "hangup"
                    break
                digit = self._take_digit(stop_digits)
                if digit is not None:
                    reason = "digit"
                    break
                if rec.full or loop.time() - start > max_ms / 1000 + max_wall_slack_s:
                    reason = "max"
                    break
                if loop.time() - self._last_voice_at >= silence_ms / 1000:
                    reason = "silence"
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.closed.wait(), FRAME_S)
        finally:
            self._recorder = None
        end = rec.end
        if reason == "silence":
            end = min(rec.end, rec.last_voice_end + RATE // 5)  # keep 200 ms after the last word
        return Recording(rec.buf[:end].copy(), reason, digit)

    # -- the rest ---------------------------------------------------------------------------------
    def set_remote(self, remote: Address | None) -> None:
        self.remote = remote

    def close(self) -> None:
        """The call ended (BYE either way): playback and recording stop, the ports go back."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self._transport is not None:
            self._transport.close()
        self._release()

    def _release(self) -> None:
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()
        if self._sockets:
            with contextlib.suppress(MediaError):
                self.allocator.release(self.port or self._sockets[0].getsockname()[1])
        self._sockets = []
