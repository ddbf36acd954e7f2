"""The peering policy's checkable rules (peering-policy.txt; ops/peering_policy.py), from the
policy's own words: no default route either way, only what would cross the public internet,
emergency contacts, meet-me room only where the POP has one."""

from __future__ import annotations

import pytest

from centrex.ops.peering_policy import (
    Direction,
    PolicyError,
    check_connection,
    check_contacts,
    parse_asn,
    parse_neighbor,
    parse_prefix,
    parse_prefixes,
)


@pytest.mark.parametrize("default", ["0.0.0.0/0", "::/0"])
def test_a_default_route_is_refused_both_families(default: str) -> None:
    # Routing Requirements: "You may not direct a route of last resort (a default route) at OfficeTone"
    with pytest.raises(PolicyError) as info:
        parse_prefix(default)
    assert info.value.rule == "no_default_route" and "default route" in str(info.value)


@pytest.mark.parametrize(
    ("prefix", "rule"),
    [
        ("0.0.0.0/1", "prefix_too_broad"),  # with 128.0.0.0/1, a default route by another name
        ("16.0.0.0/4", "prefix_too_broad"),
        ("::/1", "prefix_too_broad"),
        ("2000::/3", "prefix_too_broad"),
        ("23.128.0.0/25", "prefix_too_specific"),
        ("2a0e:97c0::/56", "prefix_too_specific"),
        ("10.0.0.0/8", "prefix_not_global"),  # RFC 1918: never on the public internet
        ("192.0.2.0/24", "prefix_not_global"),  # documentation
        ("100.64.0.0/10", "prefix_not_global"),  # carrier-grade NAT
        ("2001:db8::/32", "prefix_not_global"),
        ("23.128.0.1/22", "ip_prefix"),  # host bits set
        ("23.128.0.0/33", "ip_prefix"),
        ("not a prefix", "ip_prefix"),
    ],
)
def test_prefixes_outside_the_policy_are_refused_naming_the_rule(prefix: str, rule: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_prefix(prefix)
    assert info.value.rule == rule, str(info.value)


@pytest.mark.parametrize(
    "prefix", ["8.0.0.0/8", "23.128.0.0/22", "104.16.0.0/24", "2606:4700::/32", "2a0e::/16"]
)
def test_public_prefixes_from_slash_8_to_24_and_16_to_48_are_agreed(prefix: str) -> None:
    assert str(parse_prefix(prefix)) == prefix


def test_agreed_prefixes_need_at_least_one_and_no_duplicates() -> None:
    agreed = parse_prefixes([("23.128.0.0/22", "export"), ("104.16.0.0/13", "import")])
    assert [(str(p.network), p.direction) for p in agreed] == [
        ("23.128.0.0/22", Direction.EXPORT),
        ("104.16.0.0/13", Direction.IMPORT),
    ]
    with pytest.raises(PolicyError) as info:
        parse_prefixes([])
    assert info.value.rule == "required"
    with pytest.raises(PolicyError) as info:
        parse_prefixes([("23.128.0.0/22", "export"), ("23.128.0.0/22", "export")])
    assert info.value.rule == "unique"
    with pytest.raises(PolicyError) as info:
        parse_prefixes([("23.128.0.0/22", "both")])
    assert info.value.field == "prefixes[0].direction"


@pytest.mark.parametrize(
    ("asn", "rule"),
    [
        (0, "asn"),
        (4294967296, "asn"),
        ("ASX", "asn"),
        (23456, "public_asn"),  # AS_TRANS
        (64500, "public_asn"),  # documentation
        (64512, "public_asn"),  # private use
        (65535, "public_asn"),
        (4200000000, "public_asn"),
    ],
)
def test_only_public_asns_peer(asn: int | str, rule: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_asn(asn)
    assert info.value.rule == rule


def test_asns_are_read_with_or_without_as() -> None:
    assert parse_asn("AS13335") == 13335 == parse_asn(13335)
    assert parse_asn("as397000") == 397000
    assert parse_asn(4200000000 - 1) == 4199999999  # a public 32-bit ASN


def test_emergency_contacts_are_required_and_reachable() -> None:
    # Operational Requirements and Procedures: "you will provide us with a list of your
    # organization's emergency contacts".
    with pytest.raises(PolicyError) as info:
        check_contacts([])
    assert info.value.rule == "required"
    assert check_contacts([("NOC", "(312) 555-0100", "NOC@Peer.Example")]) == [
        ("NOC", "+13125550100", "noc@peer.example")
    ]
    with pytest.raises(PolicyError) as info:
        check_contacts([("NOC", "555", "noc@peer.example")])
    assert info.value.field == "contacts[0].phone"
    with pytest.raises(PolicyError) as info:
        check_contacts([("NOC", "+13125550100", "not-an-address")])
    assert info.value.field == "contacts[0].email"


def test_a_meet_me_room_connection_needs_a_pop_with_one() -> None:
    # Peering with OfficeTone: meet-me room where the facility has one, otherwise a cross-connect.
    assert check_connection("meet_me_room", True, "chi1", "c").value == "meet_me_room"
    assert check_connection("cross_connect", False, "chi1", "c").value == "cross_connect"
    with pytest.raises(PolicyError) as info:
        check_connection("meet_me_room", False, "nyc1", "sessions[0].connection")
    assert info.value.rule == "meet_me_room" and "cross-connect" in str(info.value)


@pytest.mark.parametrize("address", ["0.0.0.0", "127.0.0.1", "224.0.0.5", "::", "::1", "fe80::1x"])
def test_session_addresses_are_unicast_hosts(address: str) -> None:
    with pytest.raises(PolicyError):
        parse_neighbor(address)
