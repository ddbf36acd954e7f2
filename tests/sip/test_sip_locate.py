"""RFC 3263 §4 selection on records given as data (no DNS here)."""

from __future__ import annotations

from centrex.sip.locate import Hop, Naptr, Query, Srv, hops, naptr_services, order_srv, srv_names


def test_what_a_query_needs() -> None:
    assert Query("192.0.2.1").numeric and not Query("192.0.2.1").needs_naptr
    assert Query("[2001:db8::1]").numeric
    assert Query("carrier.example").needs_naptr
    assert not Query("carrier.example", port=5070).needs_naptr
    assert not Query("carrier.example", transport="TCP").needs_naptr
    assert Query("carrier.example", secure=True).fallback_transport == "TLS"
    assert Query("carrier.example").fallback_transport == "UDP"


def test_naptr_order_then_preference_and_only_services_we_speak() -> None:
    records = [
        Naptr(20, 10, "s", "SIP+D2U", "", "_sip._udp.carrier.example."),
        Naptr(10, 60, "s", "SIP+D2T", "", "_sip._tcp.carrier.example."),
        Naptr(10, 50, "s", "SIPS+D2T", "", "_sips._tcp.carrier.example."),
        Naptr(5, 10, "s", "SIP+D2S", "", "_sip._sctp.carrier.example."),  # SCTP: not spoken
        Naptr(5, 20, "u", "E2U+sip", "!^.*$!sip:x@y!", "."),  # not a SIP service record
    ]
    assert naptr_services(records, Query("carrier.example")) == [
        ("TLS", "_sips._tcp.carrier.example"),
        ("TCP", "_sip._tcp.carrier.example"),
        ("UDP", "_sip._udp.carrier.example"),
    ]
    # A sips URI takes TLS only.
    assert naptr_services(records, Query("carrier.example", secure=True)) == [
        ("TLS", "_sips._tcp.carrier.example")
    ]


def test_srv_names_without_naptr_or_for_a_fixed_transport() -> None:
    assert srv_names(Query("carrier.example")) == [
        ("UDP", "_sip._udp.carrier.example"),
        ("TCP", "_sip._tcp.carrier.example"),
        ("TLS", "_sips._tcp.carrier.example"),
    ]
    assert srv_names(Query("carrier.example", transport="TCP")) == [("TCP", "_sip._tcp.carrier.example")]
    assert srv_names(Query("carrier.example", secure=True)) == [("TLS", "_sips._tcp.carrier.example")]


def test_srv_priority_first_then_weight_by_the_draw() -> None:
    a, b, c = Srv(10, 60, 5060, "a."), Srv(10, 20, 5060, "b."), Srv(20, 0, 5060, "c.")
    # rand() * total 80 (b=20 first, then a): 0.1 -> 8 falls on b, 0.9 -> 72 on a.
    assert order_srv([a, b, c], iter([0.1, 0.0]).__next__) == [b, a, c]
    assert order_srv([a, b, c], iter([0.9, 0.0]).__next__) == [a, b, c]
    # "." means the service is not offered at this name.
    assert order_srv([Srv(0, 0, 0, ".")], lambda: 0.5) == []


def test_srv_weights_share_the_first_place_as_rfc_2782_says() -> None:
    import random

    draws = random.Random(7)
    firsts = [
        order_srv([Srv(10, 75, 1, "a."), Srv(10, 25, 2, "b.")], draws.random)[0].target for _ in range(2000)
    ]
    share = firsts.count("a.") / len(firsts)
    assert 0.70 < share < 0.80


def test_hops_expand_addresses_and_drop_repeats() -> None:
    addresses = {"a": ["192.0.2.1", "2001:db8::1"], "b": ["192.0.2.1"]}
    got = hops([("a", 5060, "UDP"), ("b", 5060, "UDP"), ("b", 5080, "TCP")], lambda h: addresses[h])
    assert got == [
        Hop("192.0.2.1", 5060, "UDP"),
        Hop("2001:db8::1", 5060, "UDP"),
        Hop("192.0.2.1", 5080, "TCP"),
    ]
