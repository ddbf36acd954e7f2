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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
BUFFER_S = 8  # seconds of audio held before writing (horizon + a flush period + jitter, with room)
# payload type -> runs of one flush: [channel, first sample, one past the last, payloads], each run
# the packets of one leg that follow each other without a gap (nearly always: one run per leg)
Run = list[Any]
Placed = dict[int, list[Run]]


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


class WavFile:
    """A 16-bit PCM WAV written as it grows: the 44-byte header first, samples appended with one
    ``write`` each, and the two length fields patched in place (``pwrite``, no seeking) after every
    append, so a crash leaves a valid file up to the last append. Created readable by the service's
    user only (recordings are CPNI), and never over an existing file."""

    def __init__(self, path: Path, channels: int = CHANNELS, rate: int = RATE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.data_bytes = 0
        block = 2 * channels
        header = b"RIFF" + struct.pack("<I", 36) + b"WAVE"
        header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
        header += b"data" + struct.pack("<I", 0)
        self._write_all(header)

    def _write_all(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def append(self, data: bytes) -> None:
        self._write_all(data)
        self.data_bytes += len(data)
        os.pwrite(self._fd, struct.pack("<I", 36 + self.data_bytes), 4)
        os.pwrite(self._fd, struct.pack("<I", self.data_bytes), 40)

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


class CallRecorder:
    def __init__(self, path: str | Path, started: float) -> None:
        """``started``: the monotonic time the recording starts (sample 0 of the file)."""
        self.path = Path(path)
        self.started = started
        self._wav = WavFile(self.path)
        self._pending: tuple[list[tuple[bytes, float]], list[tuple[bytes, float]]] = ([], [])
        # The hot path: two bound appends, one per leg.
        self.feed_a: Callable[[tuple[bytes, float]], None] = self._pending[0].append
        self.feed_b: Callable[[tuple[bytes, float]], None] = self._pending[1].append
        self._tracks = (_Track(), _Track())
        # Samples not yet written: _buf[:, _head] is sample _written of the file.
        self._buf = np.zeros((CHANNELS, BUFFER_S * RATE), dtype=np.int16)
        self._head = 0
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
            self._place(ch, batch, placed)
        for pt, runs in placed.items():
            self._scatter(DECODERS[pt], runs)
        self._emit_to(self._at(now - HORIZON_S))

    def _at(self, t: float) -> int:
        return max(0, round((t - self.started) * RATE))

    def _place(self, ch: int, batch: list[tuple[bytes, float]], placed: Placed) -> None:
        """Each packet's payload type, payload and sample position (one flat loop: it runs for
        every packet of every recorded call)."""
        track = self._tracks[ch]
        started, skew = self.started, MAX_SKEW_S * RATE
        unpack = _HEADER.unpack_from
        for data, arrived in batch:
            if len(data) < 12:
                continue
            b0, b1, _seq, ts, ssrc = unpack(data)
            pt = b1 & 0x7F
            if b0 == 0x80:  # RTP version 2 without padding, extension or CSRCs: nearly every packet
                start, end = 12, len(data)
            elif b0 >> 6 != 2:
                continue
            else:
                start = 12 + 4 * (b0 & 0x0F)
                if b0 & 0x10:  # header extension (RFC 3550 §5.3.1)
                    if len(data) < start + 4:
                        continue
                    start += 4 + 4 * int.from_bytes(data[start + 2 : start + 4], "big")
                end = len(data) - (data[-1] if b0 & 0x20 else 0)  # padding
            if pt not in DECODERS:
                self.undecodable += 1
                continue
            if end <= start:
                continue
            expected = max(0, round((arrived - started) * RATE))
            pos = track.base_pos + (((ts - track.base_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000)
            if ssrc == track.ssrc:
                if abs(pos - expected) > skew:
                    # One straggler is dropped; a run of them is a sender whose clock jumped.
                    track.misfits += 1
                    if track.misfits < RE_ANCHOR_AFTER:
                        self.dropped += 1
                        continue
                    track.base_ts, track.base_pos, track.misfits = ts, expected, 0
                    pos = expected
                else:
                    track.misfits = 0
            else:  # the first packet, or a new source (re-INVITE, transfer)
                track.ssrc, track.base_ts, track.base_pos, track.misfits = ssrc, ts, expected, 0
                pos = expected
            payload = data[start:end]
            runs = placed.get(pt)
            if runs is None:
                runs = placed[pt] = []
            run = runs[-1] if runs else None
            if run is not None and run[0] == ch and run[2] == pos:
                run[2] = pos + len(payload)
                run[3].append(payload)
            else:
                runs.append([ch, pos, pos + len(payload), [payload]])
            self.packets += 1

    def _scatter(self, table: npt.NDArray[np.int16], runs: list[Run]) -> None:
        """Decode a flush's packets of one payload type at once and put each run in its place."""
        pcm = table[np.frombuffer(b"".join(b"".join(run[3]) for run in runs), dtype=np.uint8)]
        i = 0
        for ch, first, end, payloads in runs:
            n = end - first
            samples = pcm[i : i + n]
            i += n
            if first < self._written:  # the start of the run is late: its time was written
                cut = self._written - first
                if cut >= n:
                    self.dropped += len(payloads)
                    continue
                samples, first = samples[cut:], self._written
            at = self._head + first - self._written
            if at + len(samples) > self._buf.shape[1]:
                self._make_room(at + len(samples) - self._head)
                at = self._head + first - self._written
            self._buf[ch, at : at + len(samples)] = samples
            self._end = max(self._end, end)

    def _make_room(self, needed: int) -> None:
        """Move the unwritten samples to the front of the buffer, growing it if it must."""
        live = self._buf[:, self._head :]
        size = max(self._buf.shape[1], 2 * needed)
        buf = np.zeros((CHANNELS, size), dtype=np.int16)
        buf[:, : live.shape[1]] = live
        self._buf, self._head = buf, 0

    # -- writing -----------------------------------------------------------------------------
    def _emit_to(self, target: int) -> None:
        n = target - self._written
        if n <= 0:
            return
        k = min(n, self._buf.shape[1] - self._head)
        block = self._buf[:, self._head : self._head + k]
        self._write(block)
        block[:] = 0
        self._head += k
        self._written += k
        if self._head > self._buf.shape[1] // 2:
            self._make_room(0)
        rest = n - k
        while rest > 0:  # a long silence (hold without RTP): written in bounded chunks
            chunk = min(rest, _SILENCE_CHUNK)
            self._write(np.zeros((CHANNELS, chunk), dtype=np.int16))
            self._written += chunk
            rest -= chunk

    def _write(self, block: npt.NDArray[np.int16]) -> None:
        self._wav.append(np.ascontiguousarray(block.T).astype("<i2", copy=False).tobytes())

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
