"""Bencode as rtpengine's ng protocol uses it: exact encodings, refusals that name the rule, and
property tests (round trip; arbitrary and mutated input never raises anything but BencodeError)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrex.media.bencode import MAX_DEPTH, BencodeError, decode, encode, text


def test_encodings_are_the_formats_own() -> None:
    assert encode({"command": "ping"}) == b"d7:command4:pinge"
    assert encode(42) == b"i42e" and encode(-7) == b"i-7e" and encode(0) == b"i0e"
    assert encode(["a", b"\x00\xff", 1]) == b"l1:a2:\x00\xffi1ee"
    assert encode({"b": 1, "a": 2}) == b"d1:ai2e1:bi1ee"  # keys sorted
    assert encode("é") == b"2:\xc3\xa9"


def test_rtpengine_replies_decode_with_keys_in_any_order() -> None:
    # rtpengine does not sort keys (ng_control_protocol.md): accepted as sent.
    reply = decode(b"d6:result2:ok3:sdp3:v=07:createdi1402064111ee")
    assert reply == {b"result": b"ok", b"sdp": b"v=0", b"created": 1402064111}
    assert text(reply) == {"result": "ok", "sdp": "v=0", "created": 1402064111}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "empty input"),
        (b"i03e", "leading zero"),
        (b"i-0e", "-0"),
        (b"ie", "not a decimal number"),
        (b"i1x2e", "not a decimal number"),
        (b"i12", "without its closing 'e'"),
        (b"05:hello", "not a plain decimal number"),
        (b"5:abc", "runs past the end"),
        (b"3abc", "without ':'"),
        (b"l1:a", "list without its closing 'e'"),
        (b"d1:ai1e", "dictionary without its closing 'e'"),
        (b"di1ei2ee", "keys must be strings"),
        (b"d1:ai1e1:ai2ee", "given twice"),
        (b"i1ei2e", "bytes after the value"),
        (b"x", "does not start a value"),
        (b"l" * (MAX_DEPTH + 2) + b"e" * (MAX_DEPTH + 2), "nesting deeper"),
        (b"i" + b"9" * 5000 + b"e", "too long"),
    ],
)
def test_garbage_is_refused_naming_the_rule(data: bytes, rule: str) -> None:
    with pytest.raises(BencodeError, match=rule):
        decode(data)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (True, "no booleans"),
        (1.5, "cannot be bencoded"),
        ({1: 2}, "keys must be str or bytes"),
        (None, "cannot"),
    ],
)
def test_values_bencode_cannot_carry_are_refused(value: object, rule: str) -> None:
    with pytest.raises(BencodeError, match=rule):
        encode(value)


def test_decode_refuses_text() -> None:
    with pytest.raises(BencodeError, match="takes bytes"):
        decode("i1e")  # type: ignore[arg-type]


values = st.recursive(
    st.integers(min_value=-(2**70), max_value=2**70) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.binary(max_size=10), inner, max_size=5),
    max_leaves=30,
)


@given(values)
def test_round_trip(value: object) -> None:
    assert decode(encode(value)) == value


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_arbitrary_bytes_decode_or_raise_bencode_error(data: bytes) -> None:
    with contextlib.suppress(BencodeError):
        decode(data)


@given(values, st.data())
@settings(max_examples=300)
def test_mutated_encodings_decode_or_raise_bencode_error(value: object, data: st.DataObject) -> None:
    raw = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, max(0, len(raw) - 1)))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and raw:
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i:]
        else:
            raw[i:i] = data.draw(st.sampled_from([b"i", b"e", b"l", b"d", b":", b"9", b"-", b"0"]))
    with contextlib.suppress(BencodeError):
        decode(bytes(raw))
