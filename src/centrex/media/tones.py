"""Tone generators: sines, dual tones, silence and the North American call-progress cadences.

Frequencies and cadences are those of the North American precise tone plan (ANSI T1.401 / Telcordia
GR-506): dial 350+440 Hz steady, ringback 440+480 Hz 2 s on 4 s off, busy 480+620 Hz 0.5 s on
0.5 s off, reorder (fast busy) 480+620 Hz 0.25 s on 0.25 s off. Levels are in dBm0 with G.711's
digital milliwatt (0 dBm0) a sine 3.14 dB below full scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from centrex.media.dtmf import COLS, KEYPAD, ROWS
from centrex.media.errors import MediaError
from centrex.media.g711 import Pcm

RATE = 8000
FULL_SCALE = 32767


def amplitude(level_dbm0: float) -> float:
    return FULL_SCALE * 10 ** ((level_dbm0 - 3.14) / 20)


def _samples(ms: float, rate: int) -> int:
    if ms < 0:
        raise MediaError(f"duration: {ms} ms is negative")
    return round(rate * ms / 1000)


def silence(ms: float, rate: int = RATE) -> Pcm:
    return np.zeros(_samples(ms, rate), dtype=np.int16)


def _mix(freqs: tuple[float, ...], n: int, level_dbm0: float, rate: int, start: int = 0) -> Pcm:
    t = (np.arange(n) + start) / rate
    a = amplitude(level_dbm0)
    s = sum((a * np.sin(2 * np.pi * f * t) for f in freqs), np.zeros(n))
    return np.clip(np.rint(s), -32768, 32767).astype(np.int16)


def sine(freq: float, ms: float, level_dbm0: float = -10.0, rate: int = RATE) -> Pcm:
    if not 0 < freq < rate / 2:
        raise MediaError(f"freq: {freq} Hz is not between 0 and half the sample rate")
    return _mix((freq,), _samples(ms, rate), level_dbm0, rate)


def dual_tone(f1: float, f2: float, ms: float, level_dbm0: float = -13.0, rate: int = RATE) -> Pcm:
    """Two tones, each at ``level_dbm0`` (DTMF and call progress tones are specified per tone)."""
    for f in (f1, f2):
        if not 0 < f < rate / 2:
            raise MediaError(f"freq: {f} Hz is not between 0 and half the sample rate")
    return _mix((f1, f2), _samples(ms, rate), level_dbm0, rate)


def dtmf_tone(digit: str, ms: float = 100, level_dbm0: float = -7.0) -> Pcm:
    for r, row in enumerate(KEYPAD):
        c = row.find(digit.upper()) if len(digit) == 1 else -1
        if c >= 0:
            return dual_tone(ROWS[r], COLS[c], ms, level_dbm0)
    raise MediaError(f"digit: {digit!r} is not a DTMF digit")


@dataclass(frozen=True)
class Cadence:
    freqs: tuple[float, ...]
    on_ms: int
    off_ms: int  # 0 = steady
    level_dbm0: float


DIAL = Cadence((350.0, 440.0), 1000, 0, -13.0)
RINGBACK = Cadence((440.0, 480.0), 2000, 4000, -19.0)
BUSY = Cadence((480.0, 620.0), 500, 500, -24.0)
REORDER = Cadence((480.0, 620.0), 250, 250, -24.0)


def cadence(c: Cadence, ms: float, rate: int = RATE) -> Pcm:
    """``ms`` of a cadenced tone starting at the beginning of an on period."""
    n = _samples(ms, rate)
    audio = _mix(c.freqs, n, c.level_dbm0, rate)
    if c.off_ms:
        period = _samples(c.on_ms + c.off_ms, rate)
        on = _samples(c.on_ms, rate)
        audio[(np.arange(n) % period) >= on] = 0
    return audio


def frames(c: Cadence, frame_ms: int = 20, rate: int = RATE) -> Iterator[Pcm]:
    """Endless frames of a cadence with continuous phase, for an RTP sender."""
    n = _samples(frame_ms, rate)
    period = _samples(c.on_ms + c.off_ms, rate) if c.off_ms else 0
    on = _samples(c.on_ms, rate)
    pos = 0
    while True:
        f = _mix(c.freqs, n, c.level_dbm0, rate, start=pos)
        if period:
            f[((np.arange(n) + pos) % period) >= on] = 0
        yield f
        pos += n
