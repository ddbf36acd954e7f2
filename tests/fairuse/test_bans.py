"""The ban decision (fairuse/bans.py): fail2ban's numbers, realms apart, an allowlist never banned,
IPv6 by its /64, and what a restart or another node's store brings back."""

from __future__ import annotations

import pytest

from centrex.calls.guard import GuardConfig, guard_config, stream_limits
from centrex.fairuse.bans import Allowlist, Ban, BanBook, BanPolicy, Realm, parse_network, source_key


def test_five_failures_in_ten_minutes_ban_for_ten_minutes() -> None:
    book = BanBook()
    for i in range(4):
        assert book.failure(Realm.SIP, "203.0.113.9", 100.0 * i) is None
    assert not book.is_banned(Realm.SIP, "203.0.113.9", 400.0)
    ban = book.failure(Realm.SIP, "203.0.113.9", 500.0, "1001")
    assert ban == Ban(Realm.SIP, "203.0.113.9", 500.0, 1100.0, 5, "1001")
    assert book.is_banned(Realm.SIP, "203.0.113.9", 1099.0)
    assert not book.is_banned(Realm.SIP, "203.0.113.9", 1100.0)
    assert not book.is_banned(Realm.SIP, "203.0.113.10", 600.0)


def test_failures_outside_the_window_do_not_count() -> None:
    book = BanBook({Realm.SIP: BanPolicy(5, 600, 600)})
    for i in range(10):
        assert book.failure(Realm.SIP, "203.0.113.9", 200.0 * i) is None  # never 5 within 600 s


def test_realms_count_and_ban_apart() -> None:
    book = BanBook({Realm.PORTAL: BanPolicy(max_failures=2, window_s=60, ban_s=3600)})
    assert book.failure(Realm.PORTAL, "198.51.100.4", 0.0) is None
    assert book.failure(Realm.SIP, "198.51.100.4", 1.0) is None
    portal = book.failure(Realm.PORTAL, "198.51.100.4", 2.0)
    assert portal is not None and portal.until == 3602.0
    assert book.is_banned(Realm.PORTAL, "198.51.100.4", 100.0)
    assert not book.is_banned(Realm.SIP, "198.51.100.4", 100.0)  # the phones at that site still work


def test_an_allowlisted_source_is_never_banned() -> None:
    book = BanBook(allowlist=Allowlist(["192.0.2.10", "198.51.100.0/24"]))
    for i in range(50):
        assert book.failure(Realm.SIP, "192.0.2.10", float(i)) is None
        assert book.failure(Realm.SIP, "198.51.100.77", float(i)) is None
    assert not book.is_banned(Realm.SIP, "192.0.2.10", 50.0)
    assert not book.is_banned(Realm.SIP, "198.51.100.77", 50.0)
    assert book.banned_count == 0
    mixed = Allowlist(["10.0.0.0/8", "2001:db8::/32", "198.51.100.0/24", "192.0.2.1"])
    assert "10.200.3.4" in mixed and "2001:db8:5::1" in mixed and "192.0.2.1" in mixed
    assert "11.0.0.1" not in mixed and "2001:db9::1" not in mixed and "192.0.2.2" not in mixed
    assert "not-an-address" not in mixed


def test_a_new_allowlist_ends_the_bans_of_sources_on_it() -> None:
    book = BanBook({Realm.SIP: BanPolicy(max_failures=1)})
    assert book.failure(Realm.SIP, "192.0.2.10", 0.0) is not None
    lifted = book.set_allowlist(Allowlist(["192.0.2.0/28"]))
    assert [b.source for b in lifted] == ["192.0.2.10"]
    assert not book.is_banned(Realm.SIP, "192.0.2.10", 1.0)


def test_ipv6_sources_are_banned_by_their_64() -> None:
    book = BanBook({Realm.SIP: BanPolicy(max_failures=3)})
    assert book.failure(Realm.SIP, "2001:db8:1:2::1", 0.0) is None
    assert book.failure(Realm.SIP, "2001:db8:1:2::2", 1.0) is None
    ban = book.failure(Realm.SIP, "2001:db8:1:2:ffff::3", 2.0)
    assert ban is not None and ban.source == "2001:db8:1:2::/64"
    assert book.is_banned(Realm.SIP, "2001:db8:1:2::abcd", 3.0)
    assert not book.is_banned(Realm.SIP, "2001:db8:1:3::1", 3.0)
    assert source_key("203.0.113.5") == "203.0.113.5"


def test_lift_purge_restore_and_replace() -> None:
    book = BanBook({Realm.SIP: BanPolicy(max_failures=1, ban_s=100)})
    first = book.failure(Realm.SIP, "203.0.113.1", 0.0)
    second = book.failure(Realm.SIP, "203.0.113.2", 50.0)
    assert first is not None and second is not None
    assert book.lift(Realm.SIP, "203.0.113.1") == first
    assert book.lift(Realm.SIP, "203.0.113.1") is None
    assert book.purge(149.0) == []
    assert book.purge(150.0) == [second]
    # A restart: what the store still holds comes back, what ran out does not.
    after = BanBook()
    after.restore(
        [Ban(Realm.SIP, "203.0.113.3", 0.0, 500.0, 5), Ban(Realm.SIP, "203.0.113.4", 0.0, 10.0, 5)], 20.0
    )
    assert [b.source for b in after.active(20.0)] == ["203.0.113.3"]
    # The store read again: an operator lifted .3, another node banned .5; .6 was banned here after
    # the read began and is kept.
    mine = after.failure(Realm.SIP, "203.0.113.6", 30.0)
    assert mine is None  # default policy: 5 failures
    for t in (31.0, 32.0, 33.0, 34.0):
        after.failure(Realm.SIP, "203.0.113.6", t)
    gone = after.replace([Ban(Realm.SIP, "203.0.113.5", 25.0, 500.0, 5)], now=35.0, since=30.0)
    assert [b.source for b in gone] == ["203.0.113.3"]
    assert {b.source for b in after.active(35.0)} == {"203.0.113.5", "203.0.113.6"}


def test_networks_and_settings_are_checked_with_a_clear_message() -> None:
    assert str(parse_network("192.0.2.7/24")) == "192.0.2.0/24"
    with pytest.raises(ValueError, match=r"'carrier\.example' is not an IP address or CIDR network"):
        parse_network("carrier.example")
    with pytest.raises(ValueError, match="max_failures must be at least 1"):
        BanPolicy(max_failures=0)
    env = {
        "CENTREX_SIP_BAN_FAILURES": "3",
        "CENTREX_SIP_BAN_WINDOW_S": "60",
        "CENTREX_SIP_BAN_S": "3600",
        "CENTREX_SIP_BAN_ALLOW": "192.0.2.0/24, 198.51.100.9",
    }
    config = guard_config(env)
    assert config.ban_policy == BanPolicy(3, 60.0, 3600.0)
    assert config.allow == ("192.0.2.0/24", "198.51.100.9")
    assert guard_config({}) == GuardConfig()
    with pytest.raises(ValueError, match=r"CENTREX_SIP_BAN_FAILURES='2\.5': must be a positive whole number"):
        guard_config({"CENTREX_SIP_BAN_FAILURES": "2.5"})
    with pytest.raises(ValueError, match="CENTREX_SIP_BAN_ALLOW: 'x' is not an IP address"):
        guard_config({"CENTREX_SIP_BAN_ALLOW": "x"})
    limits = stream_limits({"CENTREX_SIP_TCP_IDLE_S": "5", "CENTREX_SIP_TCP_PER_SOURCE": "10"})
    assert (limits.idle_s, limits.per_source, limits.total) == (5.0, 10, 10_000)
    with pytest.raises(ValueError, match="CENTREX_SIP_TCP_MAX='0': must be a positive whole number"):
        stream_limits({"CENTREX_SIP_TCP_MAX": "0"})
