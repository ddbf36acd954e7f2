"""The audio of <Say> and <Play>, as 8 kHz 16-bit samples the call's media plays.

- Say: espeak-ng (the engine apps/prompts.py already uses for the PBX's prompts; local, no network),
  rendered in a thread and kept in a small in-memory LRU by (voice, text), so an IVR's menu is
  synthesized once. Without espeak-ng, a tone pattern per text stands in (as the PBX's prompts do).
- Play: a WAV file fetched over HTTP(S) (PCM 8/16-bit, μ-law or A-law, any rate, mono or stereo),
  decoded with the stdlib's ``wave``/numpy and resampled to 8 kHz; kept in an LRU by URL. Other
  formats (MP3) are refused with a clear error (Twilio error 13250 "Play: audio format").
"""

from __future__ import annotations

import asyncio
import struct
from collections import OrderedDict

import httpx
import numpy as np

from centrex.apps.prompts import espeak_binary, render_espeak, resample, tone_prompt
from centrex.cpaas.signing import HEADER, twilio_signature
from centrex.media.g711 import Pcm, alaw_decode, ulaw_decode

MAX_PLAY_BYTES = 16 * 1024 * 1024
VOICES = {"en-US": "en-us", "en-GB": "en-gb", "es-ES": "es", "es-MX": "es-419", "fr-FR": "fr", "de-DE": "de"}


class AudioError(Exception):
    def __init__(self, message: str, code: int = 13250) -> None:
        super().__init__(message)
        self.code = code


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[object, Pcm] = OrderedDict()

    def get(self, key: object) -> Pcm | None:
        pcm = self.items.get(key)
        if pcm is not None:
            self.items.move_to_end(key)
        return pcm

    def put(self, key: object, pcm: Pcm) -> None:
        self.items[key] = pcm
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class Sounds:
    def __init__(self, client: httpx.AsyncClient, *, tts: str = "auto", cache: int = 256) -> None:
        self.client = client
        self.binary = espeak_binary() if tts != "tones" else None
        self._said = _Lru(cache)
        self._played = _Lru(cache // 4 or 1)

    async def say(self, text: str, language: str = "en-US") -> Pcm:
        voice = VOICES.get(language, "en-us")
        key = (voice, text)
        pcm = self._said.get(key)
        if pcm is None:
            if self.binary is None or not text.strip():
                pcm = tone_prompt(text)
            else:
                pcm = await asyncio.to_thread(render_espeak, text, self.binary, voice)
            self._said.put(key, pcm)
        return pcm

    async def play(self, url: str, auth_token: str = "") -> Pcm:
        """The WAV at ``url``, fetched with X-Twilio-Signature (over the URL, as any GET of ours) so
        a customer's media server can check it is us."""
        pcm = self._played.get(url)
        if pcm is not None:
            return pcm
        headers = {HEADER: twilio_signature(auth_token, url)} if auth_token else {}
        try:
            response = await self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise AudioError(f"Play: {url}: {type(exc).__name__}", 11205) from None
        if response.status_code != 200:
            raise AudioError(f"Play: {url} answered {response.status_code}", 11200)
        if len(response.content) > MAX_PLAY_BYTES:
            raise AudioError(f"Play: {url} is larger than {MAX_PLAY_BYTES} bytes")
        pcm = await asyncio.to_thread(decode_wav, response.content)
        self._played.put(url, pcm)
        return pcm


def decode_wav(data: bytes) -> Pcm:
    """RIFF/WAVE → 8 kHz mono int16. PCM (format 1, 8 or 16 bit), A-law (6) and μ-law (7)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("Play: only WAV files are supported (RIFF/WAVE)")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise AudioError("Play: the WAV file has no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag == 1 and bits == 16:
        x = np.frombuffer(payload[: len(payload) // 2 * 2], dtype="<i2").astype(np.int32)
    elif tag == 1 and bits == 8:
        x = (np.frombuffer(payload, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif tag == 7 and bits == 8:
        x = ulaw_decode(payload).astype(np.int32)
    elif tag == 6 and bits == 8:
        x = alaw_decode(payload).astype(np.int32)
    else:
        raise AudioError(f"Play: WAV format {tag} with {bits} bits is not supported (PCM, A-law, μ-law)")
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1).astype(np.int32)
    if not 4000 <= rate <= 192000:
        raise AudioError(f"Play: sample rate {rate} is not supported")
    return resample(x, rate)
