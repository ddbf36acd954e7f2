"""RFC 4733 digits through duplication and reordering; in-band digits through the Goertzel detector."""

from __future__ import annotations

import random

import numpy as np
import pytest

from centrex.media import dtmf, g711, tones
from centrex.media.errors import MediaError
from centrex.media.rtp import parse_rtp


def test_one_digit_is_marker_start_growing_duration_and_three_end_packets() -> None:
    pkts = dtmf.encode_digit("5", sequence=65534, timestamp=1000, ssrc=1, duration_ms=100)
    events = [dtmf.parse_event(p.payload) for p in pkts]
    assert [p.marker for p in pkts] == [True] + [False] * (len(pkts) - 1)
    assert {p.timestamp for p in pkts} == {1000}
    assert [p.sequence for p in pkts[:3]] == [65534, 65535, 0]
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {e.digit for e in events} == {"5"}


def test_1234_hash_decodes_once_each_despite_duplicates_and_reordering() -> None:
    pkts = dtmf.encode_digits("1234#", sequence=65500, timestamp=0xFFFFF000, ssrc=42)
    wire = [p.pack() for p in pkts]
    rng = random.Random(4733)
    ends = [w for w in wire if dtmf.parse_event(parse_rtp(w).payload).end]
    stream = wire + ends  # every end packet arrives once more (so 4 times)
    rng.shuffle(stream)
    received = [parse_rtp(w) for w in stream]
    assert dtmf.decode_digits(received) == "1234#"
    # live decoding: each key reported exactly once
    dec = dtmf.DtmfDecoder()
    live = [d for p in received if (d := dec.feed(p)) is not None]
    assert sorted(live) == sorted("1234#")


def test_decoder_reports_a_key_whose_start_packets_were_lost() -> None:
    pkts = dtmf.encode_digit("9", sequence=1, timestamp=80, ssrc=3)
    dec = dtmf.DtmfDecoder()
    assert [dec.feed(p) for p in pkts[-2:]] == ["9", None]
    assert dec.feed(dtmf.encode_digit("9", sequence=20, timestamp=2000, ssrc=3)[0]) == "9"  # a new press


def test_bad_digit_and_short_payload() -> None:
    with pytest.raises(MediaError, match="digit"):
        dtmf.encode_digit("x", sequence=0, timestamp=0, ssrc=0)
    with pytest.raises(MediaError, match="payload"):
        dtmf.parse_event(b"\x01")


def test_goertzel_power_equals_the_recurrence() -> None:
    x = tones.dual_tone(770, 1336, 25.625)[: dtmf.BLOCK].astype(float)
    for f in (697.0, 770.0, 1336.0, 1633.0):
        w = 2 * np.pi * f / 8000
        coeff = 2 * np.cos(w)
        s1 = s2 = 0.0
        for v in x:
            s1, s2 = v + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        assert dtmf.goertzel_power(x, [f])[0] == pytest.approx(power, rel=1e-9)


def test_goertzel_detects_generated_digits_through_ulaw() -> None:
    audio = np.concatenate(
        [np.concatenate([tones.dtmf_tone(d, 80), tones.silence(60)]) for d in "0123456789*#ABCD"]
    )
    audio = g711.ulaw_decode(g711.ulaw_encode(audio))  # what an app actually receives
    det = dtmf.GoertzelDetector()
    found = []
    for i in range(0, len(audio), 160):  # 20 ms frames as they come off RTP
        found += det.feed(audio[i : i + 160])
    assert "".join(found) == "0123456789*#ABCD"


def test_goertzel_ignores_a_single_tone_silence_and_speechlike_noise() -> None:
    rng = np.random.default_rng(1)
    det = dtmf.GoertzelDetector()
    assert det.feed(tones.sine(697, 500, -7)) == []
    assert det.feed(tones.silence(500)) == []
    assert det.feed(rng.normal(0, 3000, 8000)) == []
    assert det.feed(tones.cadence(tones.RINGBACK, 2000)) == []
