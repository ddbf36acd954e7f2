"""The contract's capacity figures (voip-service-guide.txt §2.2, §V.3.1-§V.3.11) as tests."""

from __future__ import annotations

import uuid

from centrex.capacity.rules import (
    Enterprise,
    Limit,
    SiteCapacity,
    burst_ceiling,
    link_max_calls,
    refused_by,
)

T1, DS3 = 1536, 44_736


def site(units: int, kbps: int, **kw: object) -> SiteCapacity:
    return SiteCapacity(uuid.uuid4(), units, kbps, **kw)  # type: ignore[arg-type]


def enterprise(*sites: SiteCapacity, a_la_carte: bool = True, hub: uuid.UUID | None = None) -> Enterprise:
    return Enterprise(uuid.uuid4(), a_la_carte, {s.id: s for s in sites}, hub_site_id=hub)


def test_a_t1_carries_41_calls_the_contracts_figure() -> None:
    assert link_max_calls(T1) == 41  # §2.2
    assert link_max_calls(T1, [(T1, 41), (3072, 90)]) == 41
    assert link_max_calls(3072, [(T1, 41), (3072, 90)]) == 90  # the operator's own table


def test_example_a_20_units_on_a_t1_beside_40_on_a_ds3_bursts_to_41() -> None:
    a, b = site(20, T1, metered=True), site(40, DS3, metered=True)
    assert burst_ceiling(a, enterprise(a, b)) == 41


def test_example_c_60_units_on_a_ds3_beside_60_bursts_to_110() -> None:
    c, d = site(60, DS3, metered=True), site(60, DS3, metered=True)
    assert burst_ceiling(c, enterprise(c, d)) == 110


def test_bursting_calls_are_admitted_up_to_the_ceiling_then_refused() -> None:
    c, d = site(60, DS3, metered=True), site(60, DS3, metered=True)
    ent = enterprise(c, d)
    assert refused_by(c, ent, {c.id: 109}) is None
    assert refused_by(c, ent, {c.id: 110}) is Limit.BURST
    # D is using 55 of its units: only 5 are left to borrow (§V.3.7 "assuming availability").
    assert refused_by(c, ent, {c.id: 64, d.id: 55}) is None
    assert refused_by(c, ent, {c.id: 65, d.id: 55}) is Limit.ENTERPRISE
    # D keeps its own units even while C borrows them.
    assert refused_by(d, ent, {c.id: 100, d.id: 59}) is None


def test_no_burst_at_a_non_metered_site_or_without_a_la_carte() -> None:
    a, b = site(20, T1, metered=False), site(40, DS3, metered=True)
    assert burst_ceiling(a, enterprise(a, b)) == 20  # §V.3.5
    assert refused_by(a, enterprise(a, b), {a.id: 20}) is Limit.SITE
    m = site(20, T1, metered=True)
    assert burst_ceiling(m, enterprise(m, b, a_la_carte=False)) == 20  # §V.3.3


def test_ld_only_sites_do_not_share_with_local_and_ld_sites() -> None:
    a, b = site(20, T1, metered=True, ld_only=True), site(40, DS3, metered=True)
    assert burst_ceiling(a, enterprise(a, b)) == 20  # §V.3.4: its group is itself


def test_only_us_sites_contribute_and_burst() -> None:
    a, b = site(20, T1, metered=True), site(40, DS3, metered=True, country="CA")
    assert burst_ceiling(a, enterprise(a, b)) == 20  # §V.3.6
    assert burst_ceiling(b, enterprise(a, b)) == 40


def test_every_remote_metered_site_has_at_least_one_unit() -> None:
    a, b = site(0, T1, metered=True), site(10, T1, metered=True)
    assert refused_by(a, enterprise(a, b), {}) is None  # §V.3.10
    assert refused_by(site(0, T1), enterprise(site(0, T1)), {}) is Limit.SITE


def test_the_hubs_link_caps_the_enterprise() -> None:
    hub, remote = site(30, T1), site(30, DS3)
    ent = enterprise(hub, remote, a_la_carte=False, hub=hub.id)
    assert refused_by(remote, ent, {hub.id: 20, remote.id: 20}) is None
    assert refused_by(remote, ent, {hub.id: 21, remote.id: 20}) is Limit.HUB  # §V.3.1: 41 in all


def test_a_link_is_never_exceeded_whatever_was_bought() -> None:
    a = site(60, T1)
    assert refused_by(a, enterprise(a, a_la_carte=False), {a.id: 41}) is Limit.LINK
