"""Billing rows beyond world.py's plan and invoice: a bundle subscription started this month, an
older invoice left unpaid (overdue, so a notice of non-payment can be given), a tax exemption
certificate, and an entry of the operator's tax table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from centrex.billing.subscriptions import last_notice_day
from centrex.store.models import BundleSubscriptionRow, InvoiceRow
from centrex.store.models.billing_accounts import TaxBasis, TaxExemptionCertificateRow, TaxRateRow
from centrex.store.sequences import next_number
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    first = datetime.now(UTC).date().replace(day=1)
    term_end = date(first.year + 1, first.month, 1) - timedelta(days=1)
    sub = BundleSubscriptionRow(
        tenant_id=tw.id,
        start=first,
        quantity=2,
        rate=Decimal("30.00"),
        term_months=12,
        term_start=first,
        term_end=term_end,
        renewal_notice_by=last_notice_day(term_end),
    )
    old = (first - timedelta(days=80)).replace(day=1)
    sequence = next_number(session, "invoice")
    unpaid = InvoiceRow(
        tenant_id=tw.id,
        number=f"INV-{sequence:06d}",
        sequence=sequence,
        invoice_date=old,
        due_date=old + timedelta(days=30),
        usage_start=(old - timedelta(days=1)).replace(day=1),
        usage_end=old - timedelta(days=1),
        customer_name="world",
        subtotal=Decimal("50.00"),
        taxes_and_surcharges=Decimal("0.00"),
        total=Decimal("50.00"),
        issued_by="world",
    )
    certificate = TaxExemptionCertificateRow(
        tenant_id=tw.id,
        number=f"EX-{tw.domain[:10]}",
        jurisdiction="US-IL",  # not the demo's Texas: tests/api/test_billing_api.py taxes tenant A there
        valid_from=date(2025, 1, 1),
        expires_on=None,
        exempt_kinds=["state", "local"],
    )
    rate = TaxRateRow(
        kind="e911",
        basis=TaxBasis.PER_LINE,
        jurisdiction="US-IL",
        name=f"E911 fee ({tw.domain[:20]})",
        rate=Decimal("0.87"),
        effective_from=date(2017, 1, 1),
        source="NENA 2017",
    )
    session.add_all([sub, unpaid, certificate, rate])
    session.flush()
    tw.ids.update(subscription=sub.id, unpaid_invoice=unpaid.id, certificate=certificate.id, tax_rate=rate.id)
