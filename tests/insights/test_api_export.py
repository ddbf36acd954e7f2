"""The Insights API as a tenant's administrator sees it, and the export of the current dashboards
and reports that stays downloadable for 30 days after termination (cpaas.txt §2.3.8: "For Insights,
the only information available for download will be a copy of the current dashboards and
reports"). Bad filters and rules get a 422 that names the field."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from centrex.cpaas.events import EventBus
from centrex.insights.aggregator import Aggregator
from centrex.store.db import transaction
from centrex.store.models.lifecycle import TenantLifecycle
from tests.cpaas.conftest import LiveApi, live_api  # noqa: F401  (the fixture)


def seed_events(api: LiveApi, now: datetime) -> None:
    bus = EventBus(api.app.state.sessionmaker)
    agg = Aggregator(api.app.state.sessionmaker)
    bus.add_tap(agg.tap)
    tenant = api.demo.tenant_id
    for i, (caller, callee, answered) in enumerate([("1001", "1002", True), ("1001", "+16175550100", False)]):
        cid = f"call-{i}"
        bus.emit(tenant, "call.started", {"call_id": cid, "from": caller, "dialled": callee}, at=now)
        bus.emit(
            tenant,
            "call.ended",
            {
                "call_id": cid,
                "from": caller,
                "dialled": callee,
                "disposition": "answered" if answered else "no_answer",
                "duration_ms": 30_000 if answered else 0,
            },
            at=now,
        )
    bus.emit(
        tenant, "message.received", {"from": "+16175559876", "to": "+16175550001", "segments": 1}, at=now
    )
    agg.flush()


def test_dashboards_reports_and_the_post_termination_export(live_api: LiveApi) -> None:  # noqa: F811
    api = live_api
    base = f"{api.base}/api/v1/tenants/{api.demo.tenant_id}"
    now = datetime.now(UTC)
    seed_events(api, now - timedelta(minutes=1))

    r = httpx.post(
        f"{base}/insights/dashboards",
        json={
            "name": "Front desk",
            "metrics": ["calls.started", "calls.ended"],
            "tier": "hour",
            "party": "1001",
        },
        headers=api.admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{base}/insights/alerts",
        json={"name": "Missed calls", "kind": "threshold", "metric": "calls.unanswered", "threshold": 5},
        headers=api.admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.json()["op"] == ">" and r.json()["firing"] is False

    r = httpx.get(f"{base}/insights/dashboard", params={"tier": "hour"}, headers=api.admin, timeout=30)
    assert r.status_code == 200
    assert r.json()["totals"]["calls.started"] == {"count": 2, "total": 0}
    assert r.json()["totals"]["calls.ended"] == {"count": 2, "total": 30_000}
    r = httpx.get(f"{base}/insights/report.csv", params={"tier": "day"}, headers=api.admin, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert {(x["metric"], x["count"]) for x in lines} >= {("calls.started", "2"), ("messages.received", "1")}

    exported = httpx.get(f"{base}/insights/export", headers=api.admin, timeout=30).json()
    assert [d["name"] for d in exported["dashboards"]] == ["Overview", "Front desk"]
    front = exported["dashboards"][1]["data"]
    assert front["filters"]["party"] == "1001" and set(front["totals"]) == {"calls.started", "calls.ended"}
    assert front["totals"]["calls.started"]["count"] == 2
    assert exported["reports"]["daily"]["totals"]["messages.received"]["count"] == 1
    assert [a["name"] for a in exported["alerts"]] == ["Missed calls"]

    # Terminated: the archive still has the dashboards and reports for 30 days.
    r = httpx.patch(base, json={"status": "terminated"}, headers=api.operator, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.get(f"{base}/export", headers=api.admin, timeout=60)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        assert {
            "insights/dashboards.json",
            "insights/reports.json",
            "insights/alerts.json",
            "insights/daily.csv",
            "insights/hourly.csv",
        } <= names
        assert not any(n.startswith("tables/insights_") for n in names)  # the dashboards, not the rows
        boards = json.loads(zf.read("insights/dashboards.json"))
        assert [b["name"] for b in boards] == ["Overview", "Front desk"]
        assert boards[1]["data"]["totals"]["calls.ended"] == {"count": 2, "total": 30_000}
        daily = list(csv.DictReader(io.StringIO(zf.read("insights/daily.csv").decode())))
        assert {(x["metric"], x["tier"], x["count"]) for x in daily} >= {("calls.unanswered", "day", "1")}
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["insights"]["dashboards"] == 2 and manifest["insights"]["daily_rows"] == len(daily)
    with transaction(api.app.state.sessionmaker) as s:  # 31 days later the window is closed
        row = s.scalar(
            select(TenantLifecycle).where(TenantLifecycle.tenant_id == uuid.UUID(str(api.demo.tenant_id)))
        )
        assert row is not None and row.terminated_at is not None
        row.terminated_at -= timedelta(days=31)
    r = httpx.get(f"{base}/export", headers=api.admin, timeout=60)
    assert r.status_code == 409 and "cpaas.txt §2.3.8" in r.text


def test_bad_filters_and_rules_get_422_naming_the_field(live_api: LiveApi) -> None:  # noqa: F811
    api = live_api
    base = f"{api.base}/api/v1/tenants/{api.demo.tenant_id}/insights"

    def field_of(r: httpx.Response) -> str:
        assert r.status_code == 422, r.text
        body = r.json()
        return str(body.get("field") or body)

    now = datetime.now(UTC)
    assert "tier" in field_of(httpx.get(f"{base}/dashboard", params={"tier": "week"}, headers=api.admin))
    params = {"tier": "hour", "start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()}
    assert field_of(httpx.get(f"{base}/dashboard", params=params, headers=api.admin)) == "end"
    params = {"tier": "minute", "start": (now - timedelta(days=3)).isoformat()}
    assert field_of(httpx.get(f"{base}/dashboard", params=params, headers=api.admin)) == "start"
    assert (
        field_of(httpx.get(f"{base}/dashboard", params={"metrics": "calls.x"}, headers=api.admin))
        == "metrics"
    )
    assert field_of(httpx.get(f"{base}/dashboard", params={"site": "Boston"}, headers=api.admin)) == "site"
    assert (
        field_of(httpx.get(f"{base}/dashboard", params={"site": str(uuid.uuid4())}, headers=api.admin))
        == "site"
    )
    rule = {"name": "r", "kind": "threshold", "metric": "calls.nope"}
    assert field_of(httpx.post(f"{base}/alerts", json=rule, headers=api.admin)) == "metric"
    rule = {"name": "r", "kind": "change", "event_type": "message.*"}
    assert field_of(httpx.post(f"{base}/alerts", json=rule, headers=api.admin)) == "field"
    rule = {
        "name": "r",
        "kind": "threshold",
        "metric": "calls.started",
        "notify_user_ids": [str(uuid.uuid4())],
    }
    assert field_of(httpx.post(f"{base}/alerts", json=rule, headers=api.admin)) == "notify_user_ids"
    assert "kind" in field_of(
        httpx.post(f"{base}/alerts", json={"name": "r", "kind": "sometimes"}, headers=api.admin)
    )
