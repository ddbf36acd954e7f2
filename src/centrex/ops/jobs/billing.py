"""Billing jobs: the monthly billing run and the daily collections job, through the same entry
points as ``centrex billing run`` and ``centrex billing collections``.

- billing-run (monthly, day 1): closes the month before the run's month for each tenant with a
  billing plan (billing/invoice_service.py issue_invoice: the invoice dated the 1st, cpaas.txt
  §4.3). Each tenant is its own transaction; a month already invoiced is skipped (an issued invoice
  is never re-issued), so running twice issues nothing more.
- collections (daily): billing/collections_service.py run_collections as of the run's day
  (cpaas.txt §3.4: notices of non-payment, suspension 5 business days after, reinstatement).

A dry run does the work in a transaction that is rolled back, so its report is exactly what a real
run would do at that moment, and nothing is kept (invoice numbers included).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from centrex.billing.collections_service import run_collections
from centrex.billing.invoice_service import issue_invoice
from centrex.billing.periods import add_months, month_start
from centrex.ops.scheduler import JobContext, JobReport
from centrex.store.access import Principal, TenantData
from centrex.store.errors import Conflict, StoreError
from centrex.store.models import BillingPlan, Role, Tenant, TokenKind

SYSTEM = Principal(TokenKind.OPERATOR, uuid.UUID(int=0), frozenset({Role.OPERATOR}), "system:billing-jobs")


def usage_month(ctx: JobContext) -> date:
    """The month a run on ``ctx.now`` closes: the one before."""
    return add_months(month_start(ctx.now.date()), -1)


def billing_run(ctx: JobContext) -> JobReport:
    month = usage_month(ctx)
    with ctx.sessions() as s:
        stmt = select(Tenant.id, Tenant.name).join(BillingPlan, BillingPlan.tenant_id == Tenant.id)
        tenants = list(s.execute(stmt.order_by(Tenant.name)))
    rows: list[dict[str, str]] = []
    counts = {"issued": 0, "skipped": 0, "failed": 0}
    for i, (tenant_id, name) in enumerate(tenants, start=1):
        ctx.check_stop()
        row = {"tenant": name, "month": f"{month:%Y-%m}"}
        with ctx.sessions() as s:
            try:
                invoice = issue_invoice(TenantData(s, SYSTEM, tenant_id), month)
                s.flush()
                row.update(invoice=invoice.number, total=f"{invoice.total:.2f}", result="issued")
                counts["issued"] += 1
                if ctx.dry_run:
                    s.rollback()
                else:
                    s.commit()
            except Conflict as exc:
                s.rollback()
                row.update(result=f"skipped: {exc.message}")
                counts["skipped"] += 1
            except StoreError as exc:
                s.rollback()
                row.update(result=f"failed ({exc.rule}): {exc.message}")
                counts["failed"] += 1
        rows.append(row)
        ctx.progress(i, len(tenants))
    verb = "would be issued" if ctx.dry_run else "issued"
    summary = f"{counts['issued']} invoices {verb} for {month:%Y-%m}, {counts['skipped']} already issued"
    if counts["failed"]:
        summary += f", {counts['failed']} failed"
    return JobReport(summary, counts, rows)


def collections(ctx: JobContext) -> JobReport:
    day = ctx.now.date()
    with ctx.sessions() as s:
        actions = run_collections(s, SYSTEM, day, notify=True)
        rows = [
            {"tenant": a.tenant, "action": a.action, "amount": f"{a.amount:.2f}", "detail": a.detail}
            for a in actions
        ]
        if ctx.dry_run:
            s.rollback()
        else:
            s.commit()
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.action] = counts.get(a.action, 0) + 1
    done = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to do"
    return JobReport(f"collections as of {day}: {done}" + (" (dry run)" if ctx.dry_run else ""), counts, rows)
