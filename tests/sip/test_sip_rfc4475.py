"""Every RFC 4475 §3 torture message through a conformant SipEndpoint (sans-I/O): the answer the
RFC describes, or the request handed on to the switch, or the response dropped; never a crash."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centrex.sip.conformance import SWITCH_CONFORMANCE, Conformance
from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import ParseFailed, RequestReceived, RequestRefused
from centrex.sip.headers import split_list
from centrex.sip.message import Request, Response, make_response, parse_message
from centrex.sip.uri import AbsoluteUri, SipUri
from tests.sip.rfc4475_cases import CASES, DROP, TU, message

SOURCE = ("198.51.100.7", 5060)


def endpoint() -> SipEndpoint:
    local = ("203.0.113.1", 5060)
    return SipEndpoint(local, "UDP", conformance=SWITCH_CONFORMANCE.with_local([local]))


@dataclass
class Sent:
    """A response as sent. Read by hand, not parsed: a 400 copies the request's malformed
    headers as they came (§8.2.6.2), so it need not parse itself."""

    data: bytes

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1])

    @property
    def reason(self) -> str:
        return self.data.split(b"\r\n", 1)[0].split(b" ", 2)[2].decode()

    def header(self, name: str) -> list[str]:
        found = re.findall(rb"(?im)^" + name.encode() + rb"[ \t]*:[ \t]*(.*?)\r$", self.data)
        return [v.decode() for v in found]


def statuses(ep: SipEndpoint) -> list[int]:
    return [Sent(data).status for data, _ in ep.datagrams_to_send()]


def outcome(name: str) -> tuple[str | int, list[Sent], list[object]]:
    ep = endpoint()
    ep.receive_datagram(message(name), SOURCE, 0.0)
    responses = [Sent(data) for data, _ in ep.datagrams_to_send()]
    assert all(r.data.startswith(b"SIP/2.0 ") for r in responses)
    events: list[object] = []
    while (event := ep.next_event()) is not None:
        events.append(event)
    finals = [r for r in responses if r.status >= 200]
    if finals:
        assert len(finals) == 1, [r.status for r in finals]
        return finals[0].status, responses, events
    if any(isinstance(e, RequestReceived) for e in events):
        return TU, responses, events
    return DROP, responses, events


def test_the_suite_has_all_49_messages() -> None:
    assert len(CASES) == 49
    assert len({section for section, _ in CASES.values()}) == 49


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_message_gets_the_answer_the_rfc_describes(name: str) -> None:
    section, expected = CASES[name]
    got, responses, events = outcome(name)
    assert got == expected, f"RFC 4475 §{section} {name}: got {got}, events {events}"
    if isinstance(expected, int):
        refused = [e for e in events if isinstance(e, RequestRefused | ParseFailed)]
        assert refused, "a refused request is never handed to the switch"
        assert not any(isinstance(e, RequestReceived) for e in events)
        final = responses[-1]
        assert final.reason, "every refusal names its reason"
        assert final.header("Call-ID") or name == "insuf"  # insuf has no Call-ID to copy


def test_unknown_methods_get_501_with_allow() -> None:
    for name in ("intmeth", "esc02", "mismatch02"):
        _, responses, _ = outcome(name)
        allow = split_list(responses[-1].header("Allow")[0])
        assert "INVITE" in allow and "REGISTER" in allow, name


def test_bext01_lists_both_unknown_require_tags_and_ignores_proxy_require() -> None:
    _, responses, _ = outcome("bext01")
    assert responses[-1].header("Unsupported") == ["nothingSupportsThis, nothingSupportsThisEither"]


def test_invut_answers_with_what_it_accepts() -> None:
    _, responses, _ = outcome("invut")
    assert "application/sdp" in responses[-1].header("Accept")[0]


def test_invite_with_a_body_gets_100_trying_before_its_refusal() -> None:
    _, responses, _ = outcome("sdp01")
    assert [r.status for r in responses] == [100, 406]


def test_refusals_are_absorbed_by_the_transaction_on_retransmission() -> None:
    ep = endpoint()
    for _ in range(3):
        ep.receive_datagram(message("bext01"), SOURCE, 0.0)
    assert statuses(ep) == [420, 420, 420]  # the same response again, no new transaction per copy
    assert ep.transaction_count == 1


# -- the valid messages parse to what the RFC says they contain ------------------------------


def parsed(name: str) -> Request:
    m = parse_message(message(name))
    assert isinstance(m, Request)
    return m


def test_wsinv_folding_compact_forms_and_escapes() -> None:
    m = parsed("wsinv")
    assert m.to.tag == "1918181833n"
    assert m.from_.display_name == 'J Rosenberg \\"' and m.from_.tag == "98asjd8"
    assert m.max_forwards == 68 and m.cseq.seq == 9 and m.cseq.method == "INVITE"
    assert [(v.transport, v.host) for v in m.vias] == [
        ("UDP", "192.0.2.2"),
        ("TCP", "spindle.example.com"),
        ("UDP", "192.168.255.111"),
    ]
    assert m.headers.get("Subject") == ""
    contact = m.contacts[0]
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert len(m.body) == 150


def test_intmeth_unusual_characters() -> None:
    m = parsed("intmeth")
    assert m.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(m.uri, SipUri) and m.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert m.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert m.from_.tag == "_token~1'+`*%!-."
    assert m.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"


def test_escapes_are_kept_as_received() -> None:
    esc01 = parsed("esc01")
    assert isinstance(esc01.uri, SipUri) and esc01.uri.user == "sips%3Auser%40example.com"
    contact = esc01.contacts[0].uri
    assert isinstance(contact, SipUri) and contact.params == {"%6c%72": None, "n%61me": "v%61lue%25%34%31"}
    escnull = parsed("escnull")
    assert [str(c.uri) for c in escnull.contacts] == [
        "sip:%00@host5.example.com",
        "sip:%00%00@host5.example.com",
    ]
    esc02 = parsed("esc02")
    assert esc02.method == "RE%47IST%45R"
    assert len(esc02.contacts) == 2  # C%6Fntact is another header, not Contact


def test_long_values_and_many_vias() -> None:
    m = parsed("longreq")
    assert len(m.vias) == 34 and m.vias[0].host == "sip33.example.com"
    assert m.to.display_name is not None and m.to.display_name.endswith(" proportion")
    assert m.from_.tag is not None and len(m.from_.tag) == 155


def test_dblreq_keeps_only_the_register() -> None:
    m = parsed("dblreq")
    assert m.method == "REGISTER" and m.body == b""


def test_semiuri_transports_mpart01_lwsdisp() -> None:
    semi = parsed("semiuri")
    assert isinstance(semi.uri, SipUri) and semi.uri.user == "user;par=u%40example.net"
    assert len(semi.headers.get_all("Accept")) == 6
    assert [v.transport for v in parsed("transports").vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    mpart = parsed("mpart01")
    assert len(mpart.body) == 553 and b"\x00" in mpart.body
    assert mpart.body.endswith(b"--7a9cbec02ceef655--\r\n")
    assert parsed("lwsdisp").from_.display_name == "caller"


def test_responses_with_odd_reason_phrases_parse() -> None:
    unreason = parse_message(message("unreason"))
    assert isinstance(unreason, Response) and unreason.status == 200
    assert unreason.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    noreason = parse_message(message("noreason"))
    assert isinstance(noreason, Response) and (noreason.status, noreason.reason) == (100, "")


def test_inv2543_is_accepted_without_max_forwards_or_branch() -> None:
    m = parsed("inv2543")
    assert m.max_forwards is None and m.top_via.branch is None
    # addr-spec form: ;user=phone is a header parameter of To here (§20.10).
    assert m.to.params == {"user": "phone"} and str(m.to.uri) == "sip:+16505552222@ss1.example.net"


def test_unknown_schemes_parse_as_opaque_uris() -> None:
    assert isinstance(parsed("unkscm").uri, AbsoluteUri)
    m = parsed("unksm2")
    assert str(m.to.uri) == "isbn:2983792873" and str(m.contacts[0].uri) == "name:John_Smith"


# -- the validator on its own ------------------------------------------------------------------


def test_a_request_that_carries_our_own_via_has_looped() -> None:
    local = ("203.0.113.1", 5060)
    ep = SipEndpoint(local, "UDP", conformance=Conformance().with_local([local]))
    looped = message("lwsdisp").replace(
        b"Via: SIP/2.0/UDP funky",
        b"Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKours\r\nVia: SIP/2.0/UDP funky",
    )
    ep.receive_datagram(looped, SOURCE, 0.0)
    assert statuses(ep) == [482]


def test_a_merged_request_gets_482() -> None:
    ep = endpoint()
    first = message("lwsdisp")
    ep.receive_datagram(first, SOURCE, 0.0)
    assert isinstance(ep.next_event(), RequestReceived)
    ep.datagrams_to_send()
    # The same request (From tag, Call-ID, CSeq) by another path: another branch.
    ep.receive_datagram(first.replace(b"z9hG4bKkdjuw", b"z9hG4bKother"), ("198.51.100.8", 5060), 0.0)
    assert statuses(ep) == [482]


def test_an_option_tag_the_switch_supports_passes() -> None:
    ep = SipEndpoint(("203.0.113.1", 5060), "UDP", conformance=Conformance(supported=frozenset({"timer"})))
    data = message("lwsdisp").replace(b"l: 0", b"Require: timer\r\nl: 0")
    ep.receive_datagram(data, SOURCE, 0.0)
    assert isinstance(ep.next_event(), RequestReceived)


def test_invite_with_max_forwards_zero_is_483_but_options_is_answered() -> None:
    ep = endpoint()
    invite = message("esc01").replace(b"Max-Forwards: 87", b"Max-Forwards: 0")
    ep.receive_datagram(invite, SOURCE, 0.0)
    assert statuses(ep) == [100, 483]
    assert outcome("zeromf")[0] == TU


def test_tel_and_sips_request_uris_are_served() -> None:
    for uri in (b"tel:+12125550100", b"sips:user@example.com"):
        ep = endpoint()
        ep.receive_datagram(
            message("esc01").replace(b"sip:sips%3Auser%40example.com@example.net", uri), SOURCE, 0.0
        )
        assert isinstance(ep.next_event(), RequestReceived), uri


def test_ack_and_cancel_are_never_refused_here() -> None:
    ep = endpoint()
    invite = message("esc01")
    ep.receive_datagram(invite, SOURCE, 0.0)
    assert isinstance(ep.next_event(), RequestReceived)
    cancel = (
        invite.split(b"\r\n\r\n")[0]
        .replace(b"INVITE sip:", b"CANCEL sip:")
        .replace(b"CSeq: 234234 INVITE", b"CSeq: 234234 CANCEL")
        .replace(b"Content-Length: 150", b"Content-Length: 0")
        .replace(b"C: application/sdp\r\n", b"Require: nothingSupportsThis\r\n")
    ) + b"\r\n\r\n"
    ep.receive_datagram(cancel, SOURCE, 0.0)
    assert sorted(statuses(ep)) == [100, 200, 487]  # the CANCEL's 200 and the INVITE's 487


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(CASES)),
    cut=st.integers(min_value=0, max_value=4000),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.integers(0, 255)), max_size=6),
)
def test_mangled_torture_messages_never_crash_the_endpoint(
    name: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(message(name)[: max(cut, 1)])
    for at, byte in flips:
        if data:
            data[at % len(data)] = byte
    ep = endpoint()
    ep.receive_datagram(bytes(data), SOURCE, 0.0)  # never raises, whatever the bytes
    for sent, _ in ep.datagrams_to_send():
        assert sent.startswith(b"SIP/2.0 ") and b"\r\n\r\n" in sent
        status_line = sent.split(b"\r\n", 1)[0]
        assert not any(c < 0x20 and c != 0x09 for c in status_line)


def test_a_require_that_does_not_parse_is_400_not_a_crash() -> None:
    ep = endpoint()
    ep.receive_datagram(message("lwsdisp").replace(b"l: 0", b'Require: "timer\r\nl: 0'), SOURCE, 0.0)
    assert statuses(ep) == [400]


def test_a_copy_after_the_first_was_answered_is_not_a_merged_request() -> None:
    ep = endpoint()
    first = message("lwsdisp")
    ep.receive_datagram(first, SOURCE, 0.0)
    event = ep.next_event()
    assert isinstance(event, RequestReceived) and event.key is not None
    ep.send_response(make_response(event.request, 401, to_tag="t"), 0.0)
    ep.datagrams_to_send()
    ep.receive_datagram(first.replace(b"z9hG4bKkdjuw", b"z9hG4bKagain"), SOURCE, 0.0)
    assert isinstance(ep.next_event(), RequestReceived)
