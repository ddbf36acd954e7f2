"""SDES-SRTP in the built-in relay over real loopback UDP: a phone encrypts with its own key
(pylibsrtp, libsrtp2), the relay decrypts, re-encrypts with the other leg's key or hands plain RTP
to an RTP leg, and the far phone reads the very payload that was sent."""

from __future__ import annotations

import asyncio
import base64

import pytest

from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtp import RtpPacket
from centrex.media.srtp import Crypto, SrtpLeg, new_key, parse_crypto, session

from .test_relay import free_range, phone

KEY = bytes(range(30))


def test_crypto_attribute_parses_and_writes_rfc4568_lines() -> None:
    line = f"1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(KEY).decode()}|2^20|1:32"
    assert parse_crypto(line) is None  # an MKI: not ours
    line = f"1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(KEY).decode()}|2^31"
    c = parse_crypto(line)
    assert c == Crypto(1, "AES_CM_128_HMAC_SHA1_80", KEY)
    assert str(c) == f"1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(KEY).decode()}"
    assert parse_crypto(str(Crypto(2, "AES_CM_128_HMAC_SHA1_32", KEY))) == Crypto(
        2, "AES_CM_128_HMAC_SHA1_32", KEY
    )
    assert parse_crypto("1 F8_128_HMAC_SHA1_80 inline:" + base64.b64encode(KEY).decode()) is None
    assert parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA") is None  # 3 bytes, not 30
    assert parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:!!!") is None
    assert parse_crypto("x AES_CM_128_HMAC_SHA1_80") is None
    assert len(new_key()) == 30 and new_key() != new_key()


def packets(n: int, ssrc: int, fill: int) -> list[bytes]:
    return [RtpPacket(0, 1000 + i, 160 * i, ssrc, bytes([fill, i]) * 80).pack() for i in range(n)]


@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
async def test_srtp_leg_is_bridged_to_plain_rtp_and_back(suite: str) -> None:
    low, high = free_range(4)
    mgr = RelayManager(PortAllocator(low, high), bind_host="127.0.0.1")
    relay = await mgr.create("srtp-1")
    a_port, b_port = mgr.sdp_address("srtp-1", "a").port, mgr.sdp_address("srtp-1", "b").port
    phone_key, relay_key = new_key(), new_key()
    relay.set_srtp("a", SrtpLeg(Crypto(1, suite, phone_key), Crypto(1, suite, relay_key)))
    phone_tx = session(Crypto(1, suite, phone_key), outbound=True)
    phone_rx = session(Crypto(1, suite, relay_key), outbound=False)
    ta, pa = await phone()
    tb, pb = await phone()
    mgr.set_remote("srtp-1", "a", "127.0.0.1", ta.get_extra_info("sockname")[1])
    mgr.set_remote("srtp-1", "b", "127.0.0.1", tb.get_extra_info("sockname")[1])
    try:
        sent_a = packets(5, 0xA, 0x11)
        for p in sent_a:
            wire = phone_tx.protect(p)
            assert wire[12:] != p[12:] and len(wire) == len(p) + (10 if suite.endswith("80") else 4)
            ta.sendto(wire, ("127.0.0.1", a_port))
        got_b = [(await asyncio.wait_for(pb.got.get(), 5))[0] for _ in sent_a]
        assert got_b == sent_a  # plain RTP toward the RTP leg: the phone's very payloads

        sent_b = packets(5, 0xB, 0x22)
        for p in sent_b:
            tb.sendto(p, ("127.0.0.1", b_port))
        got_a = [(await asyncio.wait_for(pa.got.get(), 5))[0] for _ in sent_b]
        assert all(w[12:] != p[12:] for w, p in zip(got_a, sent_b, strict=True))  # encrypted on the wire
        assert [phone_rx.unprotect(w) for w in got_a] == sent_b

        # A packet that does not authenticate (a stranger's, or tampered with) goes nowhere.
        forged = bytearray(phone_tx.protect(RtpPacket(0, 2000, 0, 0xA, b"\x00" * 160).pack()))
        forged[20] ^= 0xFF
        ta.sendto(bytes(forged), ("127.0.0.1", a_port))
        await asyncio.sleep(0.2)
        assert pb.got.empty()
        assert relay.srtp("a") is not None and relay.srtp("a").failed == 1  # type: ignore[union-attr]
        assert relay.stats("a").dropped == 1
    finally:
        ta.close()
        tb.close()
        mgr.close()


async def test_two_srtp_legs_are_rekeyed_by_the_relay() -> None:
    """Both phones on SRTP with their own keys: neither ever sees the other's key, each decrypts
    what the other said with the key the relay gave it."""
    low, high = free_range(4)
    mgr = RelayManager(PortAllocator(low, high), bind_host="127.0.0.1")
    relay = await mgr.create("srtp-2")
    a_port = mgr.sdp_address("srtp-2", "a").port
    suite = "AES_CM_128_HMAC_SHA1_80"
    keys = {name: new_key() for name in ("a_phone", "a_relay", "b_phone", "b_relay")}
    relay.set_srtp("a", SrtpLeg(Crypto(1, suite, keys["a_phone"]), Crypto(1, suite, keys["a_relay"])))
    relay.set_srtp("b", SrtpLeg(Crypto(1, suite, keys["b_phone"]), Crypto(1, suite, keys["b_relay"])))
    a_tx = session(Crypto(1, suite, keys["a_phone"]), outbound=True)
    b_rx = session(Crypto(1, suite, keys["b_relay"]), outbound=False)
    ta, _pa = await phone()
    tb, pb = await phone()
    mgr.set_remote("srtp-2", "b", "127.0.0.1", tb.get_extra_info("sockname")[1])
    try:
        sent = packets(4, 0xA, 0x33)
        wires = [a_tx.protect(p) for p in sent]
        for w in wires:
            ta.sendto(w, ("127.0.0.1", a_port))
        got = [(await asyncio.wait_for(pb.got.get(), 5))[0] for _ in sent]
        assert all(g != w for g, w in zip(got, wires, strict=True))  # re-encrypted, not forwarded
        assert [b_rx.unprotect(g) for g in got] == sent
    finally:
        ta.close()
        tb.close()
        mgr.close()
