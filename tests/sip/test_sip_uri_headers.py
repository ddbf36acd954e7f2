from __future__ import annotations

import pytest

from centrex.sip.errors import SipParseError
from centrex.sip.headers import (
    Headers,
    canonical_name,
    parse_auth_params,
    parse_cseq,
    parse_name_addr,
    parse_via,
    split_list,
    unquote,
)
from centrex.sip.uri import AbsoluteUri, SipUri, TelUri, parse_uri


def test_full_sip_uri_fields_and_round_trip() -> None:
    text = (
        "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1"
        "?subject=hi&priority=urgent"
    )
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips",
        "alice",
        "secret",
        "[2001:db8::10]",
        5061,
    )
    assert uri.params == {"transport": "tcp", "lr": None, "maddr": "239.255.255.1"}
    assert uri.headers == {"subject": "hi", "priority": "urgent"}
    assert uri.secure and uri.lr and uri.transport == "TCP"
    assert str(uri) == text


def test_user_part_may_hold_semicolons_and_escapes() -> None:
    uri = parse_uri("sip:user;par=u%40example.net@example.com")
    assert isinstance(uri, SipUri)
    assert uri.user == "user;par=u%40example.net"
    assert uri.host == "example.com"
    assert uri.params == {}


def test_param_names_are_case_insensitive() -> None:
    uri = parse_uri("SIP:bob@Example.COM;Transport=UDP")
    assert isinstance(uri, SipUri)
    assert uri.scheme == "sip" and uri.params == {"transport": "UDP"}


def test_tel_and_other_schemes() -> None:
    tel = parse_uri("tel:+1-201-555-0123;phone-context=example.com")
    assert isinstance(tel, TelUri) and tel.is_global
    assert tel.params == {"phone-context": "example.com"}
    assert str(tel) == "tel:+1-201-555-0123;phone-context=example.com"
    sos = parse_uri("urn:service:sos")
    assert sos == AbsoluteUri("urn", "service:sos")


@pytest.mark.parametrize(
    "bad",
    [
        "sip:",
        "sip:bob@",
        "sip:bob@host:99999",
        "sip:bob@host:8b0",
        "sip:@host",
        "sip:bob@[::1",
        "sip:bob@ho st",
        "nocolon",
        "tel:xyz",
        "sip:bob@host;=x",
        "sip:bob@host?noequals",
    ],
)
def test_bad_uris_raise_parse_error(bad: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(bad)


def test_canonical_and_compact_names() -> None:
    assert canonical_name("v") == "Via"
    assert canonical_name("I") == "Call-ID"
    assert canonical_name("cseq") == "CSeq"
    assert canonical_name("www-authenticate") == "WWW-Authenticate"
    assert canonical_name("x-custom-thing") == "X-Custom-Thing"
    assert canonical_name("o") == "Event" and canonical_name("x") == "Session-Expires"


def test_via_parts_and_lws() -> None:
    via = parse_via("SIP / 2.0 / udp  192.0.2.1:5070 ; branch=z9hG4bK77 ;rport; received=198.51.100.7")
    assert via.transport == "UDP" and via.host == "192.0.2.1" and via.port == 5070
    assert via.branch == "z9hG4bK77" and via.received == "198.51.100.7"
    assert "rport" in via.params and via.rport is None
    assert via.sent_by == ("192.0.2.1", 5070)
    assert parse_via("SIP/2.0/TLS example.com;branch=z9hG4bK1").sent_by == ("example.com", 5061)
    assert parse_via(str(via)) == via


@pytest.mark.parametrize(
    "bad",
    ["SIP/2.0 host", "SIP/3.0/UDP host", "SIP/2.0/UDP", "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP h;rport=x"],
)
def test_bad_via(bad: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(bad)


def test_name_addr_forms() -> None:
    a = parse_name_addr('"Alice \\"Al\\" Smith" <sip:alice@example.com;transport=udp>;tag=88sja8x')
    assert a.display_name == 'Alice "Al" Smith'
    assert isinstance(a.uri, SipUri) and a.uri.params == {"transport": "udp"}
    assert a.tag == "88sja8x"
    assert parse_name_addr(str(a)) == a
    # addr-spec form: the ;tag belongs to the header, not to the URI (§20.10).
    b = parse_name_addr("sip:bob@example.com;tag=xyz")
    assert b.tag == "xyz" and isinstance(b.uri, SipUri) and b.uri.params == {}
    c = parse_name_addr("Bob   Smith <sip:bob@example.com>")
    assert c.display_name == "Bob Smith"
    d = parse_name_addr('<sip:x@y>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"')
    assert d.params["+sip.instance"] == '"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"'


@pytest.mark.parametrize(
    "bad", ['"unterminated <sip:a@b>', "<sip:a@b", "Bob <sip:a@b> junk", '"x" sip:a@b', ""]
)
def test_bad_name_addr(bad: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(bad)


def test_cseq() -> None:
    assert parse_cseq("  4711   INVITE ").seq == 4711
    for bad in ("INVITE", "1", "-1 INVITE", "4294967296 INVITE", "1 IN@VITE"):
        with pytest.raises(SipParseError):
            parse_cseq(bad)


def test_split_list_respects_quotes_and_angles() -> None:
    value = '"Smith, John" <sip:j@x>, <sip:a@b;x=1,2>, sip:c@d'
    assert split_list(value) == ['"Smith, John" <sip:j@x>', "<sip:a@b;x=1,2>", "sip:c@d"]


def test_auth_params_keep_commas_inside_quotes() -> None:
    scheme, params = parse_auth_params(
        'Digest realm="a, b", nonce="n\\"1", qop="auth,auth-int", algorithm=MD5'
    )
    assert scheme == "Digest"
    assert params == {"realm": "a, b", "nonce": 'n"1', "qop": "auth,auth-int", "algorithm": "MD5"}
    assert unquote('"a\\\\b"') == "a\\b"


def test_headers_container() -> None:
    h = Headers([("v", "SIP/2.0/UDP a"), ("call-id", "x")])
    h.add("VIA", "SIP/2.0/UDP b")
    assert h.get_all("via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b"]
    assert "CALL-ID" in h and h.get("i") == "x"
    h.prepend("Via", "SIP/2.0/UDP top")
    assert h.get("Via") == "SIP/2.0/UDP top"
    h.set("Via", "only")
    assert h.get_all("Via") == ["only"]
    assert next(iter(h)) == ("Via", "only")
    assert h.remove("Call-ID") == 1 and "Call-ID" not in h
