"""The conference mixer: every 20 ms, one decoded frame per party in, per party the sum of the others out.

Pure numpy, no I/O (issue 4 point 6). Each tick takes the 160-sample frame each party sent (None for
a party that sent nothing this tick: loss, jitter or a muted phone counts as silence), scales it by
the party's level gain, sums all parties once and gives every party the total minus its own
contribution (mix-minus: nobody hears themselves, so there is no echo of one's own voice), adds the
join/leave tones every party hears, and clips to int16.

Level normalisation is deliberately simple: a party's gain follows its smoothed speech level toward
a target (quiet phones up, loud ones down, between 0.5x and 2x), and only while it is talking, so
background noise is never boosted. Everything is int32/float32 vector arithmetic on an (n, 160)
array, one pass per tick; bench/conference_bench.py measures it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from centrex.media.g711 import Pcm
from centrex.media.tones import silence, sine

FRAME = 160  # 20 ms at 8 kHz
K = TypeVar("K", bound=Hashable)  # what names a party (the app uses a UUID)
TARGET_RMS = 3000.0  # about -20 dBFS: normal speech level on a G.711 call
SPEECH_RMS = 300.0  # below this a frame is noise: its gain is left alone
GAIN_MIN, GAIN_MAX = 0.5, 2.0
SMOOTHING = 0.05  # per 20 ms frame: a level settles in about half a second


def join_tone() -> Pcm:
    """Someone joined: two rising notes (C5 then G5), quiet enough to talk over."""
    return np.concatenate([sine(523.0, 120, -18.0), silence(30), sine(784.0, 160, -18.0)])


def leave_tone() -> Pcm:
    """Someone left: the same notes falling."""
    return np.concatenate([sine(784.0, 120, -18.0), silence(30), sine(523.0, 160, -18.0)])


@dataclass
class _Party:
    gain: float = 1.0
    level: float = TARGET_RMS


@dataclass
class Mixer(Generic[K]):
    """One room's mix. ``normalise=False`` keeps every gain at 1 (what the tests of the sums use)."""

    normalise: bool = True
    parties: dict[K, _Party] = field(default_factory=dict)
    _tones: list[Pcm] = field(default_factory=list)  # frames still to play to everyone, in order
    _tone_pos: int = 0

    def add(self, key: K, *, tone: bool = True) -> None:
        if key not in self.parties:
            self.parties[key] = _Party()
            if tone:
                self.announce(join_tone())

    def remove(self, key: K, *, tone: bool = True) -> None:
        if self.parties.pop(key, None) is not None and tone and self.parties:
            self.announce(leave_tone())

    def announce(self, pcm: Pcm) -> None:
        """Mix ``pcm`` into every party's output from the next tick on (queued after earlier ones)."""
        if len(pcm):
            self._tones.append(pcm)

    def _tone_frame(self) -> np.ndarray | None:
        if not self._tones:
            return None
        out = np.zeros(FRAME, dtype=np.int32)
        filled = 0
        while filled < FRAME and self._tones:
            cur = self._tones[0]
            take = min(FRAME - filled, len(cur) - self._tone_pos)
            out[filled : filled + take] = cur[self._tone_pos : self._tone_pos + take]
            filled += take
            self._tone_pos += take
            if self._tone_pos >= len(cur):
                self._tones.pop(0)
                self._tone_pos = 0
        return out

    def tick(self, frames: Mapping[K, Pcm | None]) -> dict[K, Pcm]:
        """One 20 ms step: ``frames`` maps a party to what it sent (None or absent: silence).
        Returns each party's frame to hear. Frames of keys that are not parties are ignored."""
        keys = list(self.parties)
        n = len(keys)
        if n == 0:
            return {}
        x = np.zeros((n, FRAME), dtype=np.float32)
        for i, key in enumerate(keys):
            f = frames.get(key)
            if f is not None and len(f):
                m = min(len(f), FRAME)
                x[i, :m] = f[:m]
        if self.normalise:
            gains = self._gains(keys, x)
            x *= gains[:, None]
        total = x.sum(axis=0)
        out = total[None, :] - x  # mix-minus: everyone but yourself
        tone = self._tone_frame()
        if tone is not None:
            out += tone[None, :].astype(np.float32)
        np.clip(out, -32768, 32767, out=out)
        mixed = np.rint(out).astype(np.int16)
        return {key: mixed[i] for i, key in enumerate(keys)}

    def _gains(self, keys: list[K], x: np.ndarray) -> np.ndarray:
        rms = np.sqrt(np.mean(x * x, axis=1))
        gains = np.empty(len(keys), dtype=np.float32)
        for i, key in enumerate(keys):
            p = self.parties[key]
            if rms[i] > SPEECH_RMS:  # only speech moves the level estimate
                p.level += SMOOTHING * (float(rms[i]) - p.level)
                p.gain = min(GAIN_MAX, max(GAIN_MIN, TARGET_RMS / max(p.level, 1.0)))
            gains[i] = p.gain
        return gains
