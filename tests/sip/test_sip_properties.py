"""Property-based round trip and fuzzing: nothing but SipParseError may escape the parser, and
nothing at all may escape SipEndpoint.receive_datagram / receive_stream_data."""

from __future__ import annotations

import contextlib
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.errors import SipParseError
from centrex.sip.headers import NameAddr, Via
from centrex.sip.message import Headers, Request, Response, parse_message
from centrex.sip.sdp import parse_sdp
from centrex.sip.uri import SipUri, parse_uri
from tests.sip.helpers import torture_samples

TORTURE_SAMPLES = torture_samples()

token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
    min_size=1,
    max_size=12,
)
lower_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10).filter(
    lambda s: s[0] != "-"
)
hostname = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8), min_size=1, max_size=3
).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
host = st.one_of(hostname, ipv4, st.just("[2001:db8::1]"))
port = st.one_of(st.none(), st.integers(1, 65535))
user = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()&=+$,", min_size=1, max_size=10)
uri_params = st.dictionaries(lower_token, st.one_of(st.none(), lower_token), max_size=3)
sip_uri = st.builds(
    SipUri,
    host=host,
    user=st.one_of(st.none(), user),
    port=port,
    params=uri_params,
    scheme=st.sampled_from(["sip", "sips"]),
)
display = st.one_of(
    st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=15)
)
hparams = st.dictionaries(lower_token, st.one_of(st.none(), lower_token), max_size=3)
name_addr = st.builds(NameAddr, uri=sip_uri, display_name=display, params=hparams)
via = st.builds(
    Via,
    transport=st.sampled_from(["UDP", "TCP", "TLS"]),
    host=host,
    port=port,
    params=st.dictionaries(lower_token, st.one_of(st.none(), lower_token), max_size=2).map(
        lambda p: {
            "branch": "z9hG4bK" + "x" * 5,
            **{k: v for k, v in p.items() if k not in ("branch", "rport")},
        }
    ),
)
free_value = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x7E, blacklist_characters=","),
    min_size=1,
    max_size=20,
)
extra_headers = st.lists(
    st.tuples(st.sampled_from(["Subject", "User-Agent", "X-Tenant", "Priority"]), free_value), max_size=3
)
body = st.binary(max_size=200)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(["INVITE", "BYE", "OPTIONS", "REGISTER", "X-CUSTOM"]) | token)
    h = Headers()
    for v in draw(st.lists(via, min_size=1, max_size=3)):
        h.add("Via", str(v))
    h.add("Max-Forwards", str(draw(st.integers(0, 255))))
    h.add("From", str(draw(name_addr)))
    h.add("To", str(draw(name_addr)))
    h.add("Call-ID", draw(token))
    h.add("CSeq", f"{draw(st.integers(0, 2**32 - 1))} {method}")
    for c in draw(st.lists(name_addr, max_size=2)):
        h.add("Contact", str(c))
    for name, value in draw(extra_headers):
        h.add(name, value)
    b = draw(body)
    h.add("Content-Length", str(len(b)))
    return Request(method, draw(sip_uri), h, b)


@st.composite
def responses(draw: st.DrawFn) -> Response:
    request = draw(requests())
    reason = draw(st.text(alphabet="abcdefghij XYZ", max_size=20)).strip()
    return Response(draw(st.integers(100, 699)), reason, request.headers.copy(), request.body)


@settings(max_examples=300, deadline=None)
@given(requests())
def test_request_round_trip(message: Request) -> None:
    assert parse_message(message.serialize()) == message
    assert parse_message(message.serialize(), stream=True) == message


@settings(max_examples=150, deadline=None)
@given(responses())
def test_response_round_trip(message: Response) -> None:
    assert parse_message(message.serialize()) == message


@settings(max_examples=200, deadline=None)
@given(sip_uri)
def test_uri_round_trip(uri: SipUri) -> None:
    assert parse_uri(str(uri)) == uri


def _parse_only_raises_parse_error(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        parse_message(data)


def _endpoint_swallows(data: bytes) -> None:
    ep = SipEndpoint(("127.0.0.1", 5060))
    ep.receive_datagram(data, ("192.0.2.9", 5060), 0.0)
    ep.handle_timer(100.0)
    ep.datagrams_to_send()
    while ep.next_event():
        pass
    stream = SipEndpoint(("127.0.0.1", 5060), "TCP")
    stream.receive_stream_data(data, ("192.0.2.9", 40000), 0.0)
    stream.receive_stream_data(data, ("192.0.2.9", 40000), 0.0)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_never_escape(data: bytes) -> None:
    _parse_only_raises_parse_error(data)
    _endpoint_swallows(data)
    with contextlib.suppress(SipParseError):
        parse_sdp(data)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:
            del out[pos : pos + rng.randint(1, 20)]
        elif op == 1:
            out[pos:pos] = rng.choice(
                [b"\r\n", b",", b";", b"<", b'"', b":", b"\\", b" ", b"\x00", b"\xff", b"=", b"%"]
            )
        elif op == 2 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 3:
            chunk_at = rng.randrange(len(out) + 1)
            out[pos:pos] = out[chunk_at : chunk_at + rng.randint(1, 40)]
        else:
            out[pos:pos] = rng.choice(
                [b"Content-Length: 99999\r\n", b"Via: \r\n", b"CSeq: x\r\n", b"l: -1\r\n"]
            )
    return bytes(out)


def test_mutated_valid_messages_never_escape() -> None:
    rng = random.Random(4475)
    for _ in range(4000):
        data = _mutate(rng, rng.choice(TORTURE_SAMPLES))
        _parse_only_raises_parse_error(data)
        _endpoint_swallows(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=10))
def test_stream_chunks_never_escape(chunks: list[bytes]) -> None:
    ep = SipEndpoint(("127.0.0.1", 5060), "TCP")
    for chunk in chunks:
        ep.receive_stream_data(chunk, ("192.0.2.9", 40000), 0.0)
    while ep.next_event():
        pass
