"""The recording tap (media/recorder.py) without sockets: packets in, a stereo WAV out, checked
sample by sample; and the on-demand feature code spotted in RFC 4733 packets."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from centrex.media.dtmf import encode_digits
from centrex.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from centrex.media.recorder import HORIZON_S, RATE, CallRecorder, FeatureCodeWatch
from centrex.media.rtp import RtpPacket
from centrex.media.tones import sine

T0 = 1000.0  # monotonic time the recording starts


def read_stereo(path: Path) -> npt.NDArray[np.int16]:
    """(frames, 2) samples of a 16-bit stereo 8 kHz WAV."""
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").reshape(-1, 2)


def packets(
    audio: npt.NDArray[np.int16], pt: int, ssrc: int, ts0: int, t0: float, ptime_ms: int = 20
) -> list[tuple[bytes, float]]:
    """RTP packets of ``audio`` (PCMA for pt 8, PCMU for 0) with their ideal arrival times."""
    encode = alaw_encode if pt == 8 else ulaw_encode
    n = RATE * ptime_ms // 1000
    out = []
    for k in range(len(audio) // n):
        payload = encode(audio[k * n : (k + 1) * n])
        pkt = RtpPacket(pt, k & 0xFFFF, (ts0 + k * n) & 0xFFFFFFFF, ssrc, payload).pack()
        out.append((pkt, t0 + k * ptime_ms / 1000))
    return out


def run(
    rec: CallRecorder, legs: list[list[tuple[bytes, float]]], end: float, flush_every: float = 0.25
) -> None:
    """Feed the packets in arrival order, flushing as the relay's timer would, and close at ``end``."""
    timeline = sorted(((t, i, pkt) for i, leg in enumerate(legs) for pkt, t in leg), key=lambda x: x[0])
    next_flush = T0 + flush_every
    for t, i, pkt in timeline:
        while t >= next_flush:
            rec.flush(next_flush)
            next_flush += flush_every
        (rec.feed_a if i == 0 else rec.feed_b)((pkt, t))
    rec.close(end)


def test_both_sides_on_their_own_channel_with_loss_as_silence_and_the_true_duration(tmp_path: Path) -> None:
    tone_a = sine(440, 2000)  # the caller, PCMA, from the start
    tone_b = sine(1000, 1500)  # the callee, PCMU, from 0.5 s
    a = packets(tone_a, 8, ssrc=0x1111, ts0=123456, t0=T0)
    b = packets(tone_b, 0, ssrc=0x2222, ts0=0xFFFFFF00, t0=T0 + 0.5)  # wraps its 32-bit timestamp
    lost = set(range(10, 15))  # 100 ms of the caller's audio never arrives
    a = [p for k, p in enumerate(a) if k not in lost]
    rec = CallRecorder(tmp_path / "call.wav", T0)
    run(rec, [a, b], end=T0 + 2.5)
    pcm = read_stereo(tmp_path / "call.wav")
    # The file lasts as long as the recording did, whatever came or did not come.
    assert len(pcm) == int(2.5 * RATE) and rec.result is not None and rec.result.duration_ms == 2500
    left, right = pcm[:, 0], pcm[:, 1]
    expected_left = alaw_decode(alaw_encode(tone_a)).copy()
    expected_left[10 * 160 : 15 * 160] = 0
    assert np.array_equal(left[: len(tone_a)], expected_left)
    assert not left[len(tone_a) :].any()
    assert not right[:4000].any()
    assert np.array_equal(right[4000 : 4000 + len(tone_b)], ulaw_decode(ulaw_encode(tone_b)))
    assert (rec.result.packets, rec.result.dropped) == (len(a) + len(b), 0)
    assert (tmp_path / "call.wav").stat().st_mode & 0o777 == 0o600  # CPNI: the service's user only


def test_reordered_and_jittered_packets_land_in_place_and_too_late_ones_are_counted(tmp_path: Path) -> None:
    tone = sine(700, 3000)
    ideal = packets(tone, 8, ssrc=7, ts0=0, t0=T0)
    rnd = random.Random(4)
    # Up to 150 ms of jitter: arrival order differs from sending order.
    jittered = [(pkt, t + rnd.uniform(0, 0.15)) for pkt, t in ideal]
    # One packet is held up far longer than the horizon: its audio has been written by then.
    held = 60
    jittered[held] = (jittered[held][0], ideal[held][1] + HORIZON_S + 1.0)
    rec = CallRecorder(tmp_path / "j.wav", T0)
    run(rec, [jittered, []], end=T0 + 3.2)
    left = read_stereo(tmp_path / "j.wav")[:, 0]
    expected = alaw_decode(alaw_encode(tone)).copy()
    expected[held * 160 : (held + 1) * 160] = 0
    # The first packet's own delay sets the anchor; everything after keeps its place relative to it.
    first_delay = round((jittered[0][1] - T0) * RATE)
    assert np.array_equal(left[first_delay : first_delay + len(tone)], expected)
    assert rec.result is not None and rec.result.dropped == 1


def test_a_new_source_or_a_restarted_clock_continues_at_arrival_time(tmp_path: Path) -> None:
    first = packets(sine(440, 1000), 8, ssrc=1, ts0=5000, t0=T0)
    # After a re-INVITE the phone sends with a new SSRC and timestamps from a new random base.
    second = packets(sine(440, 1000), 8, ssrc=2, ts0=987654321, t0=T0 + 1.5)
    # Then the same SSRC jumps its timestamps back (a sender that restarted).
    third = packets(sine(440, 500), 8, ssrc=2, ts0=10, t0=T0 + 3.0)
    rec = CallRecorder(tmp_path / "s.wav", T0)
    run(rec, [first + second + third, []], end=T0 + 3.6)
    left = read_stereo(tmp_path / "s.wav")[:, 0].astype(np.int32)

    def loud(start_s: float, end_s: float) -> bool:
        seg = left[int(start_s * RATE) : int(end_s * RATE)]
        return bool(np.sqrt(np.mean(seg**2)) > 1000)

    assert loud(0.0, 1.0) and not loud(1.05, 1.45) and loud(1.5, 2.5) and not loud(2.55, 2.95)
    assert loud(3.0, 3.5)
    assert len(left) == int(3.6 * RATE)


def test_telephone_events_and_comfort_noise_leave_silence(tmp_path: Path) -> None:
    events = [
        (p.pack(), T0 + 0.02 * i) for i, p in enumerate(encode_digits("*1", sequence=1, timestamp=0, ssrc=9))
    ]
    cn = [(RtpPacket(13, 100, 0, 9, b"\x40").pack(), T0 + 0.5)]
    rec = CallRecorder(tmp_path / "e.wav", T0)
    run(rec, [events + cn, []], end=T0 + 1.0)
    pcm = read_stereo(tmp_path / "e.wav")
    assert len(pcm) == RATE and not pcm.any()
    assert rec.result is not None and rec.result.undecodable == len(events) + 1


def test_a_long_silence_is_written_without_holding_it_in_memory(tmp_path: Path) -> None:
    before = packets(sine(440, 200), 0, ssrc=3, ts0=0, t0=T0)
    # 10 minutes on hold without RTP, then the caller talks again (timestamps moved on with time).
    after = packets(sine(440, 200), 0, ssrc=3, ts0=600 * RATE, t0=T0 + 600)
    rec = CallRecorder(tmp_path / "h.wav", T0)
    for pkt, t in before:
        rec.feed_a((pkt, t))
    rec.flush(T0 + 1)
    for pkt, t in after:
        rec.feed_a((pkt, t))
    rec.flush(T0 + 600.5)
    assert rec._buf.shape[1] <= 8 * RATE  # the gap went to the file as it was passed
    rec.close(T0 + 601)
    left = read_stereo(tmp_path / "h.wav")[:, 0]
    assert len(left) == 601 * RATE
    assert left[: 200 * 8].any() and not left[2000 : 600 * RATE].any() and left[600 * RATE :].any()


def test_the_file_is_never_overwritten(tmp_path: Path) -> None:
    CallRecorder(tmp_path / "x.wav", T0).close(T0)
    with pytest.raises(FileExistsError):
        CallRecorder(tmp_path / "x.wav", T0)


# -- the on-demand feature code -------------------------------------------------------------------


def keyed(digits: str, at: float, ssrc: int = 77, ts: int = 8000) -> list[tuple[bytes, float]]:
    """RFC 4733 packets of ``digits`` as a phone sends them (end packets repeated), one per 20 ms."""
    pkts = encode_digits(digits, sequence=500, timestamp=ts, ssrc=ssrc)
    return [(p.pack(), at + 0.02 * i) for i, p in enumerate(pkts)]


def test_star_one_within_two_seconds_matches_once() -> None:
    hits: list[float] = []
    watch = FeatureCodeWatch("*1", hits.append)
    for item in keyed("*1", T0):
        watch.feed(item)
    assert len(hits) == 1
    # Audio, another code, or a lone key do nothing.
    watch.feed((RtpPacket(8, 1, 1, 77, bytes(160)).pack(), T0 + 1))
    for item in keyed("*2", T0 + 5, ts=40000) + keyed("1", T0 + 7, ts=56000):
        watch.feed(item)
    assert len(hits) == 1


def test_the_second_key_must_follow_within_the_window() -> None:
    hits: list[float] = []
    watch = FeatureCodeWatch("*1", hits.append, window_s=2.0)
    for item in keyed("*", T0, ts=0) + keyed("1", T0 + 2.5, ts=20000):
        watch.feed(item)
    assert hits == []
    # Keyed again in time, it counts; the packets of one press (same event timestamp) count once.
    again = keyed("*", T0 + 10, ts=80000) + keyed("1", T0 + 11, ts=88000)
    for item in again + again:
        watch.feed(item)
    assert len(hits) == 1
