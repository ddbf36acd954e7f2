"""Collections through the API and the CLI on SQLite and PostgreSQL: the credit limit (cpaas.txt
§4.2) flags and notifies but does not suspend; suspension 5 business days after a notice of
non-payment (§3.4: notice Monday 3 March 2025 -> suspension possible from Tuesday 11 March), audited,
and reinstatement once the undisputed amount is paid."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant
from tests.api.conftest import Api
from tests.billing_terms.helpers import b, invoice, money, new_tenant, op, put_plan


def tenant_status(api: Api, tenant: str) -> str:
    return str(api.call("GET", f"{b(tenant)}/account", op(api)).json()["status"])


def collect(api: Api, tenant: str, as_of: str, notify: bool = True) -> list[dict[str, Any]]:
    r = api.call("POST", f"{b(tenant)}/collections", op(api), params={"as_of": as_of, "notify": notify})
    assert r.status_code == 200, r.text
    return list(r.json())


def seats_tenant(api: Api) -> tuple[str, dict[str, Any]]:
    tenant = new_tenant(api)
    put_plan(api, tenant, seats=10, seat_monthly="24.95")
    return tenant, invoice(api, tenant, "2024-12")  # dated 2025-01-01, $249.50, due 2025-01-31


def test_suspension_five_business_days_after_the_notice_and_reinstatement(api: Api) -> None:
    tenant, inv = seats_tenant(api)
    assert inv["due_date"] == "2025-01-31"
    early = api.call("POST", f"{b(tenant)}/notices", op(api), json={"noticed_on": "2025-01-31"})
    assert early.status_code == 422 and early.json()["rule"] == "cpaas.txt §3.4"  # nothing overdue yet
    r = api.call("POST", f"{b(tenant)}/notices", op(api), json={"noticed_on": "2025-03-03"})
    assert r.status_code == 201, r.text
    notice = r.json()
    assert (notice["kind"], money(notice["amount"]), notice["suspend_from"]) == (
        "non_payment",
        Decimal("249.50"),
        "2025-03-11",
    )
    assert [a["action"] for a in collect(api, tenant, "2025-03-10")] == ["waiting"]
    assert tenant_status(api, tenant) == "active"
    acts = collect(api, tenant, "2025-03-11")
    assert [(a["action"], money(a["amount"])) for a in acts] == [("suspend", Decimal("249.50"))]
    assert tenant_status(api, tenant) == "suspended"
    entries = [e for e in api.audit(tenant="a")]  # tenant A: untouched
    assert not any(e["action"] == "billing.collections.suspend" for e in entries)
    audit = api.call(
        "GET", f"/api/v1/tenants/{tenant}/audit", op(api), params={"action": "billing.collections.suspend"}
    )
    assert audit.status_code == 200
    items = audit.json()["items"]
    assert items and items[0]["after"]["status"] == "suspended"
    # paid in full: reinstated by the next run
    r = api.call(
        "POST",
        f"{b(tenant)}/invoices/{inv['id']}/payments",
        op(api),
        json={"amount": "249.50", "method": "ach", "received_on": "2025-03-12"},
    )
    assert r.status_code == 201, r.text
    # the payment itself reinstates the tenant (audited); the next run finds nothing to do
    assert tenant_status(api, tenant) == "active"
    audit = api.call(
        "GET", f"/api/v1/tenants/{tenant}/audit", op(api), params={"action": "billing.collections.reinstate"}
    )
    assert audit.json()["items"][0]["after"]["status"] == "active"
    assert collect(api, tenant, "2025-03-12") == []
    notices = api.call("GET", f"{b(tenant)}/notices", op(api)).json()
    assert notices[0]["suspended_on"] == "2025-03-11" and notices[0]["resolved_on"] == "2025-03-12"


def test_disputed_amounts_do_not_count_and_the_job_gives_notice(api: Api) -> None:
    tenant, inv = seats_tenant(api)
    r = api.call(
        "POST",
        f"{b(tenant)}/invoices/{inv['id']}/disputes",
        op(api),
        json={"amount": "249.50", "detail": "seats never delivered", "noticed_on": "2025-01-10"},
    )
    assert r.status_code == 201, r.text
    assert collect(api, tenant, "2025-03-03") == []  # all disputed: nothing undisputed is overdue
    tenant2, _ = seats_tenant(api)
    acts = collect(api, tenant2, "2025-03-03")  # the job itself records the notice
    assert [(a["action"], money(a["amount"])) for a in acts] == [("notice", Decimal("249.50"))]
    assert [a["action"] for a in collect(api, tenant2, "2025-03-11")] == ["suspend"]


def test_credit_limit_flags_and_notifies_without_suspending(api: Api) -> None:
    tenant = new_tenant(api)
    put_plan(api, tenant, seats=10, seat_monthly="24.95")
    r = api.call("PUT", f"{b(tenant)}/account", op(api), json={"credit_limit": "200.00"})
    assert r.status_code == 200, r.text
    inv = invoice(api, tenant, "2024-12")  # $249.50 open: over the $200 limit
    account = api.call("GET", f"{b(tenant)}/account", op(api)).json()
    assert account["over_limit_since"] == "2025-01-01" and account["status"] == "active"
    notices = api.call("GET", f"{b(tenant)}/notices", op(api)).json()
    assert [(n["kind"], money(n["amount"])) for n in notices] == [("credit_limit", Decimal("249.50"))]
    # paid: the next rating run finds the account back under its limit and clears the flag
    pay = api.call(
        "POST",
        f"{b(tenant)}/invoices/{inv['id']}/payments",
        op(api),
        json={"amount": "249.50", "method": "card", "received_on": "2025-01-05"},
    )
    assert pay.status_code == 201, pay.text
    assert (
        api.call("POST", f"{b(tenant)}/rating-runs", op(api), json={"period": "2025-01"}).status_code == 201
    )
    assert api.call("GET", f"{b(tenant)}/account", op(api)).json()["over_limit_since"] is None


def test_cli_collections_as_of(api: Api, db_url: str, tmp_path: Path) -> None:
    tenant, _ = seats_tenant(api)
    assert (
        api.call("POST", f"{b(tenant)}/notices", op(api), json={"noticed_on": "2025-03-03"}).status_code
        == 201
    )
    cmd = [
        sys.executable,
        "-m",
        "centrex.cli",
        "billing",
        "collections",
        "--as-of",
        "2025-03-11",
        "--tenant",
        tenant,
        "--db",
        db_url,
        "--data-dir",
        str(tmp_path),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"}
    )
    assert done.returncode == 0, done.stderr
    assert "suspend" in done.stdout and "249.50" in done.stdout
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as s:
        row = s.scalar(select(Tenant).where(Tenant.id == __import__("uuid").UUID(tenant)))
        assert row is not None and row.status.value == "suspended"
    engine.dispose()
    bad = subprocess.run(
        [*cmd[:5], "2025-13-01", "--db", db_url, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2


def test_cli_import_taxes_demo_seed_and_csv(api: Api, db_url: str, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "centrex.cli", "billing", "import-taxes"]
    tail = ["--db", db_url, "--data-dir", str(tmp_path)]
    done = subprocess.run([*base, "--demo", *tail], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "13 tax table entries added" in done.stdout
    again = subprocess.run([*base, "--demo", *tail], capture_output=True, text=True, timeout=120)
    assert "0 tax table entries added" in again.stdout  # seeded once only
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,basis,jurisdiction,name,rate,effective_from\nvat,percent,US-TX,x,0.1,2026-01-01\n")
    refused = subprocess.run([*base, str(bad), *tail], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "line 2" in refused.stderr
    rates = api.call("GET", "/api/v1/tax-rates", op(api), params={"on": "2026-02-01"}).json()
    assert {(r["kind"], r["jurisdiction"]) for r in rates} >= {
        ("federal_usf", "US"),
        ("e911", "US-TX"),
        ("state", "US-TX"),
    }
