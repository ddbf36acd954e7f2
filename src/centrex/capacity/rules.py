"""Simultaneous calling capacity: what a site's link carries, what it may burst to, and which limit
a new call would pass. Pure functions over plain data; the switch service (capacity/admission.py)
feeds them the live counts.

Sources: voip-service-guide.txt §2.2 (41 simultaneous calls on a 1.5 Mbps T1), §V.3.1-§V.3.11
(Burstable Enterprise Shared Trunks, "BEST").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

T1_KBPS = 1536
T1_MAX_CALLS = 41
"""voip-service-guide.txt §2.2: "up to a maximum of 41 simultaneous calls on a 1.5 Mbps T1" — the
contract's figure, whatever a codec formula would say."""

BURST_ABOVE_OWN = 50
"""voip-service-guide.txt §V.3.7: "subject in any case to a maximum of fifty (50) simultaneous calls
in addition to what is provisioned at any single location"."""

DEFAULT_LINKS: tuple[tuple[int, int], ...] = (
    (384, 10),
    (768, 20),
    (T1_KBPS, T1_MAX_CALLS),
    (2 * T1_KBPS, 2 * T1_MAX_CALLS),
    (44_736, 1_194),  # DS3: 29 T1s' worth at the contract's T1 figure
)
"""Links by bandwidth (kbps → most simultaneous calls) when the operator has set none: the
contract's T1 figure (41 per 1,536 kbps) scaled, never a codec formula. §V.3.8: sites report their
bandwidth and the provider configures the maximum — the operator replaces this table by API."""


class Limit(StrEnum):
    """Which limit refused a call; named in the 503's Reason header and the blocked-call counts."""

    SITE = "site"  # the site's own units, no burst allowed (non-metered, not à la carte, not US)
    BURST = "burst"  # the site's burst ceiling (§V.3.7)
    ENTERPRISE = "enterprise"  # the shared pool of units bought across the enterprise
    LINK = "link"  # the site's link
    HUB = "hub"  # the hub's link carries the whole enterprise (§V.3.1)


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    id: uuid.UUID
    units: int
    bandwidth_kbps: int
    metered: bool = False
    ld_only: bool = False  # calling_scope "ld-only" (§V.3.4)
    country: str = "US"
    name: str = ""


@dataclass(frozen=True)
class Enterprise:
    tenant_id: uuid.UUID
    a_la_carte: bool
    sites: Mapping[uuid.UUID, SiteCapacity]
    hub_site_id: uuid.UUID | None = None
    links: Sequence[tuple[int, int]] = field(default=DEFAULT_LINKS)

    @cached_property
    def pools(self) -> dict[bool, int]:
        """Units bought by each sharing group (keyed by ``ld_only``), computed once per load."""
        pools = {False: 0, True: 0}
        for s in self.sites.values():
            if may_burst(s, self):
                pools[s.ld_only] += own_units(s)
        return pools


def group_key(site: SiteCapacity, enterprise: Enterprise) -> bool | None:
    """The sharing group a site's calls count in (None: it shares with nobody)."""
    return site.ld_only if may_burst(site, enterprise) else None


def link_max_calls(bandwidth_kbps: int, links: Sequence[tuple[int, int]] = DEFAULT_LINKS) -> int:
    """The most calls a link carries: the row of the largest bandwidth not above the site's.

    voip-service-guide.txt §2.2 (T1: 41) and §V.3.8 (configured from the bandwidth the customer
    reports). A link slower than every row carries the first row's share (41 per T1), at least 1.
    """
    best: int | None = None
    for kbps, calls in sorted(links):
        if kbps <= bandwidth_kbps:
            best = calls
    if best is not None:
        return best
    return max(1, bandwidth_kbps * T1_MAX_CALLS // T1_KBPS)


def own_units(site: SiteCapacity) -> int:
    """§V.3.10: "Every remote site will receive an allocation of at least one metered simultaneous
    call to be able to participate in the sharing." Non-metered sites keep what they bought."""
    return max(1, site.units) if site.metered else max(0, site.units)


def may_burst(site: SiteCapacity, enterprise: Enterprise) -> bool:
    """§V.3.3 metered capacity only with the à-la-carte plan; §V.3.5 no bursting at non-metered
    sites; §V.3.6 only U.S. sites."""
    return enterprise.a_la_carte and site.metered and site.country.upper() == "US"


def sharing_group(site: SiteCapacity, enterprise: Enterprise) -> list[SiteCapacity]:
    """The sites whose units a site may share: metered U.S. sites of the same calling scope.

    §V.3.3 "Only metered locations ... burst using available simultaneous call capacity from other
    Customer metered ... sites"; §V.3.4 no sharing between local+LD and LD-only sites; §V.3.6 "only
    the simultaneous call units at U.S. sites contribute to the total".
    """
    return [s for s in enterprise.sites.values() if may_burst(s, enterprise) and s.ld_only == site.ld_only]


def burst_ceiling(site: SiteCapacity, enterprise: Enterprise) -> int:
    """The most simultaneous calls a site may carry. §V.3.7: the least of the link's maximum, its own
    units + 50, and the units bought across the (sharing) enterprise. Without bursting: its own units
    and its link. The contract's examples: 20 units on a T1 beside 40 on a DS3 → 41; 60 on a DS3
    beside 60 on a DS3 → 110 (tests/capacity/test_rules.py)."""
    link = link_max_calls(site.bandwidth_kbps, enterprise.links)
    own = own_units(site)
    if not may_burst(site, enterprise):
        return min(own, link)
    return min(link, own + BURST_ABOVE_OWN, enterprise.pools[site.ld_only])


def refused_by(
    site: SiteCapacity,
    enterprise: Enterprise,
    active: Mapping[uuid.UUID, int],
) -> Limit | None:
    """Which limit one more call at ``site`` would pass (None: it fits). ``active`` is the calls in
    progress per site of the enterprise, this call not included. (The switch keeps the group and
    enterprise totals as it goes and calls ``refused_by_counts``.)"""
    key = group_key(site, enterprise)
    group = sum(
        n
        for sid, n in active.items()
        if sid in enterprise.sites and group_key(enterprise.sites[sid], enterprise) == key
    )
    total = sum(n for sid, n in active.items() if sid in enterprise.sites)
    return refused_by_counts(site, enterprise, active.get(site.id, 0), group if key is not None else 0, total)


def refused_by_counts(
    site: SiteCapacity, enterprise: Enterprise, here: int, group: int, total: int
) -> Limit | None:
    """Which limit one more call at ``site`` would pass, from the calls in progress at the site
    (``here``), in its sharing group (``group``) and in the whole enterprise (``total``).

    A burst uses units other sites are not using: the sharing group's calls together stay within
    the units it bought (§V.3.7 "total number of simultaneous calling units purchased"); a site
    within its own units is never refused for the pool (what it bought stays its own). With all
    traffic aggregated at a hub, the hub's link caps the enterprise (§V.3.1).
    """
    if here + 1 > link_max_calls(site.bandwidth_kbps, enterprise.links):
        return Limit.LINK
    own = own_units(site)
    if not may_burst(site, enterprise):
        if here + 1 > own:
            return Limit.SITE
    elif here + 1 > own:
        if here + 1 > burst_ceiling(site, enterprise):
            return Limit.BURST
        if group + 1 > enterprise.pools[site.ld_only]:
            return Limit.ENTERPRISE
    hub = enterprise.sites.get(enterprise.hub_site_id) if enterprise.hub_site_id else None
    if hub is not None and total + 1 > link_max_calls(hub.bandwidth_kbps, enterprise.links):
        return Limit.HUB
    return None
