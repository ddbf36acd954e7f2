"""RFC 3262 (100rel, PRACK) and RFC 3311 (UPDATE) helpers."""

from __future__ import annotations

import pytest

from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.message import Response, make_response
from centrex.sip.reliable import (
    T1,
    RAck,
    ReliableReceiver,
    ReliableSender,
    build_prack,
    is_reliable,
    parse_rack,
    rack_for,
)
from centrex.sip.update import OfferState, allows, build_update, refuse_update
from tests.sip.helpers import invite_bytes, parse_request

INVITE = parse_request(invite_bytes(cseq=314))


def reliable_183(rseq: int) -> Response:
    response = make_response(
        INVITE, 183, to_tag="carrier", extra=[("Require", "100rel"), ("RSeq", str(rseq))]
    )
    response.headers.add("Contact", "<sip:gw@198.51.100.20:5060>")
    return response


def test_rack_grammar_and_what_a_provisional_needs() -> None:
    assert parse_rack("776656 314 INVITE") == RAck(776656, 314, "INVITE")
    assert str(RAck(1, 2, "INVITE")) == "1 2 INVITE"
    for bad in ("1 2", "0 1 INVITE", "x 1 INVITE", "1 1 IN VITE"):
        with pytest.raises(SipParseError):
            parse_rack(bad)
    assert is_reliable(reliable_183(7))
    assert not is_reliable(make_response(INVITE, 183, to_tag="c"))
    assert not is_reliable(make_response(INVITE, 100, extra=[("Require", "100rel"), ("RSeq", "1")]))


def test_prack_goes_in_the_early_dialog_with_the_rack_of_the_provisional() -> None:
    provisional = reliable_183(776656)
    dialog = Dialog.from_uac(INVITE, provisional)
    prack = build_prack(dialog, provisional)
    assert prack.method == "PRACK"
    assert prack.headers.get("RAck") == "776656 314 INVITE"
    assert prack.cseq.seq == 315  # the next CSeq of the dialog
    assert prack.to.tag == "carrier" and str(prack.uri) == "sip:gw@198.51.100.20:5060"
    assert rack_for(provisional) == RAck(776656, 314, "INVITE")


def test_receiver_pracks_in_order_and_again_for_retransmissions() -> None:
    receiver = ReliableReceiver()
    assert receiver.accept(reliable_183(10)) == (True, True)
    assert receiver.accept(reliable_183(10)) == (True, False)  # retransmission: PRACK, not new
    assert receiver.accept(reliable_183(12)) == (False, False)  # out of order: wait for 11
    assert receiver.accept(reliable_183(11)) == (True, True)
    assert receiver.accept(reliable_183(12)) == (True, True)


def test_sender_numbers_retransmits_and_matches_the_prack() -> None:
    sender = ReliableSender(next_rseq=100)
    ringing = sender.make_reliable(make_response(INVITE, 180, to_tag="us"), now=0.0)
    assert ringing.headers.get("RSeq") == "100" and ringing.headers.get("Require") == "100rel"
    with pytest.raises(ValueError, match="unacknowledged"):
        sender.make_reliable(make_response(INVITE, 183, to_tag="us"), now=0.1)
    assert sender.due(T1 - 0.01) is None
    assert sender.due(T1) is ringing  # T1, then 3·T1, 7·T1...
    assert sender.retransmit_at() == 3 * T1
    assert not sender.gave_up(63 * T1) and sender.gave_up(64 * T1)
    # The UAC's PRACK, built the way the switch builds its own.
    dialog = Dialog.from_uac(INVITE, ringing)
    wrong = build_prack(dialog, reliable_183(99))
    assert sender.prack(wrong) == 481
    assert sender.prack(build_prack(dialog, ringing)) == 200
    assert sender.retransmit_at() is None and sender.prack(build_prack(dialog, ringing)) == 481
    nxt = sender.make_reliable(make_response(INVITE, 183, to_tag="us"), now=1.0)
    assert nxt.headers.get("RSeq") == "101"
    with pytest.raises(ValueError, match="101-199"):
        ReliableSender().make_reliable(make_response(INVITE, 200, to_tag="us"), now=0.0)


def test_sender_starts_at_a_random_rseq_below_2_to_the_31() -> None:
    starts = {ReliableSender().next_rseq for _ in range(20)}
    assert len(starts) > 1 and all(1 <= s < 2**31 for s in starts)


def test_update_builds_in_dialog_with_or_without_an_offer() -> None:
    answered = make_response(INVITE, 200, to_tag="b", extra=[("Allow", "INVITE, ACK, BYE, UPDATE")])
    answered.headers.add("Contact", "<sip:bob@192.0.2.20>")
    assert allows(answered, "update") and not allows(answered, "PRACK")
    dialog = Dialog.from_uac(INVITE, answered)
    offer = build_update(dialog, b"v=0\r\n")
    assert offer.method == "UPDATE" and offer.content_type == "application/sdp" and offer.body == b"v=0\r\n"
    refresh = build_update(dialog, extra=[("Session-Expires", "1800;refresher=uac")])
    assert refresh.body == b"" and refresh.content_type is None
    assert refresh.headers.get("Session-Expires") == "1800;refresher=uac"
    assert refresh.cseq.seq == offer.cseq.seq + 1


def test_crossing_offers_are_refused_as_rfc_3311_says() -> None:
    assert refuse_update(OfferState(our_offer_pending=True), has_offer=True) == (491, [])
    status, extra = refuse_update(OfferState(invite_incomplete=True), has_offer=True) or (0, [])
    assert status == 500 and extra[0][0] == "Retry-After" and 0 <= int(extra[0][1]) <= 10
    assert refuse_update(OfferState(our_offer_pending=True), has_offer=False) is None  # a timer refresh
    assert refuse_update(OfferState(), has_offer=True) is None
