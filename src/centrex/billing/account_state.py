"""Where an issued invoice stands on a day: credits, payments, open disputes, the balance, the
undisputed amount due and its late charge (cpaas.txt §4.4-§4.6).

Read by the invoice run (late charge lines), by collections (open balance, overdue invoices) and by
the API; it reads the store and never writes, so it sits below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from centrex.billing.collections import Dispute, dispute_deadline, late_charge, undisputed_due
from centrex.billing.money import ZERO, to_cents
from centrex.store.access import TenantData
from centrex.store.models import CreditNoteRow, DisputeRow, DisputeStatus, InvoiceRow, PaymentRow
from centrex.store.policy import Resource


def cents(value: Decimal) -> Decimal:
    return to_cents(Decimal(value))


@dataclass(frozen=True)
class AccountState:
    """Where an invoice stands on a day (cpaas.txt §4.4-§4.6)."""

    total: Decimal
    credited: Decimal
    paid: Decimal
    disputed: Decimal
    balance: Decimal
    undisputed_due: Decimal
    overdue: bool
    late_charge: Decimal
    dispute_deadline: date
    as_of: date


def account_state(data: TenantData, row: InvoiceRow, as_of: date) -> AccountState:
    """Balance, undisputed amount due and the late charge on it as of a day: cpaas.txt §4.5 "1.5%
    per month compounded monthly" on amounts not paid by the due date (§4.4); a dispute does not
    relieve the customer of paying the undisputed amount (§4.6)."""
    credited = sum(
        (
            Decimal(c.amount)
            for c in data.session.scalars(
                data.select(CreditNoteRow).where(
                    CreditNoteRow.invoice_id == row.id, CreditNoteRow.issued_on <= as_of
                )
            )
        ),
        ZERO,
    )
    paid = sum(
        (
            Decimal(p.amount)
            for p in data.session.scalars(
                data.select(PaymentRow).where(
                    PaymentRow.invoice_id == row.id, PaymentRow.received_on <= as_of
                )
            )
        ),
        ZERO,
    )
    disputes = [
        Dispute(row.number, Decimal(d.amount), d.noticed_on, d.detail)
        for d in data.session.scalars(
            data.select(DisputeRow, Resource.BILLING).where(
                DisputeRow.invoice_id == row.id,
                DisputeRow.status == DisputeStatus.OPEN,
                DisputeRow.noticed_on <= as_of,
            )
        )
    ]
    total = cents(row.total)
    net = cents(total - credited)
    due_now = undisputed_due(net, paid, disputes)
    return AccountState(
        total=total,
        credited=cents(credited),
        paid=cents(paid),
        disputed=cents(sum((d.amount for d in disputes), ZERO)),
        balance=cents(net - paid),
        undisputed_due=due_now,
        overdue=as_of > row.due_date and due_now > 0,
        late_charge=late_charge(due_now, row.due_date, as_of),
        dispute_deadline=dispute_deadline(row.invoice_date),
        as_of=as_of,
    )
