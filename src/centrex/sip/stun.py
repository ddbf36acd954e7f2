"""STUN Binding on the SIP UDP port: the keep-alive of RFC 5626 §3.5.1 / §4.4.2 for datagrams.

A phone behind NAT that uses SIP outbound (RFC 5626) keeps its UDP NAT binding open by sending a
STUN Binding request (RFC 5389) to the same address and port it sends SIP to, and learns from the
answer's XOR-MAPPED-ADDRESS whether its public address changed. This module is the server side:
recognise a Binding request among SIP datagrams and build the success response. Pure and stdlib
only (sans-I/O like the rest of sip/): bytes in, bytes out.

SIP never starts with the two zero bits STUN starts with (a SIP message starts with a letter), and
the 32-bit magic cookie tells RFC 5389 STUN from anything else (RFC 7983 demultiplexing), so the
check costs one byte comparison for every SIP datagram.

No library: the only maintained Python STUN code is part of aioice (an ICE stack with its own
asyncio sockets); what a keep-alive needs is ~60 lines of RFC 5389 §6, §15.2 and §15.5.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028
_FINGERPRINT_XOR = 0x5354554E  # "STUN", RFC 5389 §15.5
HEADER = struct.Struct("!HHI12s")  # type, length, magic cookie, transaction id
SOFTWARE_NAME = b"Centrex"


def looks_like_stun(data: bytes) -> bool:
    """RFC 5389 §6: the two top bits zero, the length a multiple of 4 that fits, the magic cookie."""
    if len(data) < HEADER.size or data[0] > 0x03:
        return False
    _type, length, cookie, _tid = HEADER.unpack_from(data)
    return cookie == MAGIC_COOKIE and length % 4 == 0 and HEADER.size + length == len(data)


def binding_response(data: bytes, source: tuple[str, int]) -> bytes | None:
    """The Binding success response to ``data`` from ``source`` (host, port), or None when
    ``data`` is not a Binding request (other STUN methods, indications and responses are ignored,
    as a keep-alive server needs nothing else)."""
    if not looks_like_stun(data):
        return None
    msg_type, _length, _cookie, tid = HEADER.unpack_from(data)
    if msg_type != BINDING_REQUEST:
        return None
    try:
        addr = ipaddress.ip_address(source[0])
    except ValueError:
        return None
    attributes = _attribute(XOR_MAPPED_ADDRESS, _xor_address(addr, source[1], tid))
    attributes += _attribute(SOFTWARE, SOFTWARE_NAME)
    wants_fingerprint = _has_attribute(data, FINGERPRINT)
    length = len(attributes) + (8 if wants_fingerprint else 0)
    message = HEADER.pack(BINDING_SUCCESS, length, MAGIC_COOKIE, tid) + attributes
    if wants_fingerprint:  # §15.5: CRC-32 of the message up to it, length already counting it
        crc = (zlib.crc32(message) ^ _FINGERPRINT_XOR) & 0xFFFFFFFF
        message += _attribute(FINGERPRINT, struct.pack("!I", crc))
    return message


def _xor_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int, tid: bytes) -> bytes:
    """§15.2: family, port XOR the cookie's top 16 bits, address XOR the cookie (and the id)."""
    xport = port ^ (MAGIC_COOKIE >> 16)
    if addr.version == 4:
        xaddr = int(addr) ^ MAGIC_COOKIE
        return struct.pack("!BBHI", 0, 0x01, xport, xaddr)
    key = int.from_bytes(struct.pack("!I", MAGIC_COOKIE) + tid, "big")
    return struct.pack("!BBH", 0, 0x02, xport) + (int(addr) ^ key).to_bytes(16, "big")


def _attribute(kind: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * pad


def _has_attribute(data: bytes, kind: int) -> bool:
    offset = HEADER.size
    while offset + 4 <= len(data):
        a_type, a_len = struct.unpack_from("!HH", data, offset)
        if a_type == kind:
            return True
        offset += 4 + a_len + ((-a_len) % 4)
    return False
