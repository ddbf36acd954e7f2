"""Payments and Dispute Notices against an issued invoice (cpaas.txt §4.4-§4.6): what lowers its
balance or the undisputed amount due on it (account_state.py reads them back)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from centrex.billing.account_state import account_state
from centrex.billing.collections import DisputeRefused, file_dispute
from centrex.billing.days import today
from centrex.billing.money import ZERO, stored_cents
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import DisputeRow, DisputeStatus, InvoiceRow, PaymentMethod, PaymentRow
from centrex.store.policy import Action, Resource


def record_payment(
    data: TenantData,
    row: InvoiceRow,
    amount: Decimal,
    method: PaymentMethod,
    received_on: date,
    reference: str,
) -> PaymentRow:
    data.require(Resource.BILLING, Action.CREATE)
    if received_on > today():
        raise Invalid("a payment cannot be received in the future", field="received_on", rule="not_future")
    if received_on < row.invoice_date:
        raise Invalid("a payment cannot predate its invoice", field="received_on", rule="after_invoice")
    amount = stored_cents(amount)
    balance = account_state(data, row, today()).balance
    if amount > balance:
        raise Invalid(
            f"payment {amount} exceeds the balance {balance} of invoice {row.number}",
            field="amount",
            rule="payment.at_most_balance",
        )
    return data.create(
        PaymentRow,
        "billing.payment.record",
        invoice_id=row.id,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        recorded_by=data.principal.label,
    )


def file_dispute_notice(
    data: TenantData, row: InvoiceRow, amount: Decimal, detail: str, noticed_on: date | None
) -> DisputeRow:
    """cpaas.txt §4.6: a Dispute Notice within sixty (60) days of the Invoice Date; later, the
    invoice is deemed accepted (billing/collections.py file_dispute). The customer's administrators
    file as of today; an operator may record a written notice on the day it was received."""
    data.require(Resource.DISPUTE, Action.CREATE)
    now = today()
    if noticed_on is None:
        noticed_on = now
    elif noticed_on != now and not data.principal.is_operator:
        raise Invalid(
            "only an operator records a notice received on another day",
            field="noticed_on",
            rule="dispute.today",
        )
    if noticed_on > now:
        raise Invalid("a notice cannot be dated in the future", field="noticed_on", rule="not_future")
    if noticed_on < row.invoice_date:
        raise Invalid("a notice cannot predate its invoice", field="noticed_on", rule="after_invoice")
    open_disputes = sum(
        (
            Decimal(d.amount)
            for d in data.session.scalars(
                data.select(DisputeRow).where(
                    DisputeRow.invoice_id == row.id, DisputeRow.status == DisputeStatus.OPEN
                )
            )
        ),
        ZERO,
    )
    try:
        dispute = file_dispute(
            row.number, row.invoice_date, stored_cents(row.total) - open_disputes, amount, noticed_on, detail
        )
    except DisputeRefused as exc:
        raise Invalid(str(exc), field="noticed_on", rule="cpaas.txt §4.6 dispute period") from None
    except ValueError as exc:
        field = "detail" if "detail" in str(exc) else "amount"
        raise Invalid(str(exc), field=field, rule="cpaas.txt §4.6") from None
    return data.create(
        DisputeRow,
        "billing.dispute.file",
        invoice_id=row.id,
        amount=dispute.amount,
        noticed_on=dispute.noticed_on,
        detail=dispute.detail,
        filed_by=data.principal.label,
    )
