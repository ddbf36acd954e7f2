"""G.711 µ-law and A-law, vectorised with numpy.

Both encoders are built once as 65,536-entry tables (every 16-bit linear sample -> its code) from
the companding algorithm of ITU-T G.711 as the ITU's own reference code (G.191, ``g711.c``) states
it: negative samples take the one's complement before quantising, µ-law works on 14-bit magnitudes
with a bias of 33, A-law on 12-bit magnitudes with even bits inverted (XOR 0x55). Decoders are
256-entry tables giving the midpoint of each quantisation interval. Encoding or decoding a frame is
then one table lookup, which is what a relay or a mixer needs at thousands of frames per second.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from centrex.media.errors import MediaError

Pcm = npt.NDArray[np.int16]

ULAW_SILENCE = 0xFF  # µ-law code of linear 0
ALAW_SILENCE = 0xD5  # A-law code of linear 0


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    x = np.arange(-32768, 32768, dtype=np.int32)
    mag = np.where(x < 0, ~x, x) >> 2  # one's complement for negatives, then 14-bit magnitude
    biased = np.minimum(mag + 33, 0x1FFF)
    seg = np.zeros_like(biased)
    for s in range(1, 8):  # segment = position of the top bit above bit 5 (64 -> 1, ..., 4096 -> 7)
        seg += (biased >> (5 + s)) > 0
    mant = (biased >> (seg + 1)) & 0x0F
    code = ((7 - seg) << 4) | (0x0F - mant)
    code |= np.where(x >= 0, 0x80, 0)
    table = code.astype(np.uint8)
    return np.concatenate([table[32768:], table[:32768]])  # index by the sample's uint16 view


def _ulaw_decode_table() -> Pcm:
    c = np.arange(256, dtype=np.int32)
    inv = ~c & 0xFF
    exponent = (inv >> 4) & 0x07
    mant = inv & 0x0F
    step = 4 << (exponent + 1)
    mag = (0x80 << exponent) + step * mant + step // 2 - 4 * 33
    return np.where(c < 0x80, -mag, mag).astype(np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    x = np.arange(-32768, 32768, dtype=np.int32)
    mag = np.where(x < 0, ~x, x) >> 4  # 12-bit magnitude (0..2047 after the shift)
    exp = np.zeros_like(mag)
    for e in range(1, 8):  # segment e covers 16 << (e - 1) .. (32 << (e - 1)) - 1
        exp += mag >= (16 << (e - 1))
    mant = np.where(exp > 0, (mag >> np.maximum(exp - 1, 0)) - 16, mag) & 0x0F
    code = (exp << 4) | mant
    code |= np.where(x >= 0, 0x80, 0)
    table = (code ^ 0x55).astype(np.uint8)
    return np.concatenate([table[32768:], table[:32768]])


def _alaw_decode_table() -> Pcm:
    c = np.arange(256, dtype=np.int32)
    ix = (c ^ 0x55) & 0x7F
    exp = ix >> 4
    mant = ix & 0x0F
    mant = np.where(exp > 0, mant + 16, mant)
    mag = (mant << 4) + 8
    mag = np.where(exp > 1, mag << np.maximum(exp - 1, 0), mag)
    return np.where(c > 127, mag, -mag).astype(np.int16)


ULAW_ENCODE = _ulaw_encode_table()
ULAW_DECODE = _ulaw_decode_table()
ALAW_ENCODE = _alaw_encode_table()
ALAW_DECODE = _alaw_decode_table()
for _t in (ULAW_ENCODE, ULAW_DECODE, ALAW_ENCODE, ALAW_DECODE):
    _t.setflags(write=False)


def _as_pcm(samples: npt.ArrayLike) -> Pcm:
    a = np.asarray(samples)
    if a.dtype != np.int16:
        a = np.clip(np.rint(a), -32768, 32767).astype(np.int16)
    return a


def ulaw_encode(samples: npt.ArrayLike) -> bytes:
    """16-bit linear samples (floats are rounded and clipped) -> µ-law bytes."""
    return ULAW_ENCODE[_as_pcm(samples).view(np.uint16)].tobytes()


def ulaw_decode(data: bytes) -> Pcm:
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def alaw_encode(samples: npt.ArrayLike) -> bytes:
    return ALAW_ENCODE[_as_pcm(samples).view(np.uint16)].tobytes()


def alaw_decode(data: bytes) -> Pcm:
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_to_alaw(data: bytes) -> bytes:
    """Transcode through linear (G.711 Annex tables do the same; one lookup each way)."""
    return alaw_encode(ulaw_decode(data))


def alaw_to_ulaw(data: bytes) -> bytes:
    return ulaw_encode(alaw_decode(data))


# RTP static payload types (RFC 3551 table 4) and the codecs behind them.
PAYLOAD_TYPES = {0: "PCMU", 8: "PCMA"}


def codec_for(encoding: str) -> tuple[Callable[[npt.ArrayLike], bytes], Callable[[bytes], Pcm]]:
    """'PCMU' / 'PCMA' (case-insensitive, as in SDP rtpmap) -> (encode, decode)."""
    name = encoding.upper()
    if name == "PCMU":
        return ulaw_encode, ulaw_decode
    if name == "PCMA":
        return alaw_encode, alaw_decode
    raise MediaError(f"encoding: {encoding!r} is not G.711 (PCMU or PCMA)")
