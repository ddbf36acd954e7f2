"""An adaptive jitter buffer for apps that consume audio (voicemail, attendant, conference, recorder).

Sans-I/O: ``put`` packets as they arrive (with their arrival time), ``pop`` one frame per playout
tick. The buffer holds back playout until ``target`` frames are queued; the target follows the
measured interarrival jitter (RFC 3550 §A.8 estimator, 3 × jitter + one frame, clamped) and grows
after an underrun. A gap is concealed (the previous frame once, then silence) and its packet is
dropped if it shows up after its turn; when the queue runs deeper than the target for a while, one
frame is skipped, preferably at the start of a talk spurt (marker bit) where nobody hears it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from centrex.media.rtp import RtpPacket, seq_add, seq_diff


@dataclass(frozen=True, slots=True)
class Frame:
    sequence: int
    payload: bytes
    concealed: bool = False


@dataclass(frozen=True, slots=True)
class JitterStats:
    received: int
    played: int
    concealed: int
    late: int
    duplicates: int
    skipped: int
    underruns: int
    depth: int
    target: int
    jitter_ms: float


class JitterBuffer:
    def __init__(
        self,
        frame_ms: int = 20,
        clock_rate: int = 8000,
        min_frames: int = 1,
        max_frames: int = 10,
        silence: bytes = b"\xff" * 160,
    ) -> None:
        self.frame_ms = frame_ms
        self.clock_rate = clock_rate
        self.min_frames, self.max_frames = min_frames, max_frames
        self.silence = silence
        self._q: dict[int, RtpPacket] = {}
        self._next: int | None = None  # next sequence number to play
        self._playing = False
        self.target = min_frames
        self._jitter = 0.0  # seconds
        self._transit: float | None = None
        self._last: bytes | None = None
        self._concealed_run = 0
        self._deep_ticks = 0
        self.received = self.played = self.concealed = self.late = 0
        self.duplicates = self.skipped = self.underruns = 0

    def put(self, packet: RtpPacket, arrival: float) -> None:
        transit = arrival - packet.timestamp / self.clock_rate
        if self._transit is not None:
            d = transit - self._transit
            # ignore timestamp jumps across wrap or a new talk spurt far away
            if abs(d) < 1.0:
                self._jitter += (abs(d) - self._jitter) / 16
        self._transit = transit
        self._adapt_target()
        if self._next is not None and seq_diff(packet.sequence, self._next) < 0:
            self.late += 1  # its turn has passed: it was concealed already
            return
        if packet.sequence in self._q:
            self.duplicates += 1
            return
        self.received += 1
        self._q[packet.sequence] = packet
        if self._next is None or (not self._playing and seq_diff(packet.sequence, self._next) < 0):
            self._next = packet.sequence
        while len(self._q) > self.max_frames * 2:  # a burst far beyond any target: keep the newest
            self._drop_oldest()

    def _adapt_target(self) -> None:
        frame = self.frame_ms / 1000
        want = math.ceil((3 * self._jitter + frame) / frame - 1e-6)  # tolerance: float transit noise
        self.target = max(self.target if self.underruns else self.min_frames, min(self.max_frames, want))

    def _drop_oldest(self) -> None:
        assert self._next is not None
        while self._next not in self._q and self._q:
            self._next = seq_add(self._next, 1)
        self._q.pop(self._next, None)
        self._next = seq_add(self._next, 1)
        self.skipped += 1

    @property
    def depth(self) -> int:
        return len(self._q)

    def pop(self) -> Frame | None:
        """The frame for this tick; None while buffering before the first playout (send silence)."""
        if self._next is None:
            return None
        if not self._playing:
            if len(self._q) < self.target:
                return None
            self._playing = True
        self._maybe_skip()
        seq = self._next
        pkt = self._q.pop(seq, None)
        self._next = seq_add(seq, 1)
        if pkt is not None:
            self.played += 1
            self._last = pkt.payload
            self._concealed_run = 0
            return Frame(seq, pkt.payload)
        if not self._q:
            self.underruns += 1
            self.target = min(self.max_frames, self.target + 1)
        self.concealed += 1
        self._concealed_run += 1
        # repeat the last frame once (covers a single loss well), then silence
        payload = self._last if self._concealed_run == 1 and self._last is not None else self.silence
        return Frame(seq, payload, concealed=True)

    def _maybe_skip(self) -> None:
        if len(self._q) > self.target + 1:
            self._deep_ticks += 1
        else:
            self._deep_ticks = 0
            return
        assert self._next is not None
        head = self._q.get(self._next)
        # skip at a talk-spurt start at once; otherwise after a second of persistent excess depth
        if (head is not None and head.marker) or self._deep_ticks * self.frame_ms >= 1000:
            self._drop_oldest()
            self._deep_ticks = 0

    def stats(self) -> JitterStats:
        return JitterStats(
            self.received, self.played, self.concealed, self.late, self.duplicates, self.skipped,
            self.underruns, len(self._q), self.target, self._jitter * 1000,
        )  # fmt: skip
