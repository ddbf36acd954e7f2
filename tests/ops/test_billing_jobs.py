"""The billing jobs through the scheduler's run_job, on SQLite and PostgreSQL: the monthly run
issues the invoice closing last month (once: a second run skips it), the collections job suspends
five business days after a notice of non-payment (cpaas.txt §3.4); a dry run reports exactly that
and keeps nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from centrex.ops.jobs import builtin_registry
from centrex.ops.scheduler import run_job
from centrex.store.db import make_sessionmaker
from centrex.store.models import InvoiceRow, Tenant
from tests.api.conftest import Api, api  # noqa: F401  (the API fixture, for these tests too)
from tests.billing_terms.helpers import b, invoice, new_tenant, op, put_plan


def test_the_monthly_run_closes_last_month_once(api: Api) -> None:  # noqa: F811
    tenant = new_tenant(api, "Monthly Run Co")
    put_plan(api, tenant, seats=4, seat_monthly="24.95")
    sessions = make_sessionmaker(api.app.state.engine)
    job = builtin_registry().get("billing-run")
    now = datetime(2026, 12, 1, 2, 0, 30, tzinfo=UTC)

    def invoices() -> list[tuple[str, str]]:
        with sessions() as s:
            stmt = select(InvoiceRow.number, InvoiceRow.invoice_date).where(
                InvoiceRow.tenant_id == uuid.UUID(tenant)
            )
            return [(n, str(d)) for n, d in s.execute(stmt)]

    dry = run_job(sessions, job, now, dry_run=True)
    assert dry.period == "2026-12" and dry.report is not None
    (would,) = [r for r in dry.report.rows if r["tenant"] == "Monthly Run Co"]
    assert (would["month"], would["result"], would["total"]) == ("2026-11", "issued", "99.80")
    assert invoices() == []  # nothing kept, not even the invoice number

    done = run_job(sessions, job, now)
    assert done.report is not None
    (issued,) = [r for r in done.report.rows if r["tenant"] == "Monthly Run Co"]
    assert issued["result"] == "issued" and issued["invoice"] == would["invoice"]
    assert invoices() == [(issued["invoice"], "2026-12-01")]

    again = run_job(sessions, job, now)
    assert again.report is not None
    (skipped,) = [r for r in again.report.rows if r["tenant"] == "Monthly Run Co"]
    assert skipped["result"].startswith(f"skipped: invoice {issued['invoice']} of 2026-12-01 already closes")
    assert invoices() == [(issued["invoice"], "2026-12-01")]


def test_collections_suspend_after_five_business_days(api: Api) -> None:  # noqa: F811
    tenant = new_tenant(api, "Late Payer Co")
    put_plan(api, tenant, seats=10, seat_monthly="24.95")
    invoice(api, tenant, "2024-12")  # dated 2025-01-01, $249.50, due 2025-01-31
    r = api.call("POST", f"{b(tenant)}/notices", op(api), json={"noticed_on": "2025-03-03"})
    assert r.status_code == 201 and r.json()["suspend_from"] == "2025-03-11"
    sessions = make_sessionmaker(api.app.state.engine)
    job = builtin_registry().get("collections")

    def status() -> str:
        with sessions() as s:
            t = s.get(Tenant, uuid.UUID(tenant))
            assert t is not None
            return str(t.status.value)

    def mine(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(r["action"], r["amount"]) for r in rows if r["tenant"] == "Late Payer Co"]

    waiting = run_job(sessions, job, datetime(2025, 3, 10, 6, tzinfo=UTC))
    assert waiting.report is not None and mine(waiting.report.rows) == [("waiting", "249.50")]
    dry = run_job(sessions, job, datetime(2025, 3, 11, 6, tzinfo=UTC), dry_run=True)
    assert dry.report is not None and mine(dry.report.rows) == [("suspend", "249.50")]
    assert status() == "active"  # the dry run kept nothing
    done = run_job(sessions, job, datetime(2025, 3, 11, 6, tzinfo=UTC))
    assert done.report is not None and mine(done.report.rows) == [("suspend", "249.50")]
    assert status() == "suspended"
