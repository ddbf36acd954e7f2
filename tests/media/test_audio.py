"""Tones, the jitter buffer and WAV files as an app (voicemail, attendant) uses them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from centrex.media import g711, tones
from centrex.media.errors import MediaError
from centrex.media.jitter import JitterBuffer
from centrex.media.rtp import RtpPacket, seq_add
from centrex.media.wav import WavRecorder, read_wav, write_wav


def peak_hz(x: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def test_440_hz_through_ulaw_peaks_at_440() -> None:
    x = tones.sine(440, 1000, -10)
    y = g711.ulaw_decode(g711.ulaw_encode(x))
    assert peak_hz(y) == pytest.approx(440, abs=1)
    assert np.std(y.astype(float) - x) < 0.05 * np.std(x.astype(float))  # SNR > 26 dB


def test_call_progress_cadences() -> None:
    ring = tones.cadence(tones.RINGBACK, 6000)
    assert len(ring) == 48000
    assert np.all(ring[16000:48000] == 0) and np.abs(ring[:16000]).max() > 1000
    spectrum_peaks = sorted(
        float(f) for f in np.fft.rfftfreq(16000, 1 / 8000)[np.argsort(np.abs(np.fft.rfft(ring[:16000])))[-2:]]
    )
    assert spectrum_peaks == pytest.approx([440, 480], abs=1)
    busy = tones.cadence(tones.BUSY, 2000)
    on = np.abs(busy).reshape(4, 4000).max(axis=1)
    assert list(on > 0) == [True, False, True, False]
    it = tones.frames(tones.BUSY)
    joined = np.concatenate([next(it) for _ in range(100)])
    assert np.array_equal(joined, tones.cadence(tones.BUSY, 2000))  # frames continue the phase
    with pytest.raises(MediaError, match="freq"):
        tones.sine(5000, 10)


def pkt(seq: int, marker: bool = False) -> RtpPacket:
    return RtpPacket(0, seq_add(65530, seq), seq * 160, 1, bytes([seq % 256]) * 160, marker=marker)


def test_jitter_buffer_reorders_and_conceals_and_drops_late() -> None:
    jb = JitterBuffer(min_frames=3)
    order = [0, 2, 1, 4, 3, 6, 5, 8, 9, 10, 7, 11]  # 7 arrives after its turn
    t = 0.0
    played = []
    for i, n in enumerate(order):
        jb.put(pkt(n), t + 0.02 * i)
        if i >= 2:
            f = jb.pop()
            if f is not None:
                played.append((f.payload[0] if not f.concealed else None, f.concealed))
    # once 3 frames were queued, playout is in order across the sequence wrap
    got = [p for p, _ in played]
    assert got[:7] == [0, 1, 2, 3, 4, 5, 6]
    assert played[7] == (None, True)  # 7 missing at its turn: concealed
    assert got[8:] == [8, 9]
    st = jb.stats()
    assert (st.received, st.played, st.concealed, st.late) == (11, 9, 1, 1)


def test_jitter_buffer_gap_conceals_with_repeat_then_silence_and_counts() -> None:
    jb = JitterBuffer(min_frames=1)
    for n in (0, 1, 4):
        jb.put(pkt(n), 0.02 * n)
    frames = [jb.pop() for _ in range(5)]
    assert [f.concealed for f in frames if f] == [False, False, True, True, False]
    assert frames[2] is not None and frames[2].payload == pkt(1).payload  # repeat of the last frame
    assert frames[3] is not None and frames[3].payload == b"\xff" * 160  # then µ-law silence
    jb.put(pkt(2), 0.2)  # far too late
    jb.put(pkt(4), 0.2)  # duplicate
    st = jb.stats()
    assert (st.played, st.concealed, st.late) == (3, 2, 2)


def test_jitter_buffer_target_grows_with_jitter() -> None:
    calm, shaky = JitterBuffer(), JitterBuffer()
    rng = np.random.default_rng(3)
    for n in range(200):
        calm.put(pkt(n), 0.02 * n)
        shaky.put(pkt(n), 0.02 * n + float(rng.uniform(0, 0.06)))
        calm.pop()
        shaky.pop()
    assert calm.target == 1 and shaky.target >= 3
    assert shaky.stats().jitter_ms > 10


def test_wav_write_read_and_recorder(tmp_path: Path) -> None:
    x = tones.sine(1000, 500)
    write_wav(tmp_path / "a.wav", x)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), x)
    with WavRecorder(tmp_path / "b.wav") as rec:
        for i in range(0, len(x), 160):
            rec.append(g711.ulaw_decode(g711.ulaw_encode(x[i : i + 160])))
    assert rec.duration_ms == 500 and len(read_wav(tmp_path / "b.wav")) == 4000
    (tmp_path / "bad.wav").write_bytes(b"RIFF....nonsense")
    with pytest.raises(MediaError, match="not a PCM WAV"):
        read_wav(tmp_path / "bad.wav")
    write_wav(tmp_path / "c.wav", x, rate=16000)
    with pytest.raises(MediaError, match="16000 Hz"):
        read_wav(tmp_path / "c.wav")
