"""Parser and serializer, with RFC 4475-style messages written for these tests."""

from __future__ import annotations

import pytest

from centrex.sip.errors import SipParseError
from centrex.sip.message import (
    Request,
    Response,
    StreamFramer,
    bad_request_response,
    make_response,
    parse_message,
)
from centrex.sip.uri import AbsoluteUri, SipUri
from tests.sip.helpers import invite_bytes, parse_request, req

# Valid but unusual: compact forms, folding, odd whitespace, joined and repeated list headers,
# escapes, an unknown method, unknown headers, a body shorter than the datagram.
TORTURE_OK = req(
    """
NEWMETHOD.x-1! sip:vivekg;par=u%40example.net@chair-dnrc.example.com:5060;transport=udp SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\"\"       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
i-dont-exist: and so what?
cseq: 0009
  NEWMETHOD.x-1!
v  : SIP  /   2.0
 /UDP
    192.0.2.2;rport;branch=390skdjuw, SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKx
Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bKlast
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
m: "Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33, sip:second@example.com
k: 100rel, timer
l: 4

v=0
this part is beyond Content-Length
"""
)


def test_torture_valid_request() -> None:
    m = parse_request(TORTURE_OK)
    assert m.method == "NEWMETHOD.x-1!"
    assert isinstance(m.uri, SipUri) and m.uri.user == "vivekg;par=u%40example.net"
    assert m.to.tag == "1918181833n"
    assert m.from_.display_name == 'J Rosenberg \\"'
    assert m.from_.tag == "98asjd8"
    assert m.max_forwards == 68
    assert m.cseq.seq == 9 and m.cseq.method == "NEWMETHOD.x-1!"
    vias = m.vias
    assert [v.host for v in vias] == ["192.0.2.2", "[2001:db8::9]", "192.0.2.3"]
    assert vias[0].branch == "390skdjuw"
    assert m.headers.get("Subject") == ""
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    contacts = m.contacts
    assert len(contacts) == 2 and contacts[0].params == {
        "newparam": "newvalue",
        "secondparam": None,
        "q": "0.33",
    }
    assert m.headers.get_all("Supported") == ["100rel", "timer"]
    assert m.body == b"v=0\r"  # Content-Length is the truth; the rest of the datagram is dropped


def test_serialize_is_canonical_and_reparses_equal() -> None:
    m = parse_request(TORTURE_OK)
    wire = m.serialize()
    assert wire.startswith(b"NEWMETHOD.x-1! sip:vivekg;par=u%40example.net@chair-dnrc")
    assert b"\r\nTo: " in wire and b"\r\nContent-Length: 4\r\n\r\nv=0\r" in wire
    assert b"\r\nVia: SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKx\r\n" in wire
    again = parse_request(wire)
    assert again == m


def test_response_parse_and_empty_reason() -> None:
    data = req(
        """
SIP/2.0 200
Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds8
To: <sip:bob@example.com>;tag=a6c85cf
From: <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Content-Length: 0
"""
    )
    r = parse_message(data)
    assert isinstance(r, Response)
    assert r.status == 200 and r.reason == ""
    assert [str(a.uri) for a in r.header_addresses("Record-Route")] == [
        "sip:p1.example.com;lr",
        "sip:p2.example.com;lr",
    ]


def test_lf_only_line_endings_and_leading_crlf_are_tolerated() -> None:
    data = b"\r\n\r\n" + invite_bytes().replace(b"\r\n", b"\n")
    m = parse_request(data)
    assert m.method == "INVITE" and m.call_id == "call-1"


def test_urn_request_uri_for_911() -> None:
    data = invite_bytes().replace(b"INVITE sip:bob@biloxi.example.com", b"INVITE urn:service:sos")
    m = parse_request(data)
    assert m.uri == AbsoluteUri("urn", "service:sos")


def test_no_content_length_on_udp_takes_the_rest_but_zero_on_stream() -> None:
    data = invite_bytes().replace(b"Content-Length: 0\r\n", b"") + b"v=0\r\n"
    assert parse_request(data).body == b"v=0\r\n"
    m = parse_message(data, stream=True)
    assert m.body == b""


BAD = {
    "content-length-too-big": (invite_bytes().replace(b"Content-Length: 0", b"Content-Length: 9999"), 400),
    "cseq-method-mismatch": (invite_bytes().replace(b"CSeq: 1 INVITE", b"CSeq: 1 OPTIONS"), 400),
    "missing-call-id": (invite_bytes().replace(b"Call-ID: call-1\r\n", b""), 400),
    "two-from": (invite_bytes().replace(b"Call-ID", b"From: <sip:x@y>;tag=2\r\nCall-ID"), 400),
    "bad-max-forwards": (invite_bytes().replace(b"Max-Forwards: 70", b"Max-Forwards: 300"), 400),
    "bad-via": (invite_bytes().replace(b"SIP/2.0/UDP 192.0.2.10:5060", b"SIP/2.0/UDP 192.0.2.10:99999"), 400),
    "unterminated-quote": (invite_bytes().replace(b"From: Alice", b'From: "Alice'), 400),
    "negative-content-length": (invite_bytes().replace(b"Content-Length: 0", b"Content-Length: -5"), 400),
    "bad-request-uri": (
        invite_bytes().replace(b"sip:bob@biloxi.example.com SIP", b"sip:bob@bi loxi:8b0 SIP"),
        400,
    ),
    "version-7": (invite_bytes().replace(b" SIP/2.0\r\nVia", b" SIP/7.0\r\nVia"), 505),
    "big-cseq": (invite_bytes().replace(b"CSeq: 1 INVITE", b"CSeq: 36893488147419103232 INVITE"), 400),
    "bad-contact": (
        invite_bytes().replace(b"Contact: <sip:alice@192.0.2.10:5060>", b"Contact: <sip:a@b"),
        400,
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_invalid_requests_get_a_400_with_copied_headers(name: str) -> None:
    data, status = BAD[name]
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.reason
    response = bad_request_response(info.value)
    assert response is not None
    assert response.status == status
    assert (
        response.headers.get("Call-ID") == (None if name == "missing-call-id" else "call-1")
        or name == "missing-call-id"
    )
    assert response.headers.get_all("Via")[0].startswith("SIP/2.0/UDP 192.0.2.10")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02",
        b"hello world",
        b"SIP/2.0 999 Nope\r\n\r\n",
        b"INVITE\r\n\r\n",
        b"\xff\xfe INVITE sip:a@b SIP/2.0",
    ],
)
def test_garbage_has_no_answer(data: bytes) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert bad_request_response(info.value) is None


def test_bad_ack_is_never_answered() -> None:
    data = invite_bytes().replace(b"INVITE sip", b"ACK sip").replace(b"1 INVITE", b"1 ACK")
    data = data.replace(b"Content-Length: 0", b"Content-Length: 50")
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.partial is not None
    assert bad_request_response(info.value) is None


def test_make_response_copies_headers_and_adds_tag() -> None:
    m = parse_request(
        invite_bytes().replace(b"Contact:", b"Record-Route: <sip:p.example.com;lr>\r\nContact:")
    )
    r = make_response(m, 180, to_tag="t1")
    assert r.reason == "Ringing"
    assert r.headers.get_all("Via") == m.headers.get_all("Via")
    assert r.to.tag == "t1" and r.from_.tag == "a1"
    assert r.call_id == m.call_id and r.cseq == m.cseq
    assert r.headers.get_all("Record-Route") == ["<sip:p.example.com;lr>"]
    trying = make_response(m, 100, to_tag="t1")
    assert trying.to.tag is None and "Record-Route" not in trying.headers


def test_request_builder_round_trip() -> None:
    m = Request("OPTIONS", SipUri("example.com", "bob"))
    m.headers.add("Via", "SIP/2.0/UDP h;branch=z9hG4bK1")
    for name, value in [
        ("From", "<sip:a@b>;tag=1"),
        ("To", "<sip:bob@example.com>"),
        ("Call-ID", "c"),
        ("CSeq", "1 OPTIONS"),
    ]:
        m.headers.add(name, value)
    m.body = b"hi"
    parsed = parse_request(m.serialize())
    assert parsed.body == b"hi" and parsed.headers.get("Content-Length") == "2"


class TestStreamFramer:
    def test_byte_by_byte_with_keepalives(self) -> None:
        one = invite_bytes(body="v=0\r\n")
        stream = b"\r\n\r\n" + one + one + b"\r\n" + one
        framer = StreamFramer()
        out: list[bytes] = []
        for i in range(len(stream)):
            out += framer.feed(stream[i : i + 1])
        assert out == [StreamFramer.PING, one, one, one]
        assert framer.buffered == 0

    def test_body_split_across_chunks(self) -> None:
        one = invite_bytes(body="x" * 100)
        framer = StreamFramer()
        assert framer.feed(one[:50]) == []
        assert framer.feed(one[50:-10]) == []
        assert framer.feed(one[-10:] + one[:3]) == [one]
        assert framer.buffered == 3

    def test_bad_content_length_breaks_the_stream(self) -> None:
        framer = StreamFramer()
        with pytest.raises(SipParseError):
            framer.feed(b"INVITE sip:a@b SIP/2.0\r\nl: lots\r\n\r\n")
        assert framer.broken

    def test_endless_header_is_refused(self) -> None:
        framer = StreamFramer(max_header=1000)
        with pytest.raises(SipParseError):
            framer.feed(b"X" * 2000)
