"""Message builders shared by the SIP tests."""

from __future__ import annotations

from centrex.sip.message import Request, parse_message


def req(text: str) -> bytes:
    """Test messages are written with \\n line ends; SIP wants CRLF."""
    return text.strip("\n").replace("\n", "\r\n").encode() + (b"" if "\n\n" in text else b"\r\n\r\n")


def invite_bytes(
    branch: str = "z9hG4bKinv1", call_id: str = "call-1", cseq: int = 1, body: str = ""
) -> bytes:
    head = (
        f"INVITE sip:bob@biloxi.example.com SIP/2.0\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\n"
        f"Max-Forwards: 70\n"
        f"From: Alice <sip:alice@atlanta.example.com>;tag=a1\n"
        f"To: Bob <sip:bob@biloxi.example.com>\n"
        f"Call-ID: {call_id}\n"
        f"CSeq: {cseq} INVITE\n"
        f"Contact: <sip:alice@192.0.2.10:5060>\n"
        f"Content-Length: {len(body.encode())}\n\n"
    )
    return head.replace("\n", "\r\n").encode() + body.encode()


def options_bytes(branch: str = "z9hG4bKopt1", call_id: str = "opt-1") -> bytes:
    return req(
        f"""
OPTIONS sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}
Max-Forwards: 70
From: <sip:alice@atlanta.example.com>;tag=o1
To: <sip:bob@biloxi.example.com>
Call-ID: {call_id}
CSeq: 7 OPTIONS
Content-Length: 0
"""
    )


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def torture_samples() -> list[bytes]:
    from tests.sip.test_sip_message import TORTURE_OK

    return [TORTURE_OK, invite_bytes(body="v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"), options_bytes()]
