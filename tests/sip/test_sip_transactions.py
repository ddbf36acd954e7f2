"""Transaction layer driven by hand-set time (RFC 3261 §17 timers, RFC 6026)."""

from __future__ import annotations

from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import (
    Address,
    CancelReceived,
    Event,
    ParseFailed,
    RequestReceived,
    ResponseReceived,
    TransactionKey,
    TransactionTimedOut,
    TransportError,
)
from centrex.sip.message import Request, Response, make_response, parse_message
from centrex.sip.transaction import TimerConfig
from tests.sip.helpers import invite_bytes, options_bytes, parse_request

PEER: Address = ("192.0.2.10", 5060)
SERVER: Address = ("198.51.100.1", 5060)


def events(ep: SipEndpoint) -> list[Event]:
    out = []
    while (e := ep.next_event()) is not None:
        out.append(e)
    return out


def sent(ep: SipEndpoint) -> list[bytes]:
    return [data for data, _ in ep.datagrams_to_send()]


def run_until(ep: SipEndpoint, end: float) -> list[float]:
    """Fire timers up to ``end``; return the times at which something was sent."""
    times = []
    while (t := ep.next_timer()) is not None and t <= end:
        ep.handle_timer(t)
        if ep.datagrams_to_send():
            times.append(round(t, 3))
    return times


def new_request(data: bytes) -> Request:
    request = parse_request(data)
    request.headers.remove("Via")
    return request


def response_to(ep: SipEndpoint, status: int, to_tag: str = "srv") -> bytes:
    """Answer the last request that ``ep`` sent (as the far end would)."""
    (data,) = sent(ep)
    message = parse_message(data)
    assert isinstance(message, Request)
    return make_response(message, status, to_tag=to_tag).serialize()


class TestInviteClient:
    def test_udp_retransmits_with_doubling_then_timer_b(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        assert len(sent(ep)) == 1
        assert run_until(ep, 31.9) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
        assert events(ep) == []
        assert ep.next_timer() == 32.0
        ep.handle_timer(32.0)
        assert events(ep) == [TransactionTimedOut(key, "B")]
        assert ep.next_timer() is None and ep.transaction_count == 0

    def test_tcp_never_retransmits(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060), "TCP")
        key = ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        request = parse_message(sent(ep)[0])
        assert isinstance(request, Request) and request.top_via.transport == "TCP"
        assert run_until(ep, 31.9) == []
        ep.handle_timer(32.0)
        assert events(ep) == [TransactionTimedOut(key, "B")]

    def test_provisional_stops_retransmission_and_timer_b(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        ringing = response_to(ep, 180)
        ep.receive_datagram(ringing, SERVER, 0.2)
        (event,) = events(ep)
        assert isinstance(event, ResponseReceived) and event.key == key and event.response.status == 180
        assert run_until(ep, 100.0) == []
        assert events(ep) == []

    def test_error_final_is_acked_once_and_absorbed_until_timer_d(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        busy = response_to(ep, 486)
        ep.receive_datagram(busy, SERVER, 0.1)
        (ack,) = sent(ep)
        ack_msg = parse_message(ack)
        assert isinstance(ack_msg, Request) and ack_msg.method == "ACK"
        assert ack_msg.cseq.method == "ACK" and ack_msg.to.tag == "srv"
        assert str(ack_msg.uri) == "sip:bob@biloxi.example.com"
        (event,) = events(ep)
        assert isinstance(event, ResponseReceived) and event.response.status == 486
        ep.receive_datagram(busy, SERVER, 1.0)  # retransmitted: ACK again, no event
        assert sent(ep) == [ack] and events(ep) == []
        assert ep.next_timer() == 32.1  # Timer D
        ep.handle_timer(32.1)
        assert ep.transaction_count == 0 and key.method == "INVITE"

    def test_2xx_goes_to_tu_each_time_for_end_to_end_ack(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        ok = response_to(ep, 200)
        ep.receive_datagram(ok, SERVER, 0.1)
        ep.receive_datagram(ok, SERVER, 0.6)
        assert [e.response.status for e in events(ep) if isinstance(e, ResponseReceived)] == [200, 200]
        assert sent(ep) == []  # no ACK from the transaction layer for a 2xx
        ep.handle_timer(0.1 + 32.0)  # Timer M
        assert ep.transaction_count == 0

    def test_tcp_timer_d_is_zero(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060), "TCP")
        ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        ep.receive_datagram(response_to(ep, 603), SERVER, 0.1)
        assert ep.transaction_count == 0 and ep.next_timer() is None

    def test_stray_response_is_dropped(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        other = response_to(ep, 180).replace(b"branch=z9hG4bK", b"branch=z9hG4bKother")
        ep.receive_datagram(other, SERVER, 0.1)
        assert events(ep) == []

    def test_configurable_t1(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060), timers=TimerConfig(t1=0.1))
        ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        sent(ep)
        assert run_until(ep, 6.3) == [0.1, 0.3, 0.7, 1.5, 3.1]
        ep.handle_timer(6.4)
        assert any(isinstance(e, TransactionTimedOut) for e in events(ep))


class TestNonInviteClient:
    def test_timer_e_caps_at_t2_and_timer_f(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(options_bytes()), SERVER, 0.0)
        sent(ep)
        times = run_until(ep, 31.9)
        assert times[:6] == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5]
        assert times[-1] == 31.5
        ep.handle_timer(32.0)
        assert events(ep) == [TransactionTimedOut(key, "F")]

    def test_provisional_moves_to_t2_interval(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        ep.send_request(new_request(options_bytes()), SERVER, 0.0)
        trying = response_to(ep, 100)
        ep.receive_datagram(trying, SERVER, 0.2)
        assert run_until(ep, 9.0) == [0.5, 4.5, 8.5]

    def test_timer_k_absorbs_retransmitted_final(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        ep.send_request(new_request(options_bytes()), SERVER, 0.0)
        ok = response_to(ep, 200)
        ep.receive_datagram(ok, SERVER, 1.0)
        ep.receive_datagram(ok, SERVER, 2.0)
        assert len(events(ep)) == 1
        assert ep.next_timer() == 6.0  # K = T4 after the final
        ep.handle_timer(6.0)
        assert ep.transaction_count == 0
        ep.receive_datagram(ok, SERVER, 7.0)
        assert events(ep) == []  # now a stray

    def test_tcp_timer_k_is_zero(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060), "TCP")
        ep.send_request(new_request(options_bytes()), SERVER, 0.0)
        ep.receive_datagram(response_to(ep, 200), SERVER, 1.0)
        assert ep.transaction_count == 0

    def test_transport_error_ends_the_transaction(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(options_bytes()), SERVER, 0.0)
        ep.transport_error(SERVER, "ICMP port unreachable")
        assert events(ep) == [TransportError(key, SERVER, "ICMP port unreachable")]
        assert ep.next_timer() is None


class TestNonInviteServer:
    def test_retransmissions_absorbed_and_answered_with_last_response(self) -> None:
        ep = SipEndpoint(SERVER)
        data = options_bytes()
        ep.receive_datagram(data, PEER, 0.0)
        ep.receive_datagram(data, PEER, 0.5)  # before any response: silently absorbed
        (event,) = events(ep)
        assert isinstance(event, RequestReceived) and event.request.method == "OPTIONS"
        assert sent(ep) == []
        ep.send_response(make_response(event.request, 200, to_tag="x"), 0.6)
        (ok,) = sent(ep)
        ep.receive_datagram(data, PEER, 1.5)
        assert sent(ep) == [ok] and events(ep) == []
        assert ep.next_timer() == 0.6 + 32.0  # Timer J
        ep.handle_timer(32.6)
        ep.receive_datagram(data, PEER, 40.0)
        assert len(events(ep)) == 1  # after J, the same bytes are a new request

    def test_tcp_timer_j_is_zero(self) -> None:
        ep = SipEndpoint(SERVER, "TCP")
        ep.receive_datagram(options_bytes(), PEER, 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        ep.send_response(make_response(event.request, 200), 0.1)
        assert ep.transaction_count == 0

    def test_second_final_response_is_dropped(self) -> None:
        ep = SipEndpoint(SERVER)
        ep.receive_datagram(options_bytes(), PEER, 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        ep.send_response(make_response(event.request, 200), 0.1)
        ep.send_response(make_response(event.request, 500), 0.2)
        assert [parse_message(d).status for d in sent(ep)] == [200]  # type: ignore[union-attr]

    def test_rport_and_received_are_filled_and_used(self) -> None:
        ep = SipEndpoint(SERVER)
        nat: Address = ("203.0.113.5", 40123)
        ep.receive_datagram(invite_bytes(), nat, 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        via = event.request.top_via
        assert via.received == "203.0.113.5" and via.rport == 40123
        ((data, addr),) = ep.datagrams_to_send()  # the automatic 100 Trying
        assert addr == nat
        assert b"rport=40123" in data and b"received=203.0.113.5" in data

    def test_received_without_rport_answers_to_sent_by_port(self) -> None:
        ep = SipEndpoint(SERVER)
        ep.receive_datagram(options_bytes(), ("203.0.113.5", 40123), 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        ep.send_response(make_response(event.request, 200), 0.0)
        ((_, addr),) = ep.datagrams_to_send()
        assert addr == ("203.0.113.5", 5060)


class TestInviteServer:
    def _invite(self, ep: SipEndpoint, data: bytes | None = None) -> RequestReceived:
        ep.receive_datagram(data or invite_bytes(), PEER, 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        return event

    def test_automatic_100_and_retransmission_answered(self) -> None:
        ep = SipEndpoint(SERVER)
        event = self._invite(ep)
        (trying,) = sent(ep)
        assert trying.startswith(b"SIP/2.0 100 Trying")
        ep.receive_datagram(invite_bytes(), PEER, 0.5)
        assert sent(ep) == [trying] and events(ep) == []
        ep.send_response(make_response(event.request, 180, to_tag="t"), 1.0)
        (ringing,) = sent(ep)
        ep.receive_datagram(invite_bytes(), PEER, 1.5)
        assert sent(ep) == [ringing]

    def test_error_response_retransmitted_until_ack_then_timer_i(self) -> None:
        ep = SipEndpoint(SERVER)
        event = self._invite(ep)
        sent(ep)
        ep.send_response(make_response(event.request, 486, to_tag="t"), 0.0)
        sent(ep)
        assert run_until(ep, 12.0) == [0.5, 1.5, 3.5, 7.5, 11.5]  # Timer G, capped at T2
        ack = invite_bytes().replace(b"INVITE sip", b"ACK sip").replace(b"1 INVITE", b"1 ACK")
        ack = ack.replace(
            b"To: Bob <sip:bob@biloxi.example.com>", b"To: Bob <sip:bob@biloxi.example.com>;tag=t"
        )
        ep.receive_datagram(ack, PEER, 12.2)
        assert events(ep) == [] and sent(ep) == []  # ACK for a non-2xx is absorbed
        ep.receive_datagram(ack, PEER, 12.4)
        assert events(ep) == []
        assert ep.next_timer() == 12.2 + 5.0  # Timer I = T4
        assert run_until(ep, 40.0) == []
        assert ep.transaction_count == 0

    def test_timer_h_when_no_ack(self) -> None:
        ep = SipEndpoint(SERVER)
        event = self._invite(ep)
        ep.send_response(make_response(event.request, 404, to_tag="t"), 0.0)
        run_until(ep, 31.9)
        assert events(ep) == []
        ep.handle_timer(32.0)
        assert events(ep) == [TransactionTimedOut(event.key, "H")]  # type: ignore[arg-type]

    def test_2xx_retransmitted_until_ack_which_reaches_tu_once(self) -> None:
        ep = SipEndpoint(SERVER)
        event = self._invite(ep)
        sent(ep)
        ep.send_response(make_response(event.request, 200, to_tag="t"), 0.0)
        (ok,) = sent(ep)
        assert run_until(ep, 4.0) == [0.5, 1.5, 3.5]
        ack = (
            invite_bytes(branch="z9hG4bKack2xx")
            .replace(b"INVITE sip", b"ACK sip")
            .replace(b"1 INVITE", b"1 ACK")
        )
        ep.receive_datagram(ack, PEER, 4.1)
        ep.receive_datagram(ack, PEER, 4.2)
        (got,) = events(ep)
        assert isinstance(got, RequestReceived) and got.request.method == "ACK" and got.key is None
        ep.receive_datagram(invite_bytes(), PEER, 5.0)
        assert events(ep) == [] and sent(ep) == []  # INVITE retransmission in Accepted: absorbed
        assert run_until(ep, 40.0) == []  # the ACK stopped the 2xx retransmissions
        assert events(ep) == [] and ep.transaction_count == 0  # Timer L ended it quietly
        assert ok.startswith(b"SIP/2.0 200 OK")

    def test_no_ack_for_2xx_reports_timer_l(self) -> None:
        ep = SipEndpoint(SERVER, "TCP")
        event = self._invite(ep)
        sent(ep)
        ep.send_response(make_response(event.request, 200, to_tag="t"), 0.0)
        sent(ep)
        assert run_until(ep, 31.9) == []  # reliable: no 2xx retransmissions
        ep.handle_timer(32.0)
        assert events(ep) == [TransactionTimedOut(event.key, "L")]  # type: ignore[arg-type]

    def test_cancel_gets_200_and_invite_gets_487(self) -> None:
        ep = SipEndpoint(SERVER)
        event = self._invite(ep)
        sent(ep)
        cancel = invite_bytes().replace(b"INVITE sip", b"CANCEL sip").replace(b"1 INVITE", b"1 CANCEL")
        ep.receive_datagram(cancel, PEER, 1.0)
        statuses = sorted((parse_message(d).status, parse_message(d).cseq.method) for d in sent(ep))  # type: ignore[union-attr]
        assert statuses == [(200, "CANCEL"), (487, "INVITE")]
        (got,) = events(ep)
        assert isinstance(got, CancelReceived) and got.invite_key == event.key
        ep.send_response(make_response(event.request, 200, to_tag="late"), 1.1)
        assert sent(ep) == []  # too late: the 487 won

    def test_unmatched_cancel_gets_481(self) -> None:
        ep = SipEndpoint(SERVER)
        cancel = invite_bytes().replace(b"INVITE sip", b"CANCEL sip").replace(b"1 INVITE", b"1 CANCEL")
        ep.receive_datagram(cancel, PEER, 1.0)
        (data,) = sent(ep)
        assert data.startswith(b"SIP/2.0 481")
        assert events(ep) == []


class TestClientCancel:
    def test_cancel_waits_for_a_provisional(self) -> None:
        ep = SipEndpoint(("192.0.2.1", 5060))
        key = ep.send_request(new_request(invite_bytes()), SERVER, 0.0)
        invite = parse_message(sent(ep)[0])
        assert isinstance(invite, Request)
        cancel_key = ep.send_cancel(key, 0.1)
        assert cancel_key == TransactionKey(key.branch, "CANCEL")
        assert sent(ep) == []  # §9.1: not before a provisional
        ep.receive_datagram(make_response(invite, 180, to_tag="t").serialize(), SERVER, 0.2)
        (data,) = sent(ep)
        cancel = parse_message(data)
        assert isinstance(cancel, Request) and cancel.method == "CANCEL"
        assert cancel.top_via.branch == key.branch and cancel.cseq.seq == invite.cseq.seq
        assert cancel.headers.get("To") == invite.headers.get("To")


class TestBadInput:
    def test_bad_request_gets_400_to_source(self) -> None:
        ep = SipEndpoint(SERVER)
        bad = invite_bytes().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")
        ep.receive_datagram(bad, PEER, 0.0)
        ((data, addr),) = ep.datagrams_to_send()
        response = parse_message(data)
        assert isinstance(response, Response) and response.status == 400
        assert "CSeq method" in response.reason
        assert addr == PEER
        (event,) = events(ep)
        assert isinstance(event, ParseFailed) and event.answered and not event.fatal

    def test_garbage_is_dropped_and_reported(self) -> None:
        ep = SipEndpoint(SERVER)
        ep.receive_datagram(b"\x16\x03\x01 garbage", PEER, 0.0)
        assert ep.datagrams_to_send() == []
        (event,) = events(ep)
        assert isinstance(event, ParseFailed) and not event.answered

    def test_stream_keepalive_pong_and_fatal_framing(self) -> None:
        ep = SipEndpoint(SERVER, "TCP")
        ep.receive_stream_data(b"\r\n\r\n", PEER, 0.0)
        assert ep.datagrams_to_send() == [(b"\r\n", PEER)]
        data = options_bytes()
        ep.receive_stream_data(data[:30], PEER, 0.0)
        assert events(ep) == []
        ep.receive_stream_data(data[30:], PEER, 0.0)
        (event,) = events(ep)
        assert isinstance(event, RequestReceived)
        ep.receive_stream_data(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n", PEER, 0.0)
        (failed,) = events(ep)
        assert isinstance(failed, ParseFailed) and failed.fatal
