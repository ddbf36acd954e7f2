"""The store side of capacity admission: a tenant's sites and hub as capacity/rules.py needs them
(cached 2 s, as routing/storage.py caches routes), and the blocked-call counts written in batches."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.capacity.admission import Blocked
from centrex.capacity.rules import DEFAULT_LINKS, Enterprise, SiteCapacity
from centrex.store.db import transaction
from centrex.store.models import Site, Tenant
from centrex.store.models.admission import CapacityBlock, CapacitySettings, LinkCapacity
from centrex.store.models.enums import CallingScope, PricingPlan

CACHE_S = 2.0


def load_enterprise(session: Session, tenant_id: uuid.UUID) -> Enterprise | None:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    sites = {
        s.id: SiteCapacity(
            s.id,
            s.calling_units,
            s.bandwidth_kbps,
            metered=s.metered,
            ld_only=s.calling_scope is CallingScope.LD_ONLY,
            country=s.country,
            name=s.name,
        )
        for s in session.scalars(select(Site).where(Site.tenant_id == tenant_id))
    }
    hub = session.scalar(select(CapacitySettings.hub_site_id).where(CapacitySettings.tenant_id == tenant_id))
    links = [(r.bandwidth_kbps, r.max_calls) for r in session.scalars(select(LinkCapacity))]
    return Enterprise(
        tenant_id,
        a_la_carte=tenant.pricing_plan is PricingPlan.A_LA_CARTE,
        sites=sites,
        hub_site_id=hub,
        links=tuple(links) or DEFAULT_LINKS,
    )


class StoreCapacity:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._cache: dict[uuid.UUID, tuple[float, Enterprise | None]] = {}
        self.ttl_s = CACHE_S  # tests set 0

    def enterprise(self, tenant_id: uuid.UUID, now: float) -> Enterprise | None:
        hit = self._cache.get(tenant_id)
        mono = time.monotonic()
        if hit is not None and mono - hit[0] < self.ttl_s:
            return hit[1]
        with self.sessions() as session:
            value = load_enterprise(session, tenant_id)
        self._cache[tenant_id] = (mono, value)
        return value

    def record_blocked(self, blocked: list[Blocked]) -> None:
        at = datetime.now(UTC)
        with transaction(self.sessions) as session:
            for b in blocked:
                row = session.scalar(
                    select(CapacityBlock).where(
                        CapacityBlock.tenant_id == b.tenant_id,
                        CapacityBlock.site_id == b.site_id,
                        CapacityBlock.limit_kind == b.limit,
                    )
                )
                if row is None:
                    row = CapacityBlock(
                        tenant_id=b.tenant_id,
                        site_id=b.site_id,
                        limit_kind=b.limit,
                        blocked=0,
                        last_blocked_at=at,
                    )
                    session.add(row)
                row.blocked += b.count
                row.last_blocked_at = at
