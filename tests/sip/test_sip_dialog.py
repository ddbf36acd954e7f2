from __future__ import annotations

from centrex.sip.dialog import Dialog, DialogState, next_hop
from centrex.sip.headers import NameAddr
from centrex.sip.message import make_response
from centrex.sip.uri import SipUri
from tests.sip.helpers import invite_bytes, parse_request

RR = b"Record-Route: <sip:p2.example.com;lr>\r\nRecord-Route: <sip:p1.example.com;lr>\r\nContact:"


def _pair() -> tuple[Dialog, Dialog]:
    invite = parse_request(invite_bytes(cseq=10).replace(b"Contact:", RR))
    ok = make_response(invite, 200, to_tag="b7")
    ok.headers.add("Contact", "<sip:bob@198.51.100.2:5062>")
    uas = Dialog.from_uas(invite, ok)
    uac = Dialog.from_uac(invite, ok)
    return uac, uas


def test_uac_and_uas_dialog_state() -> None:
    uac, uas = _pair()
    assert uac.id == ("call-1", "a1", "b7") and uas.id == ("call-1", "b7", "a1")
    assert uac.state is DialogState.CONFIRMED and uas.state is DialogState.CONFIRMED
    assert str(uac.remote_target) == "sip:bob@198.51.100.2:5062"
    assert str(uas.remote_target) == "sip:alice@192.0.2.10:5060"
    # UAS keeps Record-Route order, UAC reverses it (§12.1.1, §12.1.2).
    assert [str(r.uri) for r in uas.route_set] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    assert [str(r.uri) for r in uac.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert uac.local_seq == 10 and uas.remote_seq == 10 and uas.local_seq is None


def test_bye_from_uac_loose_routing_and_cseq() -> None:
    uac, uas = _pair()
    bye = uac.create_request("BYE")
    assert bye.cseq.seq == 11 and bye.cseq.method == "BYE"
    assert str(bye.uri) == "sip:bob@198.51.100.2:5062"
    assert bye.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert bye.from_.tag == "a1" and bye.to.tag == "b7" and bye.call_id == "call-1"
    assert str(next_hop(bye)) == "sip:p1.example.com;lr"
    assert uas.matches(bye) and not uac.matches(bye)
    assert uas.receive_request(bye) and uas.state is DialogState.TERMINATED
    assert not uas.receive_request(bye)  # same CSeq again: out of order, the TU answers 500


def test_ack_uses_invite_cseq_and_reinvite_refreshes_target() -> None:
    uac, uas = _pair()
    ack = uac.create_ack(10)
    assert ack.method == "ACK" and ack.cseq.seq == 10 and ack.cseq.method == "ACK"
    uac.local_contact = NameAddr(SipUri("192.0.2.10", "alice", port=5070))
    reinvite = uac.create_request("INVITE", body=b"v=0\r\n", content_type="application/sdp")
    assert reinvite.headers.get("Contact") == "<sip:alice@192.0.2.10:5070>"
    assert uas.receive_request(reinvite)
    assert str(uas.remote_target) == "sip:alice@192.0.2.10:5070"
    for method in ("INFO", "REFER", "NOTIFY"):
        assert uas.create_request(method).cseq.method == method


def test_strict_route_puts_target_last() -> None:
    invite = parse_request(
        invite_bytes().replace(b"Contact:", b"Record-Route: <sip:strict.example.com>\r\nContact:")
    )
    ok = make_response(invite, 200, to_tag="b7")
    ok.headers.add("Contact", "<sip:bob@198.51.100.2>")
    uac = Dialog.from_uac(invite, ok)
    bye = uac.create_request("BYE")
    assert str(bye.uri) == "sip:strict.example.com"
    assert bye.headers.get_all("Route") == ["<sip:bob@198.51.100.2>"]


def test_early_dialog_confirmed_by_2xx_and_ended_by_error() -> None:
    invite = parse_request(invite_bytes())
    ringing = make_response(invite, 180, to_tag="b7")
    uac = Dialog.from_uac(invite, ringing)
    assert uac.state is DialogState.EARLY
    ok = make_response(invite, 200, to_tag="b7")
    ok.headers.add("Record-Route", "<sip:p9.example.com;lr>")
    uac.receive_response(ok)
    assert uac.state is DialogState.CONFIRMED
    assert [str(r.uri) for r in uac.route_set] == ["sip:p9.example.com;lr"]
    other = Dialog.from_uac(invite, ringing)
    other.receive_response(make_response(invite, 486, to_tag="b7"))
    assert other.state is DialogState.TERMINATED
