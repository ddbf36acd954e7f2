"""Capacity admission: a service of the call core (calls/services.py) that counts the calls using
each site's access and refuses one more than the site, its burst or its enterprise may carry.

What is counted (voip-service-guide.txt §2.2: a site's simultaneous calling capacity is "based on
the transport capacity" — its data access): every call that crosses the site's link —
- a phone's call off the switch (to the public network), at the phone's site, and an IP-trunking
  tenant's call off the switch from its PBX trunk, at the trunk's site (``admit``);
- a call from a trunk (carrier or the tenant's PBX trunk) to a user, at the user's site;
- a call between phones of two sites of the tenant, at both sites (``deliver`` of a user).
A call between two phones of one site never leaves its LAN and is not counted. 911 is neither
counted against nor refused (e911/policy.py; the core never asks ``admit`` for it).

A call over a limit gets 503 with an RFC 3326 Reason naming the limit and the site, and no
Retry-After (a PBX trunk would retry at once, RFC 3261 §21.5.4). Each refusal is counted per site
and limit for the operator and the tenant (§V.3.11 says the provider cannot tell which location
hit the limit; the switch can).

The counts are this process's (one switch node); the store side (capacity/storage.py) gives the
limits and keeps the blocked-call counts.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Protocol

from centrex.calls.model import Call
from centrex.calls.services import CallService, Destination, Refusal
from centrex.capacity.rules import Enterprise, Limit, group_key, refused_by_counts
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import DestinationKind

log = logging.getLogger(__name__)

FLUSH_S = 5.0


@dataclass(frozen=True, slots=True)
class Blocked:
    tenant_id: uuid.UUID
    site_id: uuid.UUID
    limit: str
    count: int
    last_at: float  # the switch clock; the store stamps wall time


class CapacitySource(Protocol):
    def enterprise(self, tenant_id: uuid.UUID, now: float) -> Enterprise | None: ...
    def record_blocked(self, blocked: list[Blocked]) -> None: ...


LIMIT_TEXT = {
    Limit.SITE: "site capacity",
    Limit.BURST: "site burst capacity",
    Limit.ENTERPRISE: "enterprise shared capacity",
    Limit.LINK: "site link capacity",
    Limit.HUB: "hub link capacity",
}


def capacity_refusal(limit: Limit, site_name: str) -> Refusal:
    return Refusal(503, f"capacity_{limit.value}", f"Service Unavailable ({LIMIT_TEXT[limit]}: {site_name})")


class CapacityAdmission(CallService):
    name = "capacity"

    def __init__(self, source: CapacitySource | None = None) -> None:
        self.source = source
        self.active: dict[uuid.UUID, Counter[uuid.UUID]] = defaultdict(Counter)  # tenant → site → calls
        self.groups: dict[uuid.UUID, Counter[bool | None]] = defaultdict(Counter)  # tenant → group → calls
        self.totals: Counter[uuid.UUID] = Counter()  # tenant → calls (a call at two sites counts twice)
        self.by_call: dict[uuid.UUID, list[tuple[uuid.UUID, bool | None]]] = {}  # call → (site, group)
        self.blocked: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[int, float]] = {}
        self._pending: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[int, float]] = {}
        self._flush_at = 0.0

    # -- hooks -------------------------------------------------------------------------------
    def admit(self, call: Call, now: float) -> Refusal | None:
        # A phone's call, or an IP-trunking tenant's from its PBX trunk at the trunk's site (§V.9).
        if (call.device is None and call.trunk is None) or call.site_id is None or not self._off_net(call):
            return None
        return self._take(call, [call.site_id], now)

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        """Counts a call reaching a user across a site's link; refuses it (and takes the
        destination) when that site is full, else lets the user routing have it."""
        if destination.kind != "user" or self.source is None:
            return False
        site = getattr(destination.value, "site_id", None)
        if site is None:
            return False
        if call.trunk is not None:
            sites = [site]
        elif call.device is not None and call.site_id is not None and call.site_id != site:
            sites = [call.site_id, site]
        else:
            return False
        refusal = self._take(call, sites, now)
        if refusal is None:
            return False
        extra = [("Reason", f'SIP;cause={refusal.status};text="{refusal.reason}"')]
        self.core.reject(call, refusal.status, now, "rejected", refusal.cause, refusal.reason, extra=extra)
        return True

    def ended(self, call: Call, now: float) -> None:
        sites = self.by_call.pop(call.id, None)
        if not sites:
            return
        tenant = call.tenant.id
        counts, groups = self.active[tenant], self.groups[tenant]
        for site, group in sites:
            counts[site] -= 1
            groups[group] -= 1
            self.totals[tenant] -= 1
            if counts[site] <= 0:
                del counts[site]

    def next_timer(self) -> float | None:
        return self._flush_at if self._pending else None

    def tick(self, now: float) -> None:
        if self._pending and now >= self._flush_at:
            self.flush()

    # -- reading ----------------------------------------------------------------------------
    def site_calls(self, tenant_id: uuid.UUID) -> dict[uuid.UUID, int]:
        return dict(self.active.get(tenant_id, {}))

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending or self.source is None:
            return
        rows = [Blocked(t, s, lim, n, at) for (t, s, lim), (n, at) in pending.items()]
        try:
            self.source.record_blocked(rows)
        except Exception:
            log.exception("capacity.blocked.write_failed rows=%d", len(rows))

    # -- the rule ---------------------------------------------------------------------------
    def _off_net(self, call: Call) -> bool:
        c = call.classification
        if c.call_class in (CallClass.ON_NET, CallClass.INVALID) or c.blocked:
            return False
        if c.kind is DestinationKind.E164:
            # A number of the caller's own tenant is an on-net call (CallEngine.route_new).
            return self.core.directory.user_by_number(call.tenant.id, c.destination) is None
        return c.kind is DestinationKind.SERVICE_CODE

    def _take(self, call: Call, sites: list[uuid.UUID], now: float) -> Refusal | None:
        if self.source is None or not may_refuse(call.classification.call_class, RefusalGround.CAPACITY):
            return None
        counted = self.by_call.get(call.id, [])
        sites = [s for s in sites if all(s != c for c, _ in counted)]
        if not sites:
            return None
        enterprise = self.source.enterprise(call.tenant.id, now)
        if enterprise is None:
            return None
        tenant = call.tenant.id
        counts, groups = self.active[tenant], self.groups[tenant]
        taken: list[tuple[uuid.UUID, bool | None]] = []
        for site_id in sites:
            site = enterprise.sites.get(site_id)
            if site is None:
                continue
            key = group_key(site, enterprise)
            here = counts.get(site_id, 0)
            limit = refused_by_counts(
                site, enterprise, here, groups.get(key, 0) if key is not None else 0, self.totals[tenant]
            )
            if limit is not None:
                self._count_blocked(tenant, site_id, limit, now)
                log.info(
                    "capacity.refused call=%s tenant=%s site=%s limit=%s active=%d",
                    call.id,
                    tenant,
                    site_id,
                    limit.value,
                    here,
                )
                return capacity_refusal(limit, site.name or str(site_id))
            taken.append((site_id, key))
        for site_id, key in taken:
            counts[site_id] += 1
            groups[key] += 1
            self.totals[tenant] += 1
        self.by_call[call.id] = counted + taken
        return None

    def _count_blocked(self, tenant_id: uuid.UUID, site_id: uuid.UUID, limit: Limit, now: float) -> None:
        key = (tenant_id, site_id, limit.value)
        n, _ = self.blocked.get(key, (0, now))
        self.blocked[key] = (n + 1, now)
        p, _ = self._pending.get(key, (0, now))
        if not self._pending:
            self._flush_at = now + FLUSH_S
        self._pending[key] = (p + 1, now)
