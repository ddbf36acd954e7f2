"""The copy of a tenant's current Insights dashboards and reports (cpaas.txt §2.3.8: "For Insights,
the only information available for download will be a copy of the current dashboards and reports").

``bundle`` renders, as of ``now``:
- ``dashboards``: the built-in Overview (the last 24 hours, hourly) and every saved dashboard over
  its own range, filters and metrics — what the portal shows;
- ``reports``: the daily report (the last 90 days, every metric: the daily tier's whole life) and
  the hourly report (the last 14 days), as rows; and the alert rules with their firings.

``write_insights`` puts it into the tenant's archive (ops/tenant_export.py) as ``insights/*.json``
and ``insights/*.csv``; the raw aggregate rows are not exported (``INSIGHTS_TABLES``): the contract
promises the dashboards and reports, which are made from them. The API serves the same bundle
(GET …/insights/export, JSON; …/insights/report.csv).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.insights.metrics import METRICS
from centrex.insights.query import Filters, QueryError, as_json, csv_rows, dashboard
from centrex.insights.tiers import DAY, HOUR, RETENTION, floor
from centrex.store.models.insights import InsightsAlertFiring, InsightsAlertRule, InsightsDashboard

INSIGHTS_TABLES = frozenset(
    {"insights_aggregates", "insights_dashboards", "insights_alert_rules", "insights_alert_firings"}
)
OVERVIEW = "Overview"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def report(s: Session, tenant_id: uuid.UUID, tier: str, now: datetime) -> Any:
    """The report of ``tier`` (hour or day) over the tier's whole retention period."""
    end = floor(now, tier) + (timedelta(hours=1) if tier == HOUR else timedelta(days=1))
    return dashboard(s, tenant_id, Filters(tier, end - RETENTION[tier], end))


def saved_dashboards(s: Session, tenant_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    out = [
        {
            "name": OVERVIEW,
            "data": as_json(dashboard(s, tenant_id, Filters(HOUR, now - timedelta(hours=24), now))),
        }
    ]
    rows = s.scalars(
        select(InsightsDashboard)
        .where(InsightsDashboard.tenant_id == tenant_id)
        .order_by(InsightsDashboard.name)
    )
    for d in rows:
        f = Filters(
            d.tier,
            now - timedelta(hours=d.range_hours),
            now,
            tuple(d.metrics) or tuple(METRICS),
            d.site,
            d.party,
        )
        try:
            shown = as_json(dashboard(s, tenant_id, f))
        except QueryError as exc:  # a dashboard saved before a rule changed: say why, export the rest
            out.append({"id": str(d.id), "name": d.name, "error": str(exc)})
            continue
        out.append({"id": str(d.id), "name": d.name, "data": shown})
    return out


def alerts(s: Session, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    rules = s.scalars(
        select(InsightsAlertRule)
        .where(InsightsAlertRule.tenant_id == tenant_id)
        .order_by(InsightsAlertRule.name)
    ).all()
    firings: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for f in s.scalars(
        select(InsightsAlertFiring)
        .where(InsightsAlertFiring.tenant_id == tenant_id)
        .order_by(InsightsAlertFiring.fired_at)
    ):
        firings.setdefault(f.rule_id, []).append(
            {"fired_at": _iso(f.fired_at), "value": f.value, "previous": f.previous, "message": f.message}
        )
    return [
        {
            "id": str(r.id),
            "name": r.name,
            "kind": r.kind,
            "metric": r.metric,
            "op": r.op,
            "threshold": str(r.threshold),
            "window_minutes": r.window_minutes,
            "event_type": r.event_type,
            "field": r.field,
            "site": r.site,
            "party": r.party,
            "enabled": r.enabled,
            "firings": firings.get(r.id, []),
        }
        for r in rules
    ]


def bundle(s: Session, tenant_id: uuid.UUID, now: datetime | None = None) -> dict[str, Any]:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "made_at": now.isoformat(),
        "rule": "cpaas.txt §2.3.8",
        "dashboards": saved_dashboards(s, tenant_id, now),
        "reports": {
            "daily": as_json(report(s, tenant_id, DAY, now)),
            "hourly": as_json(report(s, tenant_id, HOUR, now)),
        },
        "alerts": alerts(s, tenant_id),
    }


def to_csv(
    rows: list[dict[str, Any]], fields: tuple[str, ...] = ("metric", "tier", "bucket_start", "count", "total")
) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k) for k in fields})
    return out.getvalue()


def write_insights(zf: zipfile.ZipFile, s: Session, tenant_id: uuid.UUID, now: datetime) -> dict[str, int]:
    """The bundle into an open archive; returns what it wrote (for the manifest)."""
    made = bundle(s, tenant_id, now)
    zf.writestr("insights/dashboards.json", json.dumps(made["dashboards"], indent=1))
    zf.writestr("insights/reports.json", json.dumps(made["reports"], indent=1))
    zf.writestr("insights/alerts.json", json.dumps(made["alerts"], indent=1))
    daily = list(csv_rows(report(s, tenant_id, DAY, now)))
    hourly = list(csv_rows(report(s, tenant_id, HOUR, now)))
    zf.writestr("insights/daily.csv", to_csv(daily))
    zf.writestr("insights/hourly.csv", to_csv(hourly))
    return {"dashboards": len(made["dashboards"]), "daily_rows": len(daily), "hourly_rows": len(hourly)}
