"""The pure rules at the WebSocket edge: the browser's offer as rtpengine reads it (G.711 only, the
browser as DTLS client) and the digest challenges' order for browsers' SIP stacks."""

from __future__ import annotations

from centrex.calls.webrtc_gateway import WebRtcGateway, browser_offer, g711_only
from centrex.sip.message import Request, Response, parse_message
from centrex.transport.websocket import md5_last
from tests.rtpengine.conftest import Rtpengine

from .test_ws_transport import BROWSER_OFFER


def test_the_browser_offer_keeps_g711_and_telephone_event_8000_with_its_ice_and_dtls_lines() -> None:
    out = g711_only(BROWSER_OFFER)
    assert "m=audio 50000 UDP/TLS/RTP/SAVPF 0 8 126\r\n" in out
    for gone in ("opus", "G722", "telephone-event/48000", "a=rtcp-fb:111", "a=fmtp:111"):
        assert gone not in out
    for kept in ("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:126 telephone-event/8000"):
        assert kept in out
    for kept in ("a=ice-ufrag:Fx3b", "a=fingerprint:sha-256", "a=candidate:1 1 udp", "a=mid:0", "a=ssrc:"):
        assert kept in out


def test_rtpengine_sees_the_browser_as_the_dtls_client() -> None:
    assert "a=setup:actpass" in BROWSER_OFFER
    out = browser_offer(BROWSER_OFFER)
    assert "a=setup:active" in out and "a=setup:actpass" not in out


def challenge(*algorithms: str) -> Response:
    lines = ["SIP/2.0 401 Unauthorized", "Via: SIP/2.0/WS x.invalid;branch=z9hG4bK1", "From: <sip:a@b>;tag=1"]
    lines += ["To: <sip:a@b>;tag=2", "Call-ID: c", "CSeq: 1 REGISTER"]
    lines += [f'WWW-Authenticate: Digest realm="b", nonce="n", algorithm={a}, qop="auth"' for a in algorithms]
    message = parse_message(("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode(), stream=True)
    assert isinstance(message, Response)
    return message


def test_over_websocket_the_md5_challenge_goes_last_whatever_the_configured_order() -> None:
    for order in (("MD5", "SHA-256"), ("SHA-256", "MD5")):
        response = challenge(*order)
        md5_last(response)
        values = response.headers.get_all("WWW-Authenticate")
        assert ["SHA-256" in values[0], "MD5" in values[1]] == [True, True]
    single = challenge("SHA-256")
    md5_last(single)
    assert len(single.headers.get_all("WWW-Authenticate")) == 1


def sip(text: str, body: str = "") -> Request | Response:
    head = text.strip().replace("\n", "\r\n")
    extra = "\r\nContent-Type: application/sdp" if body else ""
    data = f"{head}{extra}\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}".encode()
    return parse_message(data, stream=True)


HEADERS = """Via: SIP/2.0/WS x.invalid;branch=z9hG4bK2
From: <sip:1001@d>;tag=a
To: <sip:1002@d>;tag=b
Call-ID: late-offer-1"""

PLAIN = (
    "v=0\r\no=desk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def test_a_late_offer_in_the_browsers_200_is_an_offer_and_the_ack_its_answer(rtpengine: Rtpengine) -> None:
    """The switch INVITEs the browser without SDP (a desk phone's late offer): the browser's 200
    carries the offer, made plain RTP for the switch; the ACK's SDP answers it, made WebRTC."""
    gateway = WebRtcGateway(rtpengine.client())
    try:
        invite = sip(f"INVITE sip:x@y.invalid;transport=ws SIP/2.0\n{HEADERS}\nCSeq: 1 INVITE")
        gateway.to_browser(invite)
        assert invite.body == b""
        ok = sip(f"SIP/2.0 200 OK\n{HEADERS}\nCSeq: 1 INVITE", BROWSER_OFFER)
        gateway.from_browser(ok)
        offer = ok.body.decode()
        assert "RTP/AVP" in offer and "SAVPF" not in offer and "ice-ufrag" not in offer, offer
        ack = sip(f"ACK sip:x@y.invalid;transport=ws SIP/2.0\n{HEADERS}\nCSeq: 1 ACK", PLAIN)
        gateway.to_browser(ack)
        answer = ack.body.decode()
        assert "UDP/TLS/RTP/SAVPF" in answer and "a=fingerprint:" in answer and "a=ice-ufrag:" in answer
        assert gateway.failures == 0 and len(gateway) == 1
        bye = sip(f"BYE sip:x@y.invalid;transport=ws SIP/2.0\n{HEADERS}\nCSeq: 2 BYE")
        gateway.to_browser(bye)
        assert len(gateway) == 0
    finally:
        gateway.client.close()
