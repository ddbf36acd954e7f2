"""Bencode (the BitTorrent encoding), as rtpengine's ng control protocol carries it.

Values: ``int``, ``bytes`` (``str`` is encoded as UTF-8), ``list``/``tuple`` and ``dict`` with
``str`` or ``bytes`` keys.
``encode`` writes dictionary keys sorted, as the format asks; ``decode`` accepts them in any order
because rtpengine itself does not sort them (its ng_control_protocol.md says so), but refuses
everything else the format forbids -- leading zeros, ``-0``, duplicate keys, trailing bytes,
nesting deeper than ``MAX_DEPTH`` -- with a ``BencodeError`` naming the offset and the rule.
Byte strings decode to ``bytes``; ``text`` turns a decoded value's strings into ``str``.
"""

from __future__ import annotations

import itertools
from typing import TypeAlias

Decoded: TypeAlias = int | bytes | list["Decoded"] | dict[bytes, "Decoded"]
Text: TypeAlias = int | str | list["Text"] | dict[str, "Text"]

MAX_DEPTH = 64  # ng replies nest ~6 deep; a bound keeps hostile input from exhausting the stack


class BencodeError(ValueError):
    """Input that is not bencode, or a value that cannot be encoded."""


def encode(value: object) -> bytes:
    out: list[bytes] = []
    _encode(value, out, 0)
    return b"".join(out)


def _key(k: object) -> bytes:
    if isinstance(k, str):
        return k.encode()
    if isinstance(k, bytes):
        return k
    raise BencodeError(f"dictionary key {k!r}: keys must be str or bytes")


def _encode(value: object, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BencodeError(f"nesting deeper than {MAX_DEPTH}")
    if isinstance(value, bool):  # bool is an int subclass; bencode has no booleans
        raise BencodeError(f"{value!r}: bencode has no booleans (send 0/1 or a string)")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out.append(b"%d:" % len(raw))
        out.append(raw)
    elif isinstance(value, str):
        raw = value.encode()
        out.append(b"%d:" % len(raw))
        out.append(raw)
    elif isinstance(value, (list, tuple)):
        out.append(b"l")
        for item in value:
            _encode(item, out, depth + 1)
        out.append(b"e")
    elif isinstance(value, dict):
        items = sorted(((_key(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        for (k1, _), (k2, _) in itertools.pairwise(items):
            if k1 == k2:
                raise BencodeError(f"dictionary key {k1!r} given twice (as str and bytes)")
        out.append(b"d")
        for k, v in items:
            out.append(b"%d:" % len(k))
            out.append(k)
            _encode(v, out, depth + 1)
        out.append(b"e")
    else:
        raise BencodeError(f"{type(value).__name__}: cannot be bencoded (int, bytes, str, list, dict)")


def decode(data: bytes) -> Decoded:
    """The one value ``data`` holds; BencodeError if it is not exactly one well-formed value."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BencodeError(f"decode takes bytes, not {type(data).__name__}")
    buf = bytes(data)
    if not buf:
        raise BencodeError("empty input")
    value, end = _decode(buf, 0, 0)
    if end != len(buf):
        raise BencodeError(f"offset {end}: {len(buf) - end} bytes after the value")
    return value


def _decode(buf: bytes, i: int, depth: int) -> tuple[Decoded, int]:
    if depth > MAX_DEPTH:
        raise BencodeError(f"offset {i}: nesting deeper than {MAX_DEPTH}")
    if i >= len(buf):
        raise BencodeError(f"offset {i}: input ends where a value should start")
    c = buf[i]
    if c == 0x69:  # i
        end = buf.find(b"e", i + 1)
        if end < 0:
            raise BencodeError(f"offset {i}: integer without its closing 'e'")
        return _integer(buf[i + 1 : end], i), end + 1
    if 0x30 <= c <= 0x39:  # a digit: <length>:<bytes>
        return _string(buf, i)
    if c == 0x6C:  # l
        items: list[Decoded] = []
        i += 1
        while True:
            if i >= len(buf):
                raise BencodeError(f"offset {i}: list without its closing 'e'")
            if buf[i] == 0x65:
                return items, i + 1
            item, i = _decode(buf, i, depth + 1)
            items.append(item)
    if c == 0x64:  # d
        start = i
        result: dict[bytes, Decoded] = {}
        i += 1
        while True:
            if i >= len(buf):
                raise BencodeError(f"offset {start}: dictionary without its closing 'e'")
            if buf[i] == 0x65:
                return result, i + 1
            if not 0x30 <= buf[i] <= 0x39:
                raise BencodeError(f"offset {i}: dictionary keys must be strings")
            key, i = _string(buf, i)
            if key in result:
                raise BencodeError(f"offset {i}: dictionary key {key!r} given twice")
            result[key], i = _decode(buf, i, depth + 1)
    raise BencodeError(f"offset {i}: {bytes([c])!r} does not start a value (i, l, d or a digit)")


def _integer(digits: bytes, at: int) -> int:
    body = digits[1:] if digits.startswith(b"-") else digits
    if len(body) > 4000:  # int() refuses more digits than sys.get_int_max_str_digits (4300)
        raise BencodeError(f"offset {at}: integer of {len(body)} digits is too long")
    if not body or not body.isdigit() or not body.isascii():
        raise BencodeError(f"offset {at}: integer {digits!r} is not a decimal number")
    if body.startswith(b"0") and (len(body) > 1 or digits.startswith(b"-")):
        raise BencodeError(f"offset {at}: integer {digits!r} has a leading zero or is -0")
    return int(digits)


def _string(buf: bytes, i: int) -> tuple[bytes, int]:
    colon = buf.find(b":", i)
    if colon < 0:
        raise BencodeError(f"offset {i}: string length without ':'")
    digits = buf[i:colon]
    if len(digits) > 18:
        raise BencodeError(f"offset {i}: string length {digits[:20]!r} is too long")
    if not digits.isdigit() or not digits.isascii() or (digits.startswith(b"0") and len(digits) > 1):
        raise BencodeError(f"offset {i}: string length {digits[:20]!r} is not a plain decimal number")
    n = int(digits)
    end = colon + 1 + n
    if end > len(buf):
        raise BencodeError(f"offset {i}: string of {n} bytes runs past the end of the input")
    return buf[colon + 1 : end], end


def text(value: Decoded) -> Text:
    """``value`` with every byte string decoded as UTF-8 (invalid sequences replaced)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [text(v) for v in value]
    if isinstance(value, dict):
        return {k.decode("utf-8", "replace"): text(v) for k, v in value.items()}
    return value
