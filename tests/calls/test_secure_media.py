"""Offer/answer decisions of SDES-SRTP (calls/secure_media.py) and of wideband codecs
(calls/codecs.py), on real SDP and a real relay: keys only over TLS, SAVP offered only to phones
on TLS, each relay leg keyed with its own key; G.722 and Opus passed through unless recording or
hold music needs G.711."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from centrex.calls.codecs import audio_codecs, g711_only, offered_codecs
from centrex.calls.secure_media import SecureMedia
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager, RtpRelay
from centrex.media.srtp import Crypto, parse_crypto
from centrex.sip.message import Request, Response, parse_message
from centrex.sip.sdp import parse_sdp, rewrite_connection

from ..media.test_relay import free_range

PHONE_KEY = bytes(range(30))
PHONE_B64 = base64.b64encode(PHONE_KEY).decode()


def sdp(port: int, proto: str = "RTP/SAVP", crypto: bool = True, formats: str = "9 0 8 111 101") -> str:
    lines = [
        "v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
        f"m=audio {port} {proto} {formats}",
        "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1",
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
    ]  # fmt: skip
    if crypto:
        lines += [
            f"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{PHONE_B64}",
            f"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:{PHONE_B64}|2^31",
        ]
    return "\r\n".join([*lines, "a=sendrecv"]) + "\r\n"


def message(start: str, body: str) -> Request | Response:
    raw = (
        f"{start}\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
        f"To: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    return parse_message(raw.encode())


def invite(body: str) -> Request:
    m = message("INVITE sip:b@x SIP/2.0", body)
    assert isinstance(m, Request)
    return m


def ok(body: str) -> Response:
    m = message("SIP/2.0 200 OK", body)
    assert isinstance(m, Response)
    return m


@pytest.fixture
async def relay() -> AsyncIterator[tuple[RelayManager, RtpRelay]]:
    low, high = free_range(2)
    mgr = RelayManager(PortAllocator(low, high), bind_host="127.0.0.1")
    r = await mgr.create("call-1")
    yield mgr, r
    mgr.close()


def cryptos(body: bytes) -> list[Crypto]:
    audio = parse_sdp(body).media[0]
    return [c for c in (parse_crypto(v) for v in audio.attribute_values("crypto")) if c]


async def test_srtp_caller_on_tls_is_answered_with_its_own_suite_and_a_new_key(
    relay: tuple[RelayManager, RtpRelay],
) -> None:
    mgr, r = relay
    secure = SecureMedia(lambda: mgr)
    a_port, b_port = r.local_port("a"), r.local_port("b")
    offer = parse_sdp(sdp(4000))
    secure.received("call-1", "a", offer)  # the caller's offer (media_path.learn)

    # Toward the callee: a phone on TLS is offered SRTP with the relay's key, never the caller's.
    to_b = invite(str(rewrite_connection(offer, "127.0.0.1", b_port)))
    secure.sending("TLS", to_b, lambda relay, leg: True)
    audio = parse_sdp(to_b.body).media[0]
    assert audio.proto == "RTP/SAVP"
    offered = cryptos(to_b.body)
    assert [(c.tag, c.suite) for c in offered] == [
        (1, "AES_CM_128_HMAC_SHA1_80"),
        (2, "AES_CM_128_HMAC_SHA1_32"),
    ]
    assert all(c.key != PHONE_KEY for c in offered) and r.srtp("b") is None

    # The callee takes tag 2 (_32) with its key: leg b is keyed.
    b_key = bytes(range(100, 130))
    answer_b = sdp(5000, formats="9 101").replace(PHONE_B64, base64.b64encode(b_key).decode())
    answer_b = answer_b.replace(
        f"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{base64.b64encode(b_key).decode()}\r\n", ""
    )
    answer_b = answer_b.replace("a=crypto:2 AES_CM_128_HMAC_SHA1_80", "a=crypto:2 AES_CM_128_HMAC_SHA1_32")
    secure.received("call-1", "b", parse_sdp(answer_b))
    assert r.srtp("b") is not None and r.sdes["b"].current == (
        Crypto(2, "AES_CM_128_HMAC_SHA1_32", b_key),
        Crypto(2, "AES_CM_128_HMAC_SHA1_32", offered[0].key),
    )

    # The caller's answer over TLS: its first suite and tag, the relay's own key for leg a.
    to_a = ok(str(rewrite_connection(parse_sdp(answer_b), "127.0.0.1", a_port)))
    secure.sending("TLS", to_a, lambda relay, leg: True)
    (ours,) = cryptos(to_a.body)
    assert (ours.tag, ours.suite) == (1, "AES_CM_128_HMAC_SHA1_32")
    assert ours.key not in (PHONE_KEY, b_key, offered[0].key)
    assert parse_sdp(to_a.body).media[0].proto == "RTP/SAVP" and r.srtp("a") is not None
    # The same answer again (a 183 then the 200): the same key, the running context kept.
    keyed = r.srtp("a")
    again = ok(str(rewrite_connection(parse_sdp(answer_b), "127.0.0.1", a_port)))
    secure.sending("TLS", again, lambda relay, leg: True)
    assert cryptos(again.body) == [ours] and r.srtp("a") is keyed


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
async def test_no_key_ever_goes_over_plaintext_signalling(
    relay: tuple[RelayManager, RtpRelay], transport: str
) -> None:
    mgr, r = relay
    secure = SecureMedia(lambda: mgr)
    offer = parse_sdp(sdp(4000))
    secure.received("call-1", "a", offer)
    to_b = invite(str(rewrite_connection(offer, "127.0.0.1", r.local_port("b"))))
    secure.sending(transport, to_b, lambda relay, leg: True)  # a phone, but on UDP/TCP
    assert b"a=crypto" not in to_b.body and b"inline:" not in to_b.body
    assert parse_sdp(to_b.body).media[0].proto == "RTP/AVP"
    # The caller offered SRTP over plaintext: it is answered RTP, no key, leg a plain.
    to_a = ok(str(rewrite_connection(parse_sdp(sdp(5000, "RTP/AVP", False)), "127.0.0.1", r.local_port("a"))))
    secure.sending(transport, to_a, lambda relay, leg: True)
    assert b"a=crypto" not in to_a.body and r.srtp("a") is None
    # An SDP that is not the relay's (rtpengine, direct media) loses its keys too.
    foreign = invite(sdp(6000))
    secure.sending(transport, foreign, lambda relay, leg: True)
    assert b"a=crypto" not in foreign.body and parse_sdp(foreign.body).media[0].proto == "RTP/AVP"


async def test_carrier_on_tls_is_offered_rtp_and_the_srtp_phone_is_bridged(
    relay: tuple[RelayManager, RtpRelay],
) -> None:
    mgr, r = relay
    secure = SecureMedia(lambda: mgr)
    offer = parse_sdp(sdp(4000))
    secure.received("call-1", "a", offer)
    to_trunk = invite(str(rewrite_connection(offer, "127.0.0.1", r.local_port("b"))))
    secure.sending("TLS", to_trunk, lambda relay, leg: False)  # not a phone
    assert b"a=crypto" not in to_trunk.body and parse_sdp(to_trunk.body).media[0].proto == "RTP/AVP"
    secure.received("call-1", "b", parse_sdp(sdp(5000, "RTP/AVP", False, "0 101")))
    to_a = ok(
        str(
            rewrite_connection(
                parse_sdp(sdp(5000, "RTP/AVP", False, "0 101")), "127.0.0.1", r.local_port("a")
            )
        )
    )
    secure.sending("TLS", to_a, lambda relay, leg: True)
    assert parse_sdp(to_a.body).media[0].proto == "RTP/SAVP" and len(cryptos(to_a.body)) == 1
    assert r.srtp("a") is not None and r.srtp("b") is None  # SRTP to the phone, RTP to the carrier


def test_wideband_passes_through_unless_a_feature_decodes() -> None:
    offer = parse_sdp(sdp(4000, "RTP/AVP", False))
    assert audio_codecs(offered_codecs(offer)) == [
        "g722/8000", "pcmu/8000", "pcma/8000", "opus/48000", "telephone-event/8000",
    ]  # fmt: skip
    for feature in ("recorded", "conference", "hold_music"):
        reduced = offered_codecs(offer, **{feature: True})
        assert audio_codecs(reduced) == ["pcmu/8000", "pcma/8000", "telephone-event/8000"], feature
        assert "opus" not in str(reduced) and "G722" not in str(reduced) and "a=fmtp:101 0-15" in str(reduced)
    # Only wideband offered: nothing to reduce to, the offer stays (the far side may refuse it).
    only_wide = parse_sdp(sdp(4000, "RTP/AVP", False, "9 111 101"))
    assert audio_codecs(g711_only(only_wide)) == ["g722/8000", "opus/48000", "telephone-event/8000"]


async def test_sdp_is_matched_to_its_relay_leg_by_port_while_the_call_lasts() -> None:
    low, high = free_range(4)
    mgr = RelayManager(PortAllocator(low, high), bind_host="127.0.0.1")
    one, two = await mgr.create("one"), mgr.create_now("two")
    assert mgr.by_port(one.local_port("b")) == (one, "b") and mgr.by_port(two.local_port("a")) == (two, "a")
    port = one.local_port("a")
    mgr.destroy("one")
    assert mgr.by_port(port) is None and mgr.by_port(two.local_port("b")) == (two, "b")
    mgr.close()
