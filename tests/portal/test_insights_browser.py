"""The Insights page in a real browser (issue 20 §3): playwright-core drives Debian's chromium
against a real `centrex serve` whose database holds a day of counted calls and messages (counted by
the same aggregator the service runs). The office administrator opens Insights from the menu, sees
the totals and the charts drawn, filters by location, by party and to the real-time tier (the
totals follow), downloads the CSV report, and adds an alert rule (checked through the API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from centrex.cpaas.events import EventBus
from centrex.insights.aggregator import Aggregator
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Site
from tests.portal.test_portal_browser import CHROMIUM, PORTAL, centrex_serve, cli

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: run scripts/test"),
    pytest.mark.skipif(
        not (PORTAL / "node_modules" / "playwright-core").is_dir() or shutil.which("node") is None,
        reason="portal/node_modules missing: run scripts/test (npm ci in portal/)",
    ),
]


def seed(data: Path, tenant_id: str) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    sessions = make_sessionmaker(engine)
    tid = uuid.UUID(tenant_id)
    with transaction(sessions) as s:
        home = s.scalars(select(Site).where(Site.tenant_id == tid)).first()
        denver = Site(
            tenant_id=tid,
            name="Denver office",
            street="1 Larimer St",
            city="Denver",
            state="CO",
            postal_code="80202",
            npa_nxx="303555",
        )
        s.add(denver)
        s.flush()
        site_a, site_b = ("" if home is None else str(home.id)), str(denver.id)
    bus = EventBus(sessions)
    agg = Aggregator(sessions)
    bus.add_tap(agg.tap)
    now = datetime.now(UTC)
    older, recent = now - timedelta(hours=3), now - timedelta(minutes=10)
    calls = [(f"old-{i}", "1002", "1003", site_b, older, False) for i in range(2)]
    calls += [(f"new-{i}", "1001", "+16175550100", site_a, recent, True) for i in range(3)]
    for call_id, caller, callee, site, at, answered in calls:
        bus.emit(
            tid,
            "call.started",
            {"call_id": call_id, "from": caller, "dialled": callee, "site_id": site},
            at=at,
        )
        bus.emit(
            tid,
            "call.ended",
            {
                "call_id": call_id,
                "from": caller,
                "dialled": callee,
                "disposition": "answered" if answered else "no_answer",
                "duration_ms": 90_000 if answered else 0,
            },
            at=at,
        )
    for _ in range(4):
        bus.emit(
            tid, "message.delivered", {"from": "+16175550001", "to": "+16175559876", "segments": 1}, at=older
        )
    agg.flush()
    engine.dispose()
    return {
        "site_b_name": "Denver office",
        "party": "+16175550100",
        "all": {"calls": 5, "unanswered": 2, "delivered": 4},
        "site_b": {"calls": 2, "unanswered": 2, "delivered": 0},
        "by_party": {"calls": 3, "unanswered": 0, "delivered": 0},
        "last_hour": {"calls": 3, "unanswered": 0, "delivered": 0},
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any], Path]]:
    data = tmp_path_factory.mktemp("insights-portal")
    cli(data, "db", "upgrade")
    demo = json.loads(cli(data, "demo", "--json"))
    ctx = {"tenant_id": demo["tenant_id"], "office_admin_token": demo["office_admin_token"]}
    ctx.update(seed(data, demo["tenant_id"]))
    with centrex_serve(data) as url:
        yield url, ctx, data


def test_the_dashboard_shows_charts_and_follows_its_filters(served: tuple[str, dict[str, Any], Path]) -> None:
    url, ctx, data = served
    env = {
        **os.environ,
        "CENTREX_URL": url,
        "CENTREX_CTX": json.dumps(ctx),
        "CENTREX_FAIL_SHOT": str(data / "failed-insights.png"),
    }
    out = subprocess.run(
        ["node", "tests/insights.mjs"], cwd=PORTAL, env=env, capture_output=True, text=True, timeout=300
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0 and "PASS insights" in out.stdout, report
    assert (
        "ok: the last 24 hours, every location: 5 calls, 2 not answered, 4 messages delivered" in out.stdout
    )
    assert (
        "ok: filtered by location Denver office: 2 calls, 2 not answered, 0 messages delivered" in out.stdout
    )
    assert "ok: filtered by party +16175550100: 3 calls" in out.stdout
    assert "ok: the real-time tier, last hour: 3 calls" in out.stdout
    assert "ok: the calls chart has ink" in out.stdout
    assert "ok: the CSV report downloads with the minute buckets" in out.stdout
    assert "ok: the API has the alert rule" in out.stdout
