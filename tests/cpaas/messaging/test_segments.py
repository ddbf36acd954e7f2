"""GSM-7 / UCS-2 segmenting: the vectors of smpplib.gsm.make_parts (reference
cpaas-e911-numbers.md §2.1), the concatenation UDH, and no part cut inside an escape or surrogate pair."""

from __future__ import annotations

import pytest
from smpplib.gsm import make_parts

from centrex.cpaas.messaging.segments import decode, segment, split_udh

VECTORS = [
    ("a" * 160, 1, 0),
    ("a" * 161, 2, 0),
    ("a" * 306, 2, 0),
    ("a" * 307, 3, 0),
    ("€" * 80, 1, 0),
    ("€" * 81, 2, 0),
    ("é" * 160, 1, 0),
    ("ж" * 70, 1, 8),
    ("ж" * 71, 2, 8),
    ("😀" * 35, 1, 8),
    ("😀" * 36, 2, 8),
]


@pytest.mark.parametrize(
    ("text", "parts", "coding"), VECTORS, ids=[f"{len(t)}x{t[0]}" for t, _, _ in VECTORS]
)
def test_segment_counts_and_encodings(text: str, parts: int, coding: int) -> None:
    s = segment(text)
    assert (s.count, s.data_coding) == (parts, coding)
    ref_parts, ref_coding, ref_esm = make_parts(text)  # the library's own answer agrees
    assert (len(ref_parts), ref_coding, ref_esm) == (s.count, s.data_coding, s.esm_class)


def test_concatenated_parts_carry_a_udh_and_rejoin_to_the_text() -> None:
    text = "x" * 200 + "ж"
    s = segment(text, ref=7)
    assert s.encoding == "UCS2" and s.esm_class == 0x40
    assert [p[:6] for p in s.parts] == [bytes([5, 0, 3, 7, 3, i]) for i in (1, 2, 3)]
    payloads = []
    for p in s.parts:
        concat, payload = split_udh(p, s.esm_class)
        assert concat is not None and concat[:2] == (7, 3)
        payloads.append(payload)
    assert decode(b"".join(payloads), 8) == text
    assert all(len(p) - 6 <= 134 for p in s.parts)


def test_no_part_splits_an_escape_or_a_surrogate_pair() -> None:
    gsm = segment("a" + "€" * 100)  # the 153rd septet would be an ESC
    assert all(p[-1] != 0x1B for p in gsm.parts)
    assert decode(b"".join(p[6:] for p in gsm.parts), 0) == "a" + "€" * 100
    ucs = segment("a" + "😀" * 40)
    for p in ucs.parts:
        p[6:].decode("utf-16-be")  # each part decodes alone: no pair was cut
    assert decode(b"".join(p[6:] for p in ucs.parts), 8) == "a" + "😀" * 40
