"""GSM-7 / UCS-2 encoding and segmenting (3GPP TS 23.038), with smpplib's encoder.

A message that fits GSM-7 (basic table 1 septet, extension table ``^{}\\[~]|€`` and form feed 2) is
one SMS up to 160 septets, else 153 per segment (the 6-byte concatenation UDH costs 7 septets).
Anything else is UCS-2: 70 UTF-16 code units single, 67 per segment. Vectors: reference
cpaas-e911-numbers.md §2.1 (smpplib.gsm.make_parts), tested in tests/cpaas/messaging/test_segments.py.

smpplib's own splitter cuts at a fixed byte count, which can split an ESC pair (GSM-7 extension
character) or a UTF-16 surrogate pair between two parts; here the cut moves back one unit instead.
The UDH is smpplib's: 05 00 03 <ref> <total> <seq>. SMPP carries GSM-7 unpacked (one septet per
octet), data_coding 0; UCS-2 is data_coding 8.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from smpplib import consts
from smpplib.gsm import GSM_CHARACTER_TABLE, gsm_encode

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67  # in UTF-16 code units (2 bytes each)
MAX_SEGMENTS = 10  # carriers cap concatenation in practice (reference §2.1: about 6–10)
DATA_CODING_GSM = consts.SMPP_ENCODING_DEFAULT  # 0
DATA_CODING_UCS2 = consts.SMPP_ENCODING_ISO10646  # 8
ESM_UDHI = consts.SMPP_GSMFEAT_UDHI  # 0x40


@dataclass(frozen=True)
class Segmented:
    encoding: str  # "GSM" | "UCS2"
    data_coding: int
    esm_class: int
    parts: list[bytes]  # short_message of each submit_sm, UDH included when more than one
    text: str = ""  # what was segmented (an HTTP carrier takes the text, not the parts)

    @property
    def count(self) -> int:
        return len(self.parts)


def encode(text: str) -> tuple[str, bytes]:
    try:
        return "GSM", gsm_encode(text)
    except UnicodeError:
        return "UCS2", text.encode("utf-16-be")


def _chunks(data: bytes, size: int, encoding: str) -> list[bytes]:
    out: list[bytes] = []
    i = 0
    while i < len(data):
        end = min(i + size, len(data))
        if end < len(data):
            if encoding == "GSM" and data[end - 1] == 0x1B:  # never split an escape pair
                end -= 1
            elif encoding == "UCS2" and 0xD8 <= data[end - 2] <= 0xDB:  # nor a surrogate pair
                end -= 2
        out.append(data[i:end])
        i = end
    return out


def segment(text: str, ref: int | None = None) -> Segmented:
    encoding, data = encode(text)
    gsm = encoding == "GSM"
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE * 2, UCS2_PART * 2)
    coding = DATA_CODING_GSM if gsm else DATA_CODING_UCS2
    if len(data) <= single:
        return Segmented(encoding, coding, consts.SMPP_MSGTYPE_DEFAULT, [data], text)
    chunks = _chunks(data, part, encoding)
    ref = random.randint(0, 255) if ref is None else ref & 0xFF
    header = bytes((0x05, 0x00, 0x03, ref, len(chunks)))
    parts = [header + bytes((i,)) + c for i, c in enumerate(chunks, start=1)]
    return Segmented(encoding, coding, ESM_UDHI, parts, text)


def count(text: str) -> tuple[int, str]:
    """(segments, encoding) without building the parts: what the API answers as num_segments."""
    s = segment(text, ref=0)
    return s.count, s.encoding


_GSM_BASIC = {i: ch for i, ch in enumerate(GSM_CHARACTER_TABLE[:128])}
_GSM_EXT = {i - 128: ch for i, ch in enumerate(GSM_CHARACTER_TABLE[128:], start=128) if ch != "`"}


def gsm_decode(data: bytes) -> str:
    """Unpacked GSM-7 (one septet per octet) back to text; smpplib only encodes."""
    out: list[str] = []
    escape = False
    for b in data:
        if escape:
            out.append(_GSM_EXT.get(b, " "))
            escape = False
        elif b == 0x1B:
            escape = True
        else:
            out.append(_GSM_BASIC.get(b & 0x7F, "?"))
    return "".join(out)


def decode(data: bytes, data_coding: int) -> str:
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == consts.SMPP_ENCODING_ISO88591:
        return data.decode("latin-1")
    return gsm_decode(data)


def split_udh(short_message: bytes, esm_class: int) -> tuple[tuple[int, int, int] | None, bytes]:
    """(ref, total, seq) of a concatenated part and its payload, or (None, message)."""
    if not esm_class & ESM_UDHI or not short_message:
        return None, short_message
    length = short_message[0]
    udh, payload = short_message[1 : 1 + length], short_message[1 + length :]
    i = 0
    while i + 1 < len(udh):
        iei, ln = udh[i], udh[i + 1]
        value = udh[i + 2 : i + 2 + ln]
        if iei == 0x00 and ln == 3:
            return (value[0], value[1], value[2]), payload
        if iei == 0x08 and ln == 4:
            return ((value[0] << 8) | value[1], value[2], value[3]), payload
        i += 2 + ln
    return None, payload
