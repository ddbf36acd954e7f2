"""Insights (issue 20 §3, cpaas.txt §2.2.3): dashboards filtered by location (site), time range and
party; a CSV report; the export of the current dashboards and reports (§2.3.8); saved dashboards;
alert rules and their firings. Office administrators, back-ups, developers and the operator
(Resource.INSIGHTS). docs/insights.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import event, select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Page, page_of
from centrex.insights import export
from centrex.insights.alerts import KINDS, OPS
from centrex.insights.metrics import METRICS
from centrex.insights.query import Filters, QueryError, as_json, csv_rows, dashboard
from centrex.insights.service import rules_changed
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import Site, User
from centrex.store.models.insights import InsightsAlertFiring, InsightsAlertRule, InsightsDashboard
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/insights", tags=["insights"])
RES = Resource.INSIGHTS
DEFAULT_RANGE = {"minute": timedelta(hours=1), "hour": timedelta(hours=24), "day": timedelta(days=30)}
Tier = Literal["minute", "hour", "day"]


class MetricOut(BaseModel):
    name: str
    counts: str
    total: str


class DashboardOut(BaseModel):
    filters: dict[str, Any]
    series: dict[str, list[dict[str, Any]]]
    totals: dict[str, dict[str, int]]
    sites: list[dict[str, Any]]
    parties: list[dict[str, Any]]


class SavedIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    metrics: list[str] = Field(default_factory=list, max_length=len(METRICS), description="empty: all")
    tier: Tier = "hour"
    range_hours: int = Field(24, ge=1, le=90 * 24)
    site: str = Field("", max_length=36, description="a site id, or empty for all")
    party: str = Field("", max_length=64, description="a number or extension, caller or callee")


class SavedOut(SavedIn):
    id: uuid.UUID
    created_at: datetime


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["threshold", "change"]
    metric: str = Field("", max_length=48, description="threshold: the metric (GET …/insights/metrics)")
    value: Literal["count", "total"] = "count"
    window_minutes: int = Field(5, ge=1, le=1440, description="threshold: the figure is summed over this")
    op: Literal[">", ">=", "<", "<="] = ">"
    threshold: Decimal = Field(Decimal(0), ge=0, le=Decimal("1e12"))
    event_type: str = Field("", max_length=48, description="change: e.g. message.*, call.ended, flow.step")
    field: str = Field("", max_length=48, description="change: the event's field watched, e.g. status")
    site: str = Field("", max_length=36)
    party: str = Field("", max_length=64)
    notify_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    notify_webhook: bool = False
    enabled: bool = True


class RulePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    window_minutes: int | None = Field(None, ge=1, le=1440)
    op: Literal[">", ">=", "<", "<="] | None = None
    threshold: Decimal | None = Field(None, ge=0, le=Decimal("1e12"))
    notify_user_ids: list[uuid.UUID] | None = Field(None, max_length=50)
    notify_webhook: bool | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    metric: str
    value: str
    window_minutes: int
    op: str
    threshold: Decimal
    event_type: str
    field: str
    site: str
    party: str
    notify_user_ids: list[uuid.UUID]
    notify_webhook: bool
    enabled: bool
    firing: bool
    last_value: str | None
    last_fired_at: datetime | None
    created_at: datetime


class FiringOut(BaseModel):
    id: uuid.UUID
    fired_at: datetime
    value: str
    previous: str | None
    message: str
    emailed: int
    email_detail: str
    webhook: bool


def _filters(
    data: TenantData,
    tier: str,
    start: datetime | None,
    end: datetime | None,
    metrics: str | None,
    site: str,
    party: str,
) -> Filters:
    try:
        end = datetime.now(UTC) if end is None else _utc(end)
        start = end - DEFAULT_RANGE.get(tier, timedelta(hours=24)) if start is None else _utc(start)
    except (OverflowError, ValueError):
        raise Invalid("start and end must be times between the years 1 and 9999", field="start") from None
    names = tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else tuple(METRICS)
    if site:
        _site(data, site)
    try:
        return Filters(tier, start, end, names, site, party).check()
    except QueryError as exc:
        raise Invalid(str(exc), field=exc.field) from None


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _site(data: TenantData, site: str) -> None:
    try:
        site_id = uuid.UUID(site)
    except ValueError:
        raise Invalid("site must be a site id", field="site") from None
    if (
        data.session.scalar(select(Site.id).where(Site.id == site_id, Site.tenant_id == data.tenant_id))
        is None
    ):
        raise Invalid(f"no site {site} in this tenant", field="site")


TierQ = Query(
    "hour", pattern="^(minute|hour|day)$", description="minute (real-time, 3 days), hour (14), day (90)"
)
StartQ = Query(None, description="UTC; default: an hour, a day or 30 days before end, by tier")
EndQ = Query(None, description="UTC; default now")
MetricsQ = Query(None, max_length=1000, description="comma-separated metric names; default all")
SiteQ = Query("", max_length=36, description="a site id (location)")
PartyQ = Query("", max_length=64, description="a number or extension: caller or callee, sender or recipient")


@router.get("/metrics", response_model=list[MetricOut])
def list_metrics(data: TenantDep) -> Any:
    data.require(RES, Action.READ)
    return [{"name": m, "counts": c, "total": t} for m, (c, t) in METRICS.items()]


@router.get("/dashboard", response_model=DashboardOut)
def get_dashboard(
    data: TenantDep,
    tier: str = TierQ,
    start: datetime | None = StartQ,
    end: datetime | None = EndQ,
    metrics: str | None = MetricsQ,
    site: str = SiteQ,
    party: str = PartyQ,
) -> Any:
    """Series per metric (one point per bucket with events), totals, and the top sites and parties."""
    data.require(RES, Action.READ)
    f = _filters(data, tier, start, end, metrics, site, party)
    return as_json(dashboard(data.session, data.tenant_id, f))


@router.get(
    "/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one line per metric and bucket"}},
)
def get_report_csv(
    data: TenantDep,
    tier: str = TierQ,
    start: datetime | None = StartQ,
    end: datetime | None = EndQ,
    metrics: str | None = MetricsQ,
    site: str = SiteQ,
    party: str = PartyQ,
) -> Response:
    data.require(RES, Action.READ)
    f = _filters(data, tier, start, end, metrics, site, party)
    body = export.to_csv(list(csv_rows(dashboard(data.session, data.tenant_id, f))))
    return Response(
        body,
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="insights-{f.tier}.csv"'},
    )


@router.get("/export")
def get_export(data: TenantDep) -> Any:
    """The current dashboards and reports (cpaas.txt §2.3.8), as in the tenant's archive."""
    data.require(RES, Action.READ)
    return export.bundle(data.session, data.tenant_id)


# -- saved dashboards -------------------------------------------------------------------------------
@router.get("/dashboards", response_model=Page[SavedOut])
def list_saved(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(InsightsDashboard, RES).order_by(InsightsDashboard.name, InsightsDashboard.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_saved(r) for r in rows], total, paging.limit, paging.offset)


@router.post("/dashboards", response_model=SavedOut, status_code=201)
def create_saved(body: SavedIn, data: TenantDep) -> Any:
    unknown = [m for m in body.metrics if m not in METRICS]
    if unknown:
        raise Invalid(f"unknown metric {unknown[0]!r}: one of {', '.join(METRICS)}", field="metrics")
    if body.site:
        _site(data, body.site)
    now = datetime.now(UTC)
    try:
        Filters(body.tier, now - timedelta(hours=body.range_hours), now).check()
    except QueryError as exc:
        raise Invalid(str(exc), field="range_hours") from None
    row = data.create(InsightsDashboard, "insights.dashboard.create", RES, **body.model_dump())
    return _saved(row)


@router.delete("/dashboards/{dashboard_id}", status_code=204)
def delete_saved(dashboard_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(InsightsDashboard, dashboard_id, RES), "insights.dashboard.delete", RES)


def _saved(r: InsightsDashboard) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "metrics": list(r.metrics),
        "tier": r.tier,
        "range_hours": r.range_hours,
        "site": r.site,
        "party": r.party,
        "created_at": r.created_at,
    }


# -- alert rules ------------------------------------------------------------------------------------
def _check_rule(data: TenantData, body: RuleIn) -> None:
    assert body.kind in KINDS
    if body.kind == "threshold":
        if body.metric not in METRICS:
            raise Invalid(f"metric must be one of {', '.join(METRICS)}", field="metric")
        if body.op not in OPS:
            raise Invalid("op must be one of > >= < <=", field="op")
    else:
        if not body.event_type:
            raise Invalid(
                "a change rule names the event type it watches (e.g. message.*)", field="event_type"
            )
        if not body.field:
            raise Invalid("a change rule names the field it watches (e.g. status)", field="field")
    if body.site:
        _site(data, body.site)
    _check_users(data, body.notify_user_ids)


def _check_users(data: TenantData, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        data.session.scalars(select(User.id).where(User.tenant_id == data.tenant_id, User.id.in_(ids)))
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid(f"no user {missing[0]} in this tenant", field="notify_user_ids")


def _rule(r: InsightsAlertRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "kind": r.kind,
        "metric": r.metric,
        "value": r.value,
        "window_minutes": r.window_minutes,
        "op": r.op,
        "threshold": r.threshold,
        "event_type": r.event_type,
        "field": r.field,
        "site": r.site,
        "party": r.party,
        "notify_user_ids": [uuid.UUID(u) for u in r.notify_user_ids or []],
        "notify_webhook": r.notify_webhook,
        "enabled": r.enabled,
        "firing": r.firing,
        "last_value": r.last_value,
        "last_fired_at": r.last_fired_at,
        "created_at": r.created_at,
    }


@router.get("/alerts", response_model=Page[RuleOut])
def list_rules(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(InsightsAlertRule, RES).order_by(InsightsAlertRule.name, InsightsAlertRule.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_rule(r) for r in rows], total, paging.limit, paging.offset)


@router.post("/alerts", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, data: TenantDep) -> Any:
    _check_rule(data, body)
    values = body.model_dump()
    values["notify_user_ids"] = [str(u) for u in body.notify_user_ids]
    row = data.create(InsightsAlertRule, "insights.alert.create", RES, **values)
    rules_changed_soon(data)
    return _rule(row)


@router.get("/alerts/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: uuid.UUID, data: TenantDep) -> Any:
    return _rule(data.get(InsightsAlertRule, rule_id, RES))


@router.patch("/alerts/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: uuid.UUID, body: RulePatch, data: TenantDep) -> Any:
    row = data.get(InsightsAlertRule, rule_id, RES)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "notify_user_ids" in changes:
        _check_users(data, body.notify_user_ids or [])
        changes["notify_user_ids"] = [str(u) for u in body.notify_user_ids or []]
    data.update(row, "insights.alert.update", changes, RES)
    rules_changed_soon(data)
    return _rule(row)


@router.delete("/alerts/{rule_id}", status_code=204)
def delete_rule(rule_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(InsightsAlertRule, rule_id, RES), "insights.alert.delete", RES)
    rules_changed_soon(data)


@router.get("/alerts/{rule_id}/firings", response_model=Page[FiringOut])
def list_firings(rule_id: uuid.UUID, data: TenantDep, paging: PagingDep) -> Any:
    data.get(InsightsAlertRule, rule_id, RES)
    stmt = (
        data.select(InsightsAlertFiring, RES)
        .where(InsightsAlertFiring.rule_id == rule_id)
        .order_by(InsightsAlertFiring.fired_at.desc(), InsightsAlertFiring.id)
    )
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(
        [
            {
                "id": r.id,
                "fired_at": r.fired_at,
                "value": r.value,
                "previous": r.previous,
                "message": r.message,
                "emailed": r.emailed,
                "email_detail": r.email_detail,
                "webhook": r.webhook,
            }
            for r in rows
        ],
        total,
        paging.limit,
        paging.offset,
    )


def rules_changed_soon(data: TenantData) -> None:
    """The running alert engine reloads its rules once this request's transaction commits."""
    session = data.session
    if not session.info.get("insights_hooked"):
        session.info["insights_hooked"] = True
        event.listen(session, "after_commit", lambda _s: rules_changed(), once=True)
