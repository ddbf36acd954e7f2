"""Music on hold, played by the relay to the party on hold (issue #4 point 6).

The music is made here, not downloaded (issue #4: "recordings the project made itself"): a slow
arpeggio of soft sine notes with short fades, at -18 dBm0 so it sits well under speech level.
``MusicOnHold`` sends it as 20 ms G.711 RTP packets from the relay leg's own socket to the
address that leg latched (or was told by SDP), with its own SSRC, so the held phone plays it like
any other stream; ``stop`` ends it when the call is resumed or hung up.

``announce`` plays a prompt to the same leg over the music (issue #4 point 4, "you are caller
number N"): the music pauses for it, with a short gap either side, and goes on from where it
stopped. The prompt's frames go out in the same stream (same SSRC, sequence and timestamps run on),
so the phone's jitter buffer sees one continuous source. A player made with ``music=False`` plays
its prompts and then falls silent (a leg that has no music).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from functools import cache

import numpy as np

from centrex.media.g711 import Pcm, alaw_encode, ulaw_encode
from centrex.media.relay import RtpRelay

log = logging.getLogger(__name__)

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz
PCMU, PCMA = 0, 8
# C major arpeggio, then the relative minor: eight notes of 0.5 s, repeated.
NOTES_HZ = (261.63, 329.63, 392.00, 523.25, 220.00, 261.63, 329.63, 440.00)


@cache
def music_pcm(note_s: float = 0.5, level_dbm0: float = -18.0) -> np.ndarray:
    """One loop of the hold music as 16-bit PCM at 8 kHz (a whole number of 20 ms frames)."""
    amp = 32767 * 10 ** ((level_dbm0 - 3.17) / 20)  # 0 dBm0 = 3.17 dB below full-scale sine
    n = int(note_s * RATE)
    t = np.arange(n) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.05)  # 50 ms fades: no clicks between notes
    notes = [
        amp * fade * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) / 1.3 for f in NOTES_HZ
    ]
    pcm = np.concatenate(notes)
    pcm = pcm[: len(pcm) // FRAME * FRAME]
    return np.asarray(np.round(pcm), dtype=np.int16)


ANNOUNCE_GAP_MS = 300  # silence either side of a prompt played over the music


def g711_frames(pcm: Pcm, payload_type: int) -> list[bytes]:
    """16-bit PCM at 8 kHz as 20 ms G.711 payloads; the last frame is padded with silence."""
    if payload_type not in (PCMU, PCMA):
        raise ValueError(f"payload type {payload_type}: the relay plays G.711 only (0 or 8)")
    encode = ulaw_encode if payload_type == PCMU else alaw_encode
    samples = np.asarray(pcm, dtype=np.int16)
    if len(samples) % FRAME:
        samples = np.concatenate([samples, np.zeros(FRAME - len(samples) % FRAME, dtype=np.int16)])
    return [encode(samples[i : i + FRAME]) for i in range(0, len(samples), FRAME)]


class MusicOnHold:
    def __init__(self, relay: RtpRelay, leg: str, payload_type: int, *, music: bool = True) -> None:
        if payload_type not in (PCMU, PCMA):
            raise ValueError(f"payload type {payload_type}: music on hold needs G.711 (0 or 8)")
        self.relay = relay
        self.leg = leg
        self.payload_type = payload_type
        self.music = music
        self._frames = g711_frames(music_pcm(), payload_type)
        self._pending: deque[bytes] = deque()  # a prompt's frames, sent before the music goes on
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.announced = 0  # prompt frames sent

    @property
    def playing(self) -> bool:
        return self._task is not None and not self._task.done()

    def announce(self, pcm: Pcm) -> float:
        """Play ``pcm`` next, the music paused around it; returns how long it takes (seconds)."""
        gap = np.zeros(RATE * ANNOUNCE_GAP_MS // 1000, dtype=np.int16)
        frames = g711_frames(np.concatenate([gap, np.asarray(pcm, dtype=np.int16), gap]), self.payload_type)
        self._pending.extend(frames)
        return len(frames) * FRAME / RATE

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._play(), name=f"moh-{self.relay.call_id}"
            )

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        ssrc = random.getrandbits(32)
        seq, ts = random.getrandbits(16), random.getrandbits(32)
        start = loop.time()
        i = m = 0  # packets sent, music frames played (the music goes on where a prompt paused it)
        while not self.relay.closed:
            if self._pending:
                frame, prompt = self._pending.popleft(), True
            elif self.music:
                frame, prompt = self._frames[m % len(self._frames)], False
                m += 1
            else:
                return  # a prompt without music: done
            leg = self.relay._legs.get(self.leg)
            target = (leg.remote_rtp or leg.expected_rtp) if leg else None
            if leg is not None and leg.rtp_transport is not None and target is not None:
                marker = 0x80 if i == 0 else 0
                header = bytes((0x80, marker | self.payload_type)) + seq.to_bytes(2, "big")
                header += ts.to_bytes(4, "big") + ssrc.to_bytes(4, "big")
                leg.send_rtp(header + frame, target)
                leg.packets_out += 1
                self.sent += 1
                self.announced += prompt
            i += 1
            seq, ts = (seq + 1) & 0xFFFF, (ts + FRAME) & 0xFFFFFFFF
            # Paced on the loop clock, not on sleep's drift.
            await asyncio.sleep(max(0.0, start + i * 0.020 - loop.time()))
