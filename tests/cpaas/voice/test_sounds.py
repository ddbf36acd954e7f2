"""<Say> is spoken by the local espeak-ng (no network), 8 kHz, cached per text."""

from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest

from centrex.cpaas.voice.sounds import Sounds


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_say_is_speech_from_espeak_and_cached() -> None:
    async with httpx.AsyncClient() as client:
        sounds = Sounds(client, tts="auto")
        pcm = await sounds.say("Press one for sales, two for support.")
        again = await sounds.say("Press one for sales, two for support.")
    assert again is pcm  # rendered once
    seconds = len(pcm) / 8000
    assert 1.5 < seconds < 6.0, seconds
    assert int(np.max(np.abs(pcm))) > 8000  # levelled speech, not silence
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(pcm), 1 / 8000)
    voice_band = spectrum[(freqs > 100) & (freqs < 3400)].sum() / spectrum.sum()
    assert voice_band > 0.9  # speech energy in the telephone band
