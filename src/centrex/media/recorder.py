"""Call recording on the relay: one stereo WAV per call, and the on-demand feature code.

``CallRecorder`` is the tap the relay feeds with every RTP packet it accepts on either leg. The
file is 8 kHz 16-bit **stereo: the caller (leg a) left, the callee (leg b) right**. Stereo rather
than a mix because each party stays separate (a supervisor or a transcriber can tell who said
what, a level problem on one side does not bury the other), summing two streams would need
clipping, and the file is made without aligning the two streams sample by sample in real time —
each is placed on its own channel by its own timestamps. A mono mix is one ``mean(axis=1)`` away.

The per-packet cost is one list append (the relay's hot loop): packets are parsed, decoded
(PCMU/PCMA by payload type, one numpy table lookup per batch) and written when ``flush`` runs, which
the relay does once a second. Placement is by RTP timestamp, so lost or suppressed packets (VAD/DTX)
become silence of the right length and the file's duration is the call's: each leg's timeline is
anchored at the arrival of its first packet and re-anchored when its source changes (new SSRC:
re-INVITE, transfer) or when its timestamps stray from arrival time by more than ``MAX_SKEW_S`` in
``RE_ANCHOR_AFTER`` packets in a row (a sender that restarted its clock; a single straggler is
dropped). Audio is written once it is ``HORIZON_S`` old, so packets reordered or delayed by up to
that much still land in place; later ones are counted and dropped. Payloads that
are not G.711 (telephone-event, comfort noise, other codecs) leave silence.

``FeatureCodeWatch`` spots a feature code (``*1``) keyed on one leg as RFC 4733 telephone-events,
each digit within ``window_s`` of the previous one.
"""

from __future__ import annotations

import contextlib
import os
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from centrex.media.dtmf import EVENTS
from centrex.media.errors import MediaError
from centrex.media.g711 import ALAW_DECODE, ULAW_DECODE

RATE = 8000
CHANNELS = 2  # 0 = leg a (caller), 1 = leg b (callee)
HORIZON_S = 1.0  # how late (after it should have been heard) a packet may still arrive
MAX_SKEW_S = 1.0  # timestamps further than this from arrival time ...
RE_ANCHOR_AFTER = 3  # ... in this many packets in a row re-anchor the leg
DECODERS = {0: ULAW_DECODE, 8: ALAW_DECODE}  # RFC 3551 static payload types
_HEADER = struct.Struct("!BBHII")
EVENT_MEMORY_S = 1.0  # after an event's last packet (its end is sent three times in a row)
_SILENCE_CHUNK = 10 * RATE
Placed = dict[int, list[tuple[int, int, bytes]]]  # payload type -> (channel, position, payload)


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """A finished recording file (the sha256 is taken by whoever stores the row, off the loop)."""

    path: Path
    frames: int  # samples per channel
    packets: int  # G.711 packets placed
    dropped: int  # came after their audio was written, or strayed from their stream's timeline
    undecodable: int  # RTP packets with a payload that is not G.711 (telephone-event, CN, ...)

    @property
    def duration_ms(self) -> int:
        return 1000 * self.frames // RATE


class _Track:
    """One leg's timeline: RTP timestamp -> sample position in the file."""

    __slots__ = ("base_pos", "base_ts", "misfits", "ssrc")

    def __init__(self) -> None:
        self.ssrc: int | None = None
        self.base_ts = 0
        self.base_pos = 0
        self.misfits = 0  # packets in a row whose timestamp strays from arrival time


def open_exclusive(path: Path) -> tuple[wave.Wave_write, BinaryIO]:
    """A new WAV file readable by the service's user only (recordings are CPNI); never overwrites.
    The caller closes both (``wave`` leaves a file object it was given open)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    fh = os.fdopen(fd, "wb")
    try:
        w = wave.open(fh, "wb")  # noqa: SIM115 - stays open while the call lasts
        w.setnchannels(CHANNELS)
        w.setsampwidth(2)
        w.setframerate(RATE)
    except BaseException:
        fh.close()
        raise
    return w, fh


class CallRecorder:
    def __init__(self, path: str | Path, started: float) -> None:
        """``started``: the monotonic time the recording starts (sample 0 of the file)."""
        self.path = Path(path)
        self.started = started
        self._wav, self._fh = open_exclusive(self.path)
        self._pending: tuple[list[tuple[bytes, float]], list[tuple[bytes, float]]] = ([], [])
        # The hot path: two bound appends, one per leg.
        self.feed_a: Callable[[tuple[bytes, float]], None] = self._pending[0].append
        self.feed_b: Callable[[tuple[bytes, float]], None] = self._pending[1].append
        self._tracks = (_Track(), _Track())
        self._buf = np.zeros((CHANNELS, 4 * RATE), dtype=np.int16)  # samples from _written on
        self._written = 0
        self._end = 0  # one past the last sample any packet filled
        self.packets = self.dropped = self.undecodable = 0
        self.result: RecordingResult | None = None

    @property
    def closed(self) -> bool:
        return self.result is not None

    # -- placing packets ---------------------------------------------------------------------
    def flush(self, now: float) -> None:
        """Place what was fed, and write what is older than the horizon."""
        if self.result is not None:
            return
        batches = []
        oldest = now
        for ch in (0, 1):
            pending = self._pending[ch]
            if pending:
                batch = pending[:]
                del pending[:]  # the same list object stays bound to feed_a / feed_b
                batches.append((ch, batch))
                oldest = min(oldest, batch[0][1])
        # Nothing fed from now on can belong before the oldest arrival minus the horizon.
        self._emit_to(self._at(oldest - HORIZON_S))
        placed: Placed = {}
        for ch, batch in batches:
            for data, arrived in batch:
                self._place(ch, data, arrived, placed)
        for pt, items in placed.items():
            self._decode_into(DECODERS[pt], items)
        self._emit_to(self._at(now - HORIZON_S))

    def _at(self, t: float) -> int:
        return max(0, round((t - self.started) * RATE))

    def _place(self, ch: int, data: bytes, arrived: float, placed: Placed) -> None:
        if len(data) < 12:
            return
        b0, b1, _seq, ts, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != 2:
            return
        pt = b1 & 0x7F
        if pt not in DECODERS:
            self.undecodable += 1
            return
        start = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension (RFC 3550 §5.3.1)
            if len(data) < start + 4:
                return
            start += 4 + 4 * int.from_bytes(data[start + 2 : start + 4], "big")
        end = len(data) - (data[-1] if b0 & 0x20 else 0)  # padding
        if end <= start:
            return
        track = self._tracks[ch]
        expected = self._at(arrived)
        delta = ((ts - track.base_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        pos = track.base_pos + delta
        if ssrc == track.ssrc and abs(pos - expected) > MAX_SKEW_S * RATE:
            # One straggler is dropped; a run of them is a sender whose clock jumped.
            track.misfits += 1
            if track.misfits < RE_ANCHOR_AFTER:
                self.dropped += 1
                return
        elif ssrc == track.ssrc:
            track.misfits = 0
        if ssrc != track.ssrc or track.misfits:
            track.ssrc, track.base_ts, track.base_pos, track.misfits = ssrc, ts, expected, 0
            pos = expected
        self.packets += 1
        placed.setdefault(pt, []).append((ch, pos, data[start:end]))

    def _decode_into(self, table: npt.NDArray[np.int16], items: list[tuple[int, int, bytes]]) -> None:
        pcm = table[np.frombuffer(b"".join(p for _, _, p in items), dtype=np.uint8)]
        i = 0
        for ch, pos, payload in items:
            n = len(payload)
            samples = pcm[i : i + n]
            i += n
            if pos < self._written:  # its time has already been written
                cut = self._written - pos
                if cut >= n:
                    self.dropped += 1
                    continue
                samples, pos, n = samples[cut:], self._written, n - cut
            offset = pos - self._written
            if offset + n > self._buf.shape[1]:
                grown = np.zeros((CHANNELS, max(2 * self._buf.shape[1], offset + n)), dtype=np.int16)
                grown[:, : self._buf.shape[1]] = self._buf
                self._buf = grown
            self._buf[ch, offset : offset + n] = samples
            self._end = max(self._end, pos + n)

    # -- writing -----------------------------------------------------------------------------
    def _emit_to(self, target: int) -> None:
        n = target - self._written
        if n <= 0:
            return
        k = min(n, self._buf.shape[1])
        self._write(self._buf[:, :k])
        self._buf[:, : self._buf.shape[1] - k] = self._buf[:, k:].copy()
        self._buf[:, self._buf.shape[1] - k :] = 0
        self._written += k
        rest = n - k
        while rest > 0:  # a long silence (hold without RTP): written in bounded chunks
            chunk = min(rest, _SILENCE_CHUNK)
            self._write(np.zeros((CHANNELS, chunk), dtype=np.int16))
            self._written += chunk
            rest -= chunk

    def _write(self, block: npt.NDArray[np.int16]) -> None:
        # writeframes patches the header each time, so a crash leaves a valid file up to here.
        self._wav.writeframes(np.ascontiguousarray(block.T).astype("<i2", copy=False).tobytes())

    def close(self, now: float) -> RecordingResult:
        """Write everything (the file lasts until ``now``, or to its last packet) and close it."""
        if self.result is not None:
            return self.result
        try:
            self.flush(now + HORIZON_S)  # nothing more will come: every fed packet is final
            self._emit_to(max(self._end, self._at(now)))
        finally:
            with contextlib.suppress(OSError):
                self._wav.close()
            with contextlib.suppress(OSError):
                self._fh.close()
            self.result = RecordingResult(
                self.path, self._written, self.packets, self.dropped, self.undecodable
            )
        return self.result


class FeatureCodeWatch:
    """A feature code keyed on one leg, as RFC 4733 telephone-events (e.g. ``*1`` for on-demand
    recording). Each digit counts once however many packets carry it (RFC 4733 §2.5: the packets of
    one event share its timestamp; a press is over once its packets have stopped for
    ``EVENT_MEMORY_S``, so a sender that replays the same packets later is heard again), and each digit
    must follow the previous one within ``window_s``.

    The payload type of telephone-event is dynamic (negotiated in SDP, which the relay does not
    read), so an event is recognised by its shape: a dynamic payload type (96-127) carrying one
    4-byte event 0-15; audio codecs do not send 4-byte frames.
    """

    def __init__(self, code: str, on_match: Callable[[float], None], window_s: float = 2.0) -> None:
        if not code or any(c not in EVENTS for c in code):
            raise MediaError(f"code: {code!r} must be DTMF digits (0-9, *, #, A-D)")
        self.code = code
        self.window_s = window_s
        self.on_match = on_match
        self._seen: dict[tuple[int, int], float] = {}  # (ssrc, event timestamp) -> its last packet
        self._typed: list[tuple[str, float]] = []

    def feed(self, item: tuple[bytes, float]) -> None:
        """The relay's tap: ``(packet, arrival time)``."""
        data, now = item
        if len(data) > 64 or len(data) < 16:  # fast exit for audio (172 bytes for 20 ms G.711)
            return
        b0, b1, _seq, ts, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != 2 or not 96 <= (b1 & 0x7F) <= 127:
            return
        start = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10 or len(data) - start != 4:
            return
        event = data[start]
        if event >= 16:
            return
        key = (ssrc, ts)
        last = self._seen.get(key)
        self._seen[key] = now
        if last is not None and now - last < EVENT_MEMORY_S:
            return  # another packet of a press already counted
        if len(self._seen) > 16:
            self._seen = {k: t for k, t in self._seen.items() if now - t < EVENT_MEMORY_S}
        self.digit(EVENTS[event], now)

    def digit(self, digit: str, now: float) -> None:
        if self._typed and now - self._typed[-1][1] > self.window_s:
            self._typed.clear()
        self._typed.append((digit, now))
        del self._typed[: -len(self.code)]
        if "".join(d for d, _ in self._typed) == self.code:
            self._typed.clear()
            self.on_match(now)
