"""G.711 against tables built from the standard's own description (decision and output values)."""

from __future__ import annotations

import numpy as np

from centrex.media import g711


def reference_ulaw(x: int) -> int:
    """µ-law code of a 16-bit sample from G.711 Table 2's segments, one sample at a time.

    Magnitudes are in 14-bit units; segment s (0..7) starts at 2**(s+5) - 33 and has 16 intervals of
    2**(s+1); negative samples use the one's complement (as the ITU reference code G.191 does).
    """
    mag = (~x if x < 0 else x) >> 2
    mag = min(mag, 8158)
    for s in range(8):
        start, step = 2 ** (s + 5) - 33, 2 ** (s + 1)
        if mag < start + 16 * step:
            q = (mag - start) // step
            break
    code = 0x7F - (s * 16 + q)  # codes count down from 0x7F; the sign bit set means positive
    return code | 0x80 if x >= 0 else code


def reference_ulaw_out(code: int) -> int:
    s, q = (~code >> 4) & 7, ~code & 0x0F
    start, step = 2 ** (s + 5) - 33, 2 ** (s + 1)
    mid = 4 * start + 4 * q * step + 2 * step  # interval midpoint back in 16-bit units
    return mid if code & 0x80 else -mid


def reference_alaw(x: int) -> int:
    """A-law code from G.711 Table 1: 12-bit magnitude, segments 0 and 1 step 1, then doubling."""
    mag = (~x if x < 0 else x) >> 4
    bounds = [0, 16, 32, 64, 128, 256, 512, 1024, 2048]
    for seg in range(8):
        if mag < bounds[seg + 1]:
            step = 1 if seg < 2 else 2 ** (seg - 1)
            q = (mag - bounds[seg]) // step
            break
    code = (seg << 4) | q
    return (code | 0x80 if x >= 0 else code) ^ 0x55


def test_ulaw_encoder_is_bit_exact_for_every_16_bit_sample() -> None:
    x = np.arange(-32768, 32768)
    ours = np.frombuffer(g711.ulaw_encode(x.astype(np.int16)), dtype=np.uint8)
    ref = np.array([reference_ulaw(int(v)) for v in x], dtype=np.uint8)
    assert np.array_equal(ours, ref)


def test_alaw_encoder_is_bit_exact_for_every_16_bit_sample() -> None:
    x = np.arange(-32768, 32768)
    ours = np.frombuffer(g711.alaw_encode(x.astype(np.int16)), dtype=np.uint8)
    ref = np.array([reference_alaw(int(v)) for v in x], dtype=np.uint8)
    assert np.array_equal(ours, ref)


def test_decoders_give_interval_midpoints() -> None:
    assert [int(v) for v in g711.ULAW_DECODE] == [reference_ulaw_out(c) for c in range(256)]
    # A-law output: midpoint of the interval the code stands for, in 16-bit units
    for c in range(256):
        ix = (c ^ 0x55) & 0x7F
        seg, q = ix >> 4, ix & 0x0F
        lo = [0, 16, 32, 64, 128, 256, 512, 1024][seg]
        step = 1 if seg < 2 else 2 ** (seg - 1)
        mid = 16 * (lo + q * step) + 8 * step
        assert int(g711.ALAW_DECODE[c]) == (mid if c & 0x80 else -mid), hex(c)


def test_known_codes() -> None:
    # silence, the smallest negative, both full scales (ITU G.191 reference values)
    assert g711.ulaw_encode(np.array([0, -1, 32767, -32768], dtype=np.int16)) == b"\xff\x7f\x80\x00"
    assert g711.alaw_encode(np.array([0, -1, 32767, -32768], dtype=np.int16)) == b"\xd5\x55\xaa\x2a"
    assert list(g711.ulaw_decode(b"\x80\x00\xff\x7f")) == [32124, -32124, 0, 0]
    assert list(g711.alaw_decode(b"\xaa\x2a\xd5\x55")) == [32256, -32256, 8, -8]


def test_round_trip_error_is_within_half_a_step() -> None:
    x = np.arange(-32768, 32768).astype(np.int16)
    for enc, dec, rel in ((g711.ulaw_encode, g711.ulaw_decode, 32), (g711.alaw_encode, g711.alaw_decode, 32)):
        y = dec(enc(x)).astype(np.int32)
        err = np.abs(y - x.astype(np.int32))
        clip = np.abs(x.astype(np.int32)) > 32124  # beyond the last output level
        # log companding: error <= half the segment step, about 1/32 of the magnitude (+ smallest step)
        assert np.all(err[~clip] <= np.abs(x[~clip].astype(np.int32)) // rel + 16)
        assert err.max() <= 1024


def test_every_code_survives_decode_then_encode() -> None:
    codes = bytes(range(256))
    assert g711.ulaw_encode(g711.ulaw_decode(codes)) == codes.replace(b"\x7f", b"\xff")  # -0 -> +0
    assert g711.alaw_encode(g711.alaw_decode(codes)) == codes


def test_transcoding_and_codec_lookup() -> None:
    tone = (8000 * np.sin(np.arange(160) / 5)).astype(np.int16)
    u = g711.ulaw_encode(tone)
    a = g711.ulaw_to_alaw(u)
    assert np.max(np.abs(g711.alaw_decode(a).astype(int) - tone)) < 300
    enc, dec = g711.codec_for("pcma")
    assert enc is g711.alaw_encode and dec is g711.alaw_decode
