"""Reading the aggregates: a dashboard's series, totals and top parties and sites, filtered by
location (site), time range and party (cpaas.txt §2.2.3 "including filters by location, time, and
caller/calling party"). Every query is scoped to one tenant (the caller's TenantData)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from centrex.insights.metrics import METRICS
from centrex.insights.tiers import STEP, TIERS, floor
from centrex.store.models import Site
from centrex.store.models.insights import InsightsAggregate

MAX_POINTS = 2000  # buckets per series (a 90-day range in days, 14 days in hours, 33 h in minutes)
TOP = 10


class QueryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    tier: str
    start: datetime
    end: datetime
    metrics: tuple[str, ...] = tuple(METRICS)
    site: str = ""
    party: str = ""

    def check(self) -> Filters:
        if self.tier not in TIERS:
            raise QueryError("tier", f"tier must be one of {', '.join(TIERS)}")
        if self.end <= self.start:
            raise QueryError("end", "end must be after start")
        if (self.end - self.start) / STEP[self.tier] > MAX_POINTS:
            raise QueryError(
                "start", f"at most {MAX_POINTS} {self.tier} buckets: narrow the range or use a coarser tier"
            )
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise QueryError("metrics", f"unknown metric {unknown[0]!r}: one of {', '.join(METRICS)}")
        return self


@dataclass
class Dashboard:
    filters: Filters
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)


def _where(tenant_id: uuid.UUID, f: Filters) -> list[Any]:
    agg = InsightsAggregate
    where: list[Any] = [
        agg.tenant_id == tenant_id,
        agg.tier == f.tier,
        agg.bucket_start >= floor(f.start, f.tier),
        agg.bucket_start < f.end,
        agg.metric.in_(f.metrics),
    ]
    if f.site:
        where.append(agg.site == f.site)
    if f.party:
        where.append(or_(agg.party_from == f.party, agg.party_to == f.party))
    return where


def dashboard(s: Session, tenant_id: uuid.UUID, f: Filters) -> Dashboard:
    f.check()
    agg = InsightsAggregate
    where = _where(tenant_id, f)
    out = Dashboard(
        f, series={m: [] for m in f.metrics}, totals={m: {"count": 0, "total": 0} for m in f.metrics}
    )
    rows = s.execute(
        select(agg.metric, agg.bucket_start, func.sum(agg.count), func.sum(agg.total))
        .where(*where)
        .group_by(agg.metric, agg.bucket_start)
        .order_by(agg.metric, agg.bucket_start)
    )
    for metric, start, count, total in rows:
        out.series[metric].append({"t": start, "count": int(count), "total": int(total)})
        out.totals[metric]["count"] += int(count)
        out.totals[metric]["total"] += int(total)
    names: dict[Any, str] = dict(
        s.execute(select(Site.id, Site.name).where(Site.tenant_id == tenant_id)).all()
    )
    for site, count in s.execute(
        select(agg.site, func.sum(agg.count))
        .where(*where)
        .group_by(agg.site)
        .order_by(func.sum(agg.count).desc())
        .limit(TOP)
    ):
        name = next((n for i, n in names.items() if str(i) == site), site) if site else "(no site)"
        out.sites.append({"site": site, "name": name, "count": int(count)})
    party_counts: dict[str, int] = {}
    for column in (agg.party_from, agg.party_to):
        for party, count in s.execute(select(column, func.sum(agg.count)).where(*where).group_by(column)):
            if party:
                party_counts[party] = party_counts.get(party, 0) + int(count)
    top = sorted(party_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    out.parties = [{"party": p, "count": c} for p, c in top]
    return out


def as_json(d: Dashboard) -> dict[str, Any]:
    f = d.filters
    return {
        "filters": {
            "tier": f.tier,
            "start": f.start.isoformat(),
            "end": f.end.isoformat(),
            "metrics": list(f.metrics),
            "site": f.site,
            "party": f.party,
        },
        "series": {m: [{**p, "t": p["t"].isoformat()} for p in pts] for m, pts in d.series.items()},
        "totals": d.totals,
        "sites": d.sites,
        "parties": d.parties,
    }


def csv_rows(d: Dashboard) -> Sequence[dict[str, Any]]:
    """One line per (metric, bucket): what a spreadsheet wants."""
    return [
        {
            "metric": m,
            "bucket_start": p["t"].isoformat(),
            "tier": d.filters.tier,
            "count": p["count"],
            "total": p["total"],
        }
        for m, pts in d.series.items()
        for p in pts
    ]
