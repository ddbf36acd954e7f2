"""The conference mixer without sockets: each party hears the sum of the others and never itself,
a party with no frame this tick counts as silence, sums clip to int16, join/leave tones reach
everyone, and quiet or loud talkers are brought toward one level."""

from __future__ import annotations

import numpy as np

from centrex.apps.mixer import FRAME, Mixer, join_tone, leave_tone
from centrex.media.tones import sine


def hz_power(samples: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    k = round(hz * len(samples) / 8000)
    return float(spectrum[max(0, k - 2) : k + 3].max())


def run(mixer: Mixer, sources: dict[str, np.ndarray], ticks: int) -> dict[str, np.ndarray]:
    heard: dict[str, list[np.ndarray]] = {k: [] for k in mixer.parties}
    for t in range(ticks):
        frames = {k: s[t * FRAME : (t + 1) * FRAME] for k, s in sources.items()}
        for k, f in mixer.tick(frames).items():
            heard[k].append(f)
    return {k: np.concatenate(v) for k, v in heard.items()}


def test_each_party_hears_the_sum_of_the_others_exactly() -> None:
    mixer = Mixer(normalise=False)
    for k in "abc":
        mixer.add(k, tone=False)
    rng = np.random.default_rng(1)
    frames = {k: rng.integers(-3000, 3000, FRAME).astype(np.int16) for k in "abc"}
    out = mixer.tick(frames)
    a, b, c = (frames[k].astype(np.int32) for k in "abc")
    assert np.array_equal(out["a"], (b + c).astype(np.int16))
    assert np.array_equal(out["b"], (a + c).astype(np.int16))
    assert np.array_equal(out["c"], (a + b).astype(np.int16))


def test_three_tones_each_hears_the_other_two_and_not_its_own() -> None:
    mixer = Mixer()
    freqs = {"a": 440.0, "b": 697.0, "c": 1209.0}
    for k in freqs:
        mixer.add(k, tone=False)
    sources = {k: sine(f, 2000, -16.0) for k, f in freqs.items()}
    heard = run(mixer, sources, 100)
    for k, own in freqs.items():
        tail = heard[k][8000:]
        others = [f for j, f in freqs.items() if j != k]
        assert all(hz_power(tail, f) > 100 * hz_power(tail, own) for f in others), k


def test_a_missing_frame_is_silence_and_a_lone_party_hears_nothing() -> None:
    mixer = Mixer(normalise=False)
    mixer.add("a", tone=False)
    mixer.add("b", tone=False)
    out = mixer.tick({"a": sine(440.0, 20)})  # b lost its packet
    assert not out["a"].any()
    assert np.array_equal(out["b"], sine(440.0, 20))
    mixer.remove("b", tone=False)
    assert not mixer.tick({"a": sine(440.0, 20)})["a"].any()
    assert mixer.tick({"stranger": sine(440.0, 20)})["a"].sum() == 0


def test_sums_clip_to_int16() -> None:
    mixer = Mixer(normalise=False)
    for k in "abc":
        mixer.add(k, tone=False)
    loud = np.full(FRAME, 30000, dtype=np.int16)
    out = mixer.tick({"a": loud, "b": loud, "c": -loud})
    assert (out["c"] == 32767).all()  # 60000 clipped
    assert (out["a"] == 0).all()


def test_join_and_leave_tones_reach_everyone_in_order() -> None:
    mixer = Mixer(normalise=False)
    mixer.add("a")  # alone: hears its own join tone
    mixer.add("b")
    tones = np.concatenate([join_tone(), join_tone()])
    ticks = -(-len(tones) // FRAME)
    heard = run(mixer, {}, ticks)
    assert np.array_equal(heard["a"][: len(tones)], tones)
    assert np.array_equal(heard["b"], heard["a"])
    mixer.remove("b")
    heard = run(mixer, {}, -(-len(leave_tone()) // FRAME) + 1)
    assert np.array_equal(heard["a"][: len(leave_tone())], leave_tone())
    assert not heard["a"][len(leave_tone()) + FRAME :].any()


def test_levels_are_normalised_toward_one_another() -> None:
    mixer = Mixer()
    for k in ("quiet", "loud", "listener"):
        mixer.add(k, tone=False)
    sources = {"quiet": sine(440.0, 3000, -30.0), "loud": sine(697.0, 3000, -6.0)}
    heard = run(mixer, sources, 150)["listener"][-8000:]
    raw_ratio = hz_power(sources["loud"], 697.0) / hz_power(sources["quiet"], 440.0)
    mixed_ratio = hz_power(heard, 697.0) / hz_power(heard, 440.0)
    assert mixed_ratio < raw_ratio / 3  # the gap closed (gains are bounded to 0.5x..2x)
    # Silence is never boosted.
    mixer.tick({})
    assert all(p.gain <= 2.0 for p in mixer.parties.values())
