"""SIP over WebSocket (RFC 7118) on the switch, from a real WebSocket client (``websockets``):
digest REGISTER, OPTIONS, the handshake's ``sip`` subprotocol, and calls between a WS phone and a
SIPp phone with the SDP made WebRTC toward the WS side and plain RTP toward SIPp by rtpengine."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from centrex.ops.demo import DEMO_DOMAIN
from centrex.sip.message import Request
from centrex.transport.tls import client_context
from tests.interop.conftest import Server, free_udp_port

from .conftest import ws_url
from .ws_phone import WsPhone

SCENARIOS = Path(__file__).parent / "scenarios"

# What Chrome offers, cut to its audio essentials: ICE, DTLS-SRTP, rtcp-mux, Opus first.
BROWSER_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
    "m=audio 50000 UDP/TLS/RTP/SAVPF 111 9 0 8 110 126\r\nc=IN IP4 127.0.0.1\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0\r\n"
    "a=ice-ufrag:Fx3b\r\na=ice-pwd:KwmzKJb8WJu7ih3GUCm0D8Zr\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 66:72:B2:20:46:65:8E:FD:FE:76:75:AF:FE:50:AB:66:98:32:8E:88:CF:74:D8:1D:"
    "08:AB:0A:25:42:63:A2:C6\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:4219954296 cname:+KmcgiO5scoM3v1I\r\n"
)


async def test_a_ws_client_registers_with_digest_and_is_reached_over_its_connection(
    ws_server: Server,
) -> None:
    phone = await WsPhone.connect(ws_url(ws_server), "1001", DEMO_DOMAIN, ws_server.passwords["1001"])
    try:
        ok = await phone.register()
        assert ok.status == 200, ok
        assert "transport=ws" in (ok.headers.get("Contact") or "")
        bindings = [b for b in ws_server.service.location.all() if b.transport == "WS"]
        assert len(bindings) == 1 and bindings[0].source[0] == "127.0.0.1"
        wrong = await WsPhone.connect(ws_url(ws_server), "1002", DEMO_DOMAIN, "not-the-password")
        try:
            refused = await wrong.register()
            assert refused.status in (401, 403)
        finally:
            await wrong.close()
    finally:
        await phone.close()


async def test_a_closed_connection_takes_its_registration_with_it(ws_server: Server) -> None:
    phone = await WsPhone.connect(ws_url(ws_server), "1003", DEMO_DOMAIN, ws_server.passwords["1003"])
    assert (await phone.register()).status == 200
    assert [b.username for b in ws_server.service.location.all() if b.transport == "WS"] == ["1003"]
    await phone.close()
    for _ in range(50):
        if not any(b.transport == "WS" for b in ws_server.service.location.all()):
            break
        await asyncio.sleep(0.1)
    assert not any(b.transport == "WS" for b in ws_server.service.location.all())


async def test_a_browser_registers_over_secure_websocket_with_the_switchs_certificate(
    wss_server: Server,
) -> None:
    service = wss_server.service
    assert "WS" not in service.transports and service.tls_certificate is None
    port = service.transports["WSS"].local_address[1]
    trust = client_context(Path(service.config.tls_dir) / "sip-cert.pem")
    phone = await WsPhone.connect(
        f"wss://localhost:{port}", "1001", DEMO_DOMAIN, wss_server.passwords["1001"], ssl=trust
    )
    try:
        ok = await phone.register()
        assert ok.status == 200 and ok.headers.get("Via", "").startswith("SIP/2.0/WS ")
        assert [b.transport for b in service.location.all()] == ["WSS"]
    finally:
        await phone.close()
    with pytest.raises(ssl.SSLCertVerificationError):  # a browser that does not trust it yet
        await WsPhone.connect(f"wss://localhost:{port}", "1001", DEMO_DOMAIN, "x", ssl=client_context())


async def test_options_over_ws_is_answered_on_the_same_connection(ws_server: Server) -> None:
    phone = await WsPhone.connect(ws_url(ws_server), "1001", DEMO_DOMAIN, ws_server.passwords["1001"])
    try:
        await phone.send(phone.request("OPTIONS", f"sip:{DEMO_DOMAIN}"))
        resp = await phone.final()
        assert resp.status == 200
        assert resp.headers.get("Via", "").startswith("SIP/2.0/WS ")
    finally:
        await phone.close()


async def test_a_handshake_without_the_sip_subprotocol_is_refused(ws_server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(ws_server))
    assert refused.value.response.status_code == 400
    async with connect(ws_url(ws_server), subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "sip"


def sdp_of(trace: Path, first_line: str) -> str:
    """The body of the first message in a SIPp -trace_msg file that starts with ``first_line``."""
    text = trace.read_text(errors="replace")
    for chunk in text.split("----------------------------------------------- ")[1:]:
        lines = chunk.split("\n", 2)
        if len(lines) > 2 and lines[2].lstrip().startswith(first_line):
            return lines[2].partition("\n\n")[2]
    raise AssertionError(f"no {first_line!r} in {trace}: {text[-3000:]}")


async def test_a_call_from_a_ws_phone_reaches_a_sipp_phone_with_plain_rtp_and_comes_back_webrtc(
    ws_server: Server, tmp_path: Path
) -> None:
    b = free_udp_port()
    await ws_server.register("1002", b)
    trace = tmp_path / "callee.msg"
    callee = asyncio.create_task(
        ws_server.sipp(
            "uas_answer.xml",
            "1002",
            port=b,
            client=False,
            timeout_s=15,
            extra=["-trace_msg", "-message_file", str(trace)],
        )
    )
    await asyncio.sleep(0.5)
    phone = await WsPhone.connect(ws_url(ws_server), "1001", DEMO_DOMAIN, ws_server.passwords["1001"])
    try:
        assert (await phone.register()).status == 200
        uri = f"sip:1002@{DEMO_DOMAIN}"
        ok, call_id = await phone.with_auth("INVITE", uri, body=BROWSER_OFFER, to=f"<{uri}>")
        assert ok.status == 200, ok
        answer = ok.body.decode()
        # Toward the browser: rtpengine's ICE candidates and DTLS fingerprint, rtcp-mux, AVPF.
        assert "m=audio" in answer and "UDP/TLS/RTP/SAVPF" in answer
        for line in ("a=ice-ufrag:", "a=fingerprint:", "a=rtcp-mux", "a=candidate:", "a=setup:passive"):
            assert line in answer, answer
        assert "opus" not in answer.lower()  # the far side answered G.711 only
        await phone.send(phone.ack(ok, uri))
        await asyncio.sleep(0.3)
        await phone.send(
            phone.request("BYE", uri, call_id=call_id, to=ok.headers.get("To"), from_tag=(ok.from_.tag or ""))
        )
        bye_ok = await phone.final()
        assert bye_ok.status == 200
    finally:
        await phone.close()
    result = await callee
    assert result.returncode == 0, result.output[-2000:]
    offer = sdp_of(trace, "INVITE ")
    # Toward the SIP phone: plain RTP/AVP, G.711 and telephone-event only, no ICE nor DTLS.
    assert "RTP/AVP" in offer and "SAVP" not in offer, offer
    assert "ice-ufrag" not in offer and "fingerprint" not in offer and "opus" not in offer.lower()
    assert len(ws_server.service.webrtc or []) == 0  # the ng call was deleted at the BYE


async def test_a_sipp_phone_calls_a_ws_phone_which_gets_a_webrtc_offer(
    ws_server: Server, tmp_path: Path
) -> None:
    phone = await WsPhone.connect(ws_url(ws_server), "1002", DEMO_DOMAIN, ws_server.passwords["1002"])
    try:
        assert (await phone.register()).status == 200
        a = free_udp_port()
        await ws_server.register("1001", a)
        trace = tmp_path / "caller.msg"
        caller = asyncio.create_task(
            ws_server.sipp(
                "uac_call.xml",
                "1001",
                port=a,
                callee="1002",
                timeout_s=15,
                extra=["-trace_msg", "-message_file", str(trace)],
            )
        )
        invite = await phone.next(15)
        assert isinstance(invite, Request) and invite.method == "INVITE"
        offer = invite.body.decode()
        assert "UDP/TLS/RTP/SAVPF" in offer and "a=ice-ufrag:" in offer and "a=fingerprint:" in offer, offer
        assert "a=rtcp-mux" in offer
        assert "transport=ws" in str(invite.uri) or invite.uri.host.endswith(".invalid")
        answer = BROWSER_OFFER.replace("a=setup:actpass", "a=setup:active").replace(
            "111 9 0 8 110 126", "0 126"
        )
        await phone.send(answer_to(invite, 200, "OK", answer, phone.contact))
        result = await caller
        assert result.returncode == 0, result.output[-2000:]
    finally:
        await phone.close()
    sipp_answer = sdp_of(trace, "SIP/2.0 200")
    assert "RTP/AVP" in sipp_answer and "SAVP" not in sipp_answer and "ice-ufrag" not in sipp_answer


def answer_to(req: Request, status: int, reason: str, body: str, contact: str) -> str:
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {v}" for v in req.headers.get_all("Via")]
    lines += [
        f"From: {req.headers.get('From')}",
        f"To: {req.headers.get('To')};tag=wsphone",
        f"Call-ID: {req.call_id}",
        f"CSeq: {req.cseq.seq} {req.cseq.method}",
        f"Contact: {contact}",
        "Content-Type: application/sdp",
        f"Content-Length: {len(body.encode())}",
    ]
    return "\r\n".join(lines) + "\r\n\r\n" + body
