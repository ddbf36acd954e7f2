"""STUN Binding keep-alives on the SIP UDP port (RFC 5626 §4.4.2, RFC 5389): what a phone behind
NAT gets back, decoded here independently of sip/stun.py (the RFC's own layout)."""

from __future__ import annotations

import ipaddress
import os
import struct
import zlib

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.stun import binding_response

COOKIE = 0x2112A442


def request(tid: bytes, fingerprint: bool = False) -> bytes:
    """A Binding request as a phone sends it (no attributes, optionally FINGERPRINT)."""
    msg = struct.pack("!HHI12s", 0x0001, 8 if fingerprint else 0, COOKIE, tid)
    if fingerprint:
        crc = (zlib.crc32(msg) ^ 0x5354554E) & 0xFFFFFFFF
        msg += struct.pack("!HHI", 0x8028, 4, crc)
    return msg


def attributes(msg: bytes) -> dict[int, bytes]:
    _kind, length, cookie, _tid = struct.unpack_from("!HHI12s", msg)
    assert cookie == COOKIE and len(msg) == 20 + length
    out, off = {}, 20
    while off < len(msg):
        a_type, a_len = struct.unpack_from("!HH", msg, off)
        out[a_type] = msg[off + 4 : off + 4 + a_len]
        off += 4 + a_len + (-a_len % 4)
    return out


def mapped(value: bytes, tid: bytes) -> tuple[str, int]:
    family, xport = struct.unpack_from("!xBH", value)
    port = xport ^ (COOKIE >> 16)
    if family == 1:
        return str(ipaddress.IPv4Address(struct.unpack_from("!I", value, 4)[0] ^ COOKIE)), port
    key = int.from_bytes(struct.pack("!I", COOKIE) + tid, "big")
    return str(ipaddress.IPv6Address(int.from_bytes(value[4:20], "big") ^ key)), port


def test_binding_request_answered_with_the_source_address_ipv4() -> None:
    tid = os.urandom(12)
    answer = binding_response(request(tid), ("198.51.100.7", 40123))
    assert answer is not None
    assert struct.unpack_from("!H", answer)[0] == 0x0101  # Binding success response
    assert answer[8:20] == tid
    assert mapped(attributes(answer)[0x0020], tid) == ("198.51.100.7", 40123)


def test_binding_request_answered_ipv6_with_fingerprint() -> None:
    tid = os.urandom(12)
    answer = binding_response(request(tid, fingerprint=True), ("2001:db8::5", 5060))
    assert answer is not None
    attrs = attributes(answer)
    assert mapped(attrs[0x0020], tid) == ("2001:db8::5", 5060)
    crc = (zlib.crc32(answer[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
    assert attrs[0x8028] == struct.pack("!I", crc)


def test_not_a_binding_request_gets_nothing() -> None:
    tid = os.urandom(12)
    indication = struct.pack("!HHI12s", 0x0011, 0, COOKIE, tid)  # Binding indication
    old_style = struct.pack("!HHI12s", 0x0001, 0, 0, tid)  # RFC 3489, no magic cookie
    for data in (indication, old_style, request(tid)[:-1], b"\x00\x01"):
        assert binding_response(data, ("192.0.2.1", 5060)) is None


def test_the_udp_endpoint_answers_stun_and_raises_no_sip_event() -> None:
    ep = SipEndpoint(("203.0.113.10", 5060), "UDP")
    tid = os.urandom(12)
    ep.receive_datagram(request(tid), ("192.0.2.44", 33000), 0.0)
    sent = ep.datagrams_to_send()
    assert len(sent) == 1 and sent[0][1] == ("192.0.2.44", 33000)
    assert mapped(attributes(sent[0][0])[0x0020], tid) == ("192.0.2.44", 33000)
    assert ep.next_event() is None
    # Over a stream, STUN is not a keep-alive (RFC 5626 §3.5.1: CRLF there): not answered.
    tcp = SipEndpoint(("203.0.113.10", 5060), "TCP")
    tcp.receive_datagram(request(tid), ("192.0.2.44", 33000), 0.0)
    assert tcp.datagrams_to_send() == []
