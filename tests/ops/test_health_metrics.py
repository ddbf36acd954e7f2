"""Issue 19 §1 on the HTTP port, against the real app on SQLite and PostgreSQL: /livez answers
without the database, /readyz and /healthz say ready or not to anyone and show the components only
to an operator, /metrics is for the allowed addresses or an operator, and the API latency histogram
counts requests by route template and status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from centrex.api.app import create_app
from centrex.config import SettingsError, load_settings
from centrex.ops.demo import seed_demo
from centrex.ops.metrics import Metrics
from centrex.store.db import make_engine, make_sessionmaker, transaction


@dataclass
class Api:
    client: TestClient
    tenant_id: str
    operator: dict[str, str]
    admin: dict[str, str]


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        demo = seed_demo(session, tmp_path)
    app = create_app(engine=engine)
    with TestClient(app) as client:
        yield Api(
            client,
            demo.tenant_id,
            {"Authorization": f"Bearer {demo.operator_token}"},
            {"Authorization": f"Bearer {demo.office_admin_token}"},
        )
    engine.dispose()


def counts(text: str) -> dict[tuple[str, str, str], float]:
    """(method, route, status) -> requests, from the API histogram's ``_count`` samples."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "centrex_api_request_duration_seconds_count":
                out[(s.labels["method"], s.labels["route"], s.labels["status"])] = s.value
    return out


def test_health_details_only_to_operators(api: Api) -> None:
    c = api.client
    for path in ("/healthz", "/readyz"):
        anyone = c.get(path)
        assert (anyone.status_code, anyone.json()) == (200, {"status": "ready"})
        admin = c.get(path, headers=api.admin)  # a tenant's administrator is not the operator
        assert admin.json() == {"status": "ready"}
        bad = c.get(path, headers={"Authorization": "Bearer cx_nope.nope"})
        assert (bad.status_code, bad.json()) == (200, {"status": "ready"})
        operator = c.get(path, headers=api.operator).json()
        assert operator["status"] == "ready"
        assert operator["components"]["database"]["ready"] is True
        assert operator["components"]["schema"]["detail"] == "at newest migration"
        assert operator["components"]["api"]["shed"] == 0
    live = c.get("/livez")
    assert (live.status_code, live.json()) == (200, {"status": "alive"})


def test_metrics_for_operators_or_allowed_addresses(api: Api) -> None:
    c = api.client  # its address is "testclient": in no allow-list
    assert c.get("/metrics").status_code == 403
    refused = c.get("/metrics", headers=api.admin)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    ok = c.get("/metrics", headers=api.operator)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    assert "process_resident_memory_bytes" in ok.text
    # From loopback (the default allow-list) no token is needed.
    local = TestClient(c.app, client=("127.0.0.1", 40000))
    assert local.get("/metrics").status_code == 200
    elsewhere = TestClient(c.app, client=("192.0.2.7", 40000))
    assert elsewhere.get("/metrics").status_code == 403


def test_api_latency_histogram_counts_by_route_template_and_status(api: Api) -> None:
    c = api.client
    users = f"/api/v1/tenants/{api.tenant_id}/users"
    template = "/api/v1/tenants/{tenant_id}/users"
    before = counts(c.get("/metrics", headers=api.operator).text)
    assert before.get(("GET", template, "200"), 0) == 0
    for _ in range(3):
        assert c.get(users, headers=api.admin).status_code == 200
    assert c.get(users).status_code == 401
    assert c.get("/api/v1/no/such/path").status_code == 404  # outside /api the portal answers (SPA)
    assert c.get(f"/api/v1/tenants/{api.tenant_id}/users?limit=0", headers=api.admin).status_code == 422
    after = counts(c.get("/metrics", headers=api.operator).text)
    assert after[("GET", template, "200")] == 3
    assert after[("GET", template, "401")] == 1
    assert after[("GET", template, "422")] == 1
    assert after[("GET", "unmatched", "404")] == 1
    assert after[("GET", "/metrics", "200")] == before.get(("GET", "/metrics", "200"), 0) + 1
    assert not any(api.tenant_id in route for _, route, _ in after)  # templates, never ids


def test_livez_answers_when_the_database_does_not(tmp_path: Path) -> None:
    gone = tmp_path / "no-such-dir" / "centrex.sqlite3"  # sqlite cannot open it: ping fails
    app = create_app(f"sqlite:///{gone}", metrics=Metrics(allow=["127.0.0.1/32"]))
    with TestClient(app) as c:
        assert c.get("/livez").status_code == 200
        not_ready = c.get("/readyz")
        assert (not_ready.status_code, not_ready.json()) == (503, {"status": "not ready"})
        assert c.get("/healthz").status_code == 503


def test_metrics_allow_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().metrics_allow == ("127.0.0.0/8", "::1/128")
    monkeypatch.setenv("CENTREX_METRICS_ALLOW", "10.1.0.0/16, 192.0.2.9")
    allowed = Metrics(load_settings().metrics_allow)
    assert allowed.allowed_address("10.1.200.3") and allowed.allowed_address("192.0.2.9")
    assert not allowed.allowed_address("127.0.0.1") and not allowed.allowed_address("testclient")
    monkeypatch.setenv("CENTREX_METRICS_ALLOW", "none")  # operator token only
    assert not Metrics(load_settings().metrics_allow).allowed_address("127.0.0.1")
    monkeypatch.setenv("CENTREX_METRICS_ALLOW", "10.1.0.0/33")
    with pytest.raises(SettingsError, match="CENTREX_METRICS_ALLOW"):
        load_settings()
