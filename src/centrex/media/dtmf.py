"""DTMF: RFC 4733 telephone-event packets, and an in-band Goertzel detector for audio.

RFC 4733 §2.5: all packets of one event carry the RTP timestamp of the event's start; the first has
the marker bit; the duration grows; the last three (redundancy against loss, §2.5.1.4) have the E
bit. A receiver therefore identifies an event by (SSRC, timestamp) and reports it once however many
of its packets arrive, duplicated or out of order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from centrex.media.errors import MediaError
from centrex.media.rtp import RtpPacket, seq_add, ts_add, ts_diff

EVENTS = "0123456789*#ABCD"  # RFC 4733 §3.2 table 3: events 0..15
_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int  # -dBm0, 0..63
    duration: int  # timestamp units

    @property
    def digit(self) -> str | None:
        return EVENTS[self.event] if self.event < len(EVENTS) else None

    def pack(self) -> bytes:
        if not (0 <= self.event <= 255 and 0 <= self.volume <= 63 and 0 <= self.duration <= 0xFFFF):
            raise MediaError(f"telephone-event: field out of range in {self}")
        return _EVENT.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


def parse_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < 4:
        raise MediaError(f"telephone-event: payload of {len(payload)} bytes, need 4")
    ev, flags, dur = _EVENT.unpack_from(payload)
    return TelephoneEvent(ev, bool(flags & 0x80), flags & 0x3F, dur)


def digit_event(digit: str) -> int:
    i = EVENTS.find(digit.upper()) if len(digit) == 1 else -1
    if i < 0:
        raise MediaError(f"digit: {digit!r} is not a DTMF digit (0-9, *, #, A-D)")
    return i


def encode_digit(
    digit: str,
    *,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload_type: int = 101,
    duration_ms: int = 100,
    interval_ms: int = 20,
    volume: int = 10,
    end_repeats: int = 3,
    clock_rate: int = 8000,
) -> list[RtpPacket]:
    """RTP packets of one key press, one per ``interval_ms``; the end packet is sent ``end_repeats`` times."""
    event = digit_event(digit)
    step = clock_rate * interval_ms // 1000
    total = clock_rate * duration_ms // 1000
    if total > 0xFFFF:
        raise MediaError(f"duration_ms: {duration_ms} ms exceeds one event's 16-bit duration")
    packets: list[RtpPacket] = []
    dur, seq = step, sequence
    while dur < total:
        ev = TelephoneEvent(event, False, volume, dur)
        packets.append(RtpPacket(payload_type, seq, timestamp, ssrc, ev.pack(), marker=not packets))
        seq = seq_add(seq, 1)
        dur += step
    end = TelephoneEvent(event, True, volume, total).pack()
    for _ in range(max(1, end_repeats)):
        packets.append(RtpPacket(payload_type, seq, timestamp, ssrc, end, marker=not packets))
        seq = seq_add(seq, 1)
    return packets


def encode_digits(
    digits: str,
    *,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload_type: int = 101,
    duration_ms: int = 100,
    gap_ms: int = 60,
    clock_rate: int = 8000,
) -> list[RtpPacket]:
    """Several key presses with ``gap_ms`` between the end of one and the start of the next."""
    out: list[RtpPacket] = []
    for d in digits:
        pkts = encode_digit(
            d, sequence=sequence, timestamp=timestamp, ssrc=ssrc, payload_type=payload_type,
            duration_ms=duration_ms, clock_rate=clock_rate,
        )  # fmt: skip
        out.extend(pkts)
        sequence = seq_add(sequence, len(pkts))
        timestamp = ts_add(timestamp, clock_rate * (duration_ms + gap_ms) // 1000)
    return out


class DtmfDecoder:
    """Turns a stream of telephone-event packets into digits, each key press reported once."""

    def __init__(self, payload_type: int = 101, memory: int = 64) -> None:
        self.payload_type = payload_type
        self._seen: dict[tuple[int, int], None] = {}  # (ssrc, event timestamp), oldest first
        self._memory = memory
        self._last_ts: dict[int, int] = {}

    def feed(self, packet: RtpPacket) -> str | None:
        """The digit this packet starts, or None (another payload type, or an event already reported)."""
        if packet.payload_type != self.payload_type:
            return None
        ev = parse_event(packet.payload)
        key = (packet.ssrc, packet.timestamp)
        if key in self._seen:
            return None
        last = self._last_ts.get(packet.ssrc)
        # A straggler of an event older than the remembered window would be reported again: drop it.
        if last is not None and ts_diff(packet.timestamp, last) < 0 and len(self._seen) >= self._memory:
            return None
        self._seen[key] = None
        if len(self._seen) > self._memory:
            self._seen.pop(next(iter(self._seen)))
        if last is None or ts_diff(packet.timestamp, last) > 0:
            self._last_ts[packet.ssrc] = packet.timestamp
        return ev.digit


def decode_digits(packets: list[RtpPacket], payload_type: int = 101) -> str:
    """All digits of a captured stream, in the order the keys were pressed (by event timestamp)."""
    dec = DtmfDecoder(payload_type, memory=max(64, len(packets)))
    found: list[tuple[int, str]] = []
    base = packets[0].timestamp if packets else 0
    for p in packets:
        d = dec.feed(p)
        if d is not None:
            found.append((ts_diff(p.timestamp, base), d))
    return "".join(d for _, d in sorted(found))


# In-band detection ----------------------------------------------------------------------------

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
BLOCK = 205  # samples at 8 kHz: the classic Goertzel block, bins within ~39 Hz of each DTMF tone


def goertzel_power(block: npt.ArrayLike, freqs: npt.ArrayLike, rate: int = 8000) -> npt.NDArray[np.float64]:
    """Power of ``block`` at each frequency: the Goertzel algorithm's |X(f)|², for many bins at once.

    The Goertzel recurrence s[n] = x[n] + 2cos(w)s[n-1] - s[n-2] ends with
    s[N-1]² + s[N-2]² - 2cos(w)s[N-1]s[N-2] = |Σ x[n] e^{-jw(n-(N-1))}|²; numpy evaluates the right side
    for all eight DTMF frequencies in one matrix product instead of 205 Python steps.
    """
    x = np.asarray(block, dtype=np.float64)
    w = 2 * np.pi * np.asarray(freqs, dtype=np.float64) / rate
    n = np.arange(x.shape[-1])
    basis = np.exp(-1j * np.outer(n, w))
    return np.abs(x @ basis) ** 2


_FREQS = np.array(ROWS + COLS)


class GoertzelDetector:
    """In-band DTMF: reports a digit once when it is present in two consecutive 205-sample blocks.

    Checks follow the usual receiver rules (ITU-T Q.24 spirit): one row and one column tone clearly
    above the other tones of their group, the pair carrying most of the block's energy, twist
    within +4/-8 dB, and a minimum level so line noise does not count.
    """

    def __init__(self, rate: int = 8000, min_level_dbm0: float = -30.0) -> None:
        if rate != 8000:
            raise MediaError(f"rate: {rate} Hz, the detector is tuned for 8000 Hz")
        self._buf = np.zeros(0, dtype=np.float64)
        self._last: str | None = None
        self._reported: str | None = None
        # a full-scale sine (32767) has power (N*A/2)² in its bin; scale the level threshold likewise
        amp = 32767 * 10 ** ((min_level_dbm0 - 3.14) / 20)
        self._min_power = (BLOCK * amp / 2) ** 2

    def _classify(self, block: npt.NDArray[np.float64]) -> str | None:
        p = goertzel_power(block, _FREQS)
        rows, cols = p[:4], p[4:]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        pr, pc = rows[r], cols[c]
        if pr < self._min_power or pc < self._min_power:
            return None
        # twist: column (high) tone may be up to 4 dB above the row tone, or 8 dB below it
        if pc > pr * 10**0.4 or pc < pr * 10**-0.8:
            return None
        others_r = np.delete(rows, r)
        others_c = np.delete(cols, c)
        if others_r.max() * 10**0.6 > pr or others_c.max() * 10**0.6 > pc:
            return None  # another tone of the same group within 6 dB
        energy = float(np.dot(block, block)) * BLOCK / 2  # Parseval, scaled like a bin's power
        if (pr + pc) < 0.6 * energy:
            return None  # speech or noise: the two tones are not most of the signal
        return KEYPAD[r][c]

    def feed(self, samples: npt.ArrayLike) -> list[str]:
        """Feed 16-bit audio; returns the digits whose key press completed detection in it."""
        self._buf = np.concatenate([self._buf, np.asarray(samples, dtype=np.float64)])
        out = []
        while len(self._buf) >= BLOCK:
            block, self._buf = self._buf[:BLOCK], self._buf[BLOCK:]
            d = self._classify(block)
            if d is not None and d == self._last and d != self._reported:
                out.append(d)
                self._reported = d
            if d is None:
                self._reported = None  # a gap re-arms the detector for a repeated key
            self._last = d
        return out
