"""Hold music: made by the project (no download), soft, and free of clicks between notes."""

from __future__ import annotations

import numpy as np

from centrex.media.g711 import ulaw_decode
from centrex.media.music import FRAME, NOTES_HZ, RATE, music_pcm


def test_the_music_is_the_notes_it_claims_at_a_soft_level() -> None:
    pcm = music_pcm().astype(np.float64)
    assert len(pcm) % FRAME == 0 and 3.5 <= len(pcm) / RATE <= 4.0
    note = pcm[: RATE // 2]
    spectrum = np.abs(np.fft.rfft(note * np.hanning(len(note))))
    peak_hz = np.argmax(spectrum) * RATE / len(note)
    assert abs(peak_hz - NOTES_HZ[0]) < 4
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(pcm**2)) / 32768)
    assert -30 < rms_dbfs < -18  # well under speech level (-18 dBm0 ≈ -21 dBFS sine)
    # Each note fades in and out: no jump at the joins.
    joins = np.arange(RATE // 2, len(pcm), RATE // 2)
    assert np.max(np.abs(pcm[joins] - pcm[joins - 1])) < 300


def test_music_survives_g711() -> None:
    from centrex.media.g711 import ulaw_encode

    pcm = music_pcm()[:FRAME]
    back = ulaw_decode(ulaw_encode(pcm)).astype(np.float64)
    assert np.max(np.abs(back - pcm)) < 200
