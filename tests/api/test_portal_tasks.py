"""Operator tasks with progress (issue 18 §2; ops/portal_tasks.py, api/routers/tasks.py) and the
user's own browser phone device (issue 18 §3; api/routers/softphone.py), through the API on SQLite
and PostgreSQL. The browser side is in tests/portal/test_portal_gaps_browser.py and
tests/softphone/test_browser_phone_wss.py."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import func, select

from centrex.store.credentials import sip_ha1s
from centrex.store.db import transaction
from centrex.store.models import BillingPlan, Device, Tenant
from tests.api.conftest import Api
from tests.api.test_billing_api import op, setup_demo, t

HEADER = "prefix,rate_per_minute,effective_from\n"


def big_deck(rows: int) -> str:
    return HEADER + "".join(f"{1000000 + i},0.0{i % 90 + 10},2026-01-01\n" for i in range(rows))


def wait(api: Api, task_id: str, seen: list[dict[str, Any]], timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        r = api.call("GET", f"/api/v1/tasks/{task_id}", op(api))
        assert r.status_code == 200, r.text
        task = dict(r.json())
        seen.append(task)
        if task["status"] != "running":
            return task
        assert time.monotonic() < deadline, f"task still running: {task}"
        time.sleep(0.05)


def test_a_deck_import_task_moves_then_holds_the_new_version(api: Api) -> None:
    rows = 30_000
    r = api.client.post(
        "/api/v1/rate-decks/imports?name=world",
        content=big_deck(rows),
        headers={**api.as_(op(api)), "Content-Type": "text/csv"},
    )
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["kind"] == "rate_deck_import" and started["status"] == "running"
    seen: list[dict[str, Any]] = []
    task = wait(api, started["id"], seen)
    assert task["status"] == "done", task
    assert task["done"] == task["total"] == rows
    assert task["result"]["name"] == "world" and task["result"]["rows"] == rows
    assert task["result"]["version"] == 1
    # It moved: the polls saw it part-way (CSV rows read or stored, of the total).
    assert any(s["status"] == "running" and s["phase"] in ("reading", "storing") for s in seen), seen[:3]
    decks = api.call("GET", "/api/v1/rate-decks", op(api)).json()
    assert [(d["name"], d["rows"]) for d in decks] == [("world", rows)]
    listed = api.call("GET", "/api/v1/tasks?kind=rate_deck_import", op(api)).json()
    assert listed[0]["id"] == started["id"]  # newest first
    assert {x["kind"] for x in listed} == {"rate_deck_import"}


def test_a_bad_deck_fails_naming_its_line_and_field(api: Api) -> None:
    bad = HEADER + "44,0.02,2026-01-01\n45,abc,2026-01-01\n"
    r = api.call("POST", "/api/v1/rate-decks/imports", op(api), json={"name": "bad", "csv": bad})
    assert r.status_code == 202, r.text
    task = wait(api, r.json()["id"], [])
    assert task["status"] == "failed" and task["result"] is None
    assert task["error"]["field"] == "line 3: rate_per_minute" and task["error"]["rule"] == "rate_deck"
    assert api.call("GET", "/api/v1/rate-decks", op(api)).json() == []
    # A deck without a name is refused at once (no task).
    r = api.call("POST", "/api/v1/rate-decks/imports", op(api), json={"name": "", "csv": bad})
    assert r.status_code == 422 and r.json()["field"] == "name"


def test_a_billing_run_task_invoices_each_tenant_with_a_plan(api: Api) -> None:
    setup_demo(api)  # tenant A: the demo deck, plan and March 2025's calls
    before = {i["number"] for i in api.call("GET", f"{t(api)}/invoices", op(api)).json()["items"]}
    dry = api.call("POST", "/api/v1/billing/runs", op(api), json={"period": "2025-03", "dry_run": True})
    assert dry.status_code == 202, dry.text
    task = wait(api, dry.json()["id"], [])
    assert task["status"] == "done" and task["result"]["dry_run"] is True, task
    with transaction(api.app.state.sessionmaker) as s:
        planned = s.scalar(select(func.count()).select_from(BillingPlan))
        tenant_a = s.get(Tenant, api.world.a.id)
        assert tenant_a is not None
        name_a = tenant_a.name
    assert planned and task["result"]["counts"]["issued"] == planned
    kept = {i["number"] for i in api.call("GET", f"{t(api)}/invoices", op(api)).json()["items"]}
    assert kept == before  # a dry run keeps nothing
    real = api.call("POST", "/api/v1/billing/runs", op(api), json={"period": "2025-03"})
    seen: list[dict[str, Any]] = []
    task = wait(api, real.json()["id"], seen)
    assert task["status"] == "done", task
    assert task["done"] == task["total"] == planned  # each tenant with a plan, one by one
    [row] = [r for r in task["result"]["rows"] if r["tenant"] == name_a]
    assert row["result"] == "issued" and row["month"] == "2025-03"
    after = {i["number"] for i in api.call("GET", f"{t(api)}/invoices", op(api)).json()["items"]}
    assert after - before == {row["invoice"]}
    rerun = api.call("POST", "/api/v1/billing/runs", op(api), json={"period": "2025-03"})
    again = wait(api, rerun.json()["id"], [])
    assert again["result"]["counts"] == {"issued": 0, "skipped": planned, "failed": 0}
    bad = api.call("POST", "/api/v1/billing/runs", op(api), json={"period": "2025-13"})
    assert bad.status_code == 422


def test_tasks_are_the_operators(api: Api) -> None:
    admin = api.world.a.tokens["office_admin"]
    assert api.call("GET", "/api/v1/tasks", admin).status_code == 404
    assert api.call("POST", "/api/v1/billing/runs", admin, json={"period": "2025-03"}).status_code == 404


def test_the_browser_phone_is_a_device_of_the_users_own(api: Api) -> None:
    tw = api.world.a
    user_token = tw.tokens["end_user"]
    me = api.call("GET", f"/api/v1/tenants/{tw.id}/me", user_token).json()
    first = api.call("POST", f"/api/v1/tenants/{tw.id}/me/softphone", user_token)
    assert first.status_code == 200, first.text
    phone = first.json()
    assert phone["sip_username"] == f"{me['extension']}-web" and phone["sip_domain"] == tw.domain
    assert len(phone["sip_password"]) >= 16
    # The same device and password again (another browser of the same user).
    second = api.call("POST", f"/api/v1/tenants/{tw.id}/me/softphone", user_token).json()
    assert second["device_id"] == phone["device_id"] and second["sip_password"] == phone["sip_password"]
    mine = api.call("GET", f"/api/v1/tenants/{tw.id}/me/devices", user_token).json()["items"]
    assert phone["sip_username"] in [d["sip_username"] for d in mine]
    admin = api.call("GET", f"/api/v1/tenants/{tw.id}/devices", tw.tokens["office_admin"]).json()["items"]
    [row] = [d for d in admin if d["id"] == phone["device_id"]]
    assert row["user_id"] == me["id"] and row["description"] == "Browser phone"
    # The switch's digest check: the stored HA1 is that of the password handed to the page.
    with transaction(api.app.state.sessionmaker) as s:
        device = s.get(Device, uuid.UUID(row["id"]))
        assert device is not None
        assert device.ha1_md5 == sip_ha1s(phone["sip_username"], tw.domain, phone["sip_password"])[0]
    # Another user of the tenant gets a phone of their own.
    other = api.call("POST", f"/api/v1/tenants/{tw.id}/me/softphone", tw.tokens["office_admin"]).json()
    assert other["device_id"] != phone["device_id"] and other["sip_password"] != phone["sip_password"]
    # Removed: gone from the lists; the next one is new, with a new password.
    assert api.call("DELETE", f"/api/v1/tenants/{tw.id}/me/softphone", user_token).status_code == 204
    mine = api.call("GET", f"/api/v1/tenants/{tw.id}/me/devices", user_token).json()["items"]
    assert phone["sip_username"] not in [d["sip_username"] for d in mine]
    third = api.call("POST", f"/api/v1/tenants/{tw.id}/me/softphone", user_token).json()
    assert third["device_id"] != phone["device_id"] and third["sip_password"] != phone["sip_password"]
    # This app runs no SIP side, so it has no WebSocket address to give (centrex serve sets them).
    assert third["ws_url"] is None and third["wss_url"] is None
