"""Invoices on storage: closing a billing month with its invoice (one per tenant and month, numbered
from the gap-free series, never edited afterwards), reading an invoice back as billing/invoice.py's
Invoice, and correcting one with a credit note.

Each function works inside the caller's transaction: an invoice, its lines, its number, the outages
it credits and its rating run commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

from centrex.billing import subscription_service as subs
from centrex.billing.account_state import account_state
from centrex.billing.collections_service import check_credit_limit
from centrex.billing.days import today
from centrex.billing.invoice import (
    Invoice,
    InvoiceInputs,
    UnratedUsageError,
    assemble_invoice,
    issue_credit_note,
)
from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.messages import message_lines
from centrex.billing.money import ZERO, stored_amount, stored_cents
from centrex.billing.outage_service import outage_credit_lines
from centrex.billing.periods import month_end, month_start, next_month_start
from centrex.billing.plan_service import plan_features, require_plan
from centrex.billing.plans import Feature, PriceList
from centrex.billing.rating_service import rate_month
from centrex.billing.subscription_service import subscription_of
from centrex.billing.subscriptions import bundle_lines, cpaas_platform_fee_lines, recurring_lines
from centrex.billing.tax_service import tax_basis
from centrex.store.access import TenantData
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import (
    BundleSubscriptionRow,
    CreditNoteRow,
    InvoiceLineRow,
    InvoiceRow,
    RatingPurpose,
)
from centrex.store.policy import Action, Resource
from centrex.store.sequences import next_number

INVOICE_SERIES = "invoice"


def invoice_lines_of(data: TenantData, invoice: InvoiceRow) -> list[InvoiceLineRow]:
    stmt = data.select(InvoiceLineRow).where(InvoiceLineRow.invoice_id == invoice.id)
    return list(data.session.scalars(stmt.order_by(InvoiceLineRow.position)))


def invoice_document(data: TenantData, row: InvoiceRow) -> Invoice:
    """The stored invoice as billing/invoice.py's Invoice (for JSON, PDF and credit notes)."""
    lines = tuple(
        InvoiceLine(
            kind=LineKind(x.kind),
            description=x.description,
            amount=stored_cents(x.amount),
            quantity=stored_amount(x.quantity),
            unit_price=stored_amount(x.unit_price) if x.unit_price is not None else None,
            period_start=x.period_start,
            period_end=x.period_end,
            cdr_ids=tuple(x.cdr_ids or ()),
            source=x.source,
        )
        for x in invoice_lines_of(data, row)
    )
    return Invoice(
        number=row.number,
        tenant_id=str(row.tenant_id),
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        usage_period=(row.usage_start, row.usage_end),
        lines=lines,
        usage_fingerprint=row.usage_fingerprint,
        customer_name=row.customer_name,
        currency=row.currency,
    )


def get_invoice(data: TenantData, invoice_id: uuid.UUID) -> InvoiceRow:
    return data.get(InvoiceRow, invoice_id)


def find_invoice(data: TenantData, invoice_id: uuid.UUID) -> InvoiceRow:
    try:
        return data.get(InvoiceRow, invoice_id)
    except NotFound:
        raise NotFound(f"invoice {invoice_id} not found", field="invoice_id") from None


def _late_charge_lines(data: TenantData, invoice_date: date) -> list[tuple[InvoiceLine, uuid.UUID]]:
    """cpaas.txt §4.5: late charges on earlier invoices, as of this invoice's date, less what was
    already billed on each (the charge compounds monthly, so each invoice adds the increase)."""
    out = []
    earlier = data.session.scalars(
        data.select(InvoiceRow).where(InvoiceRow.invoice_date < invoice_date).order_by(InvoiceRow.sequence)
    )
    for row in earlier:
        state = account_state(data, row, invoice_date)
        if state.late_charge <= 0:
            continue
        billed = sum(
            (
                Decimal(x.amount)
                for x in data.session.scalars(
                    data.select(InvoiceLineRow).where(InvoiceLineRow.late_for_invoice_id == row.id)
                )
            ),
            ZERO,
        )
        increase = stored_cents(state.late_charge - billed)
        if increase > 0:
            line = make_line(
                LineKind.LATE_CHARGE,
                f"Late charge on invoice {row.number} ({state.undisputed_due} due {row.due_date})",
                increase,
                period_start=row.due_date,
                period_end=invoice_date,
                source="cpaas.txt §4.5",
            )
            out.append((line, row.id))
    return out


def issue_invoice(data: TenantData, usage_month: date, *, batch: bool | None = None) -> InvoiceRow:
    """Close a billing month: the invoice dated the first of the next month, with that month's
    recurring charges in advance and `usage_month`'s usage in arrears (voice-bundles.txt §2.2,
    cpaas.txt §4.3), outage credits (hosted-pbx.txt liability 1), late charges on earlier invoices
    (cpaas.txt §4.5) and taxes. Its number comes from the gap-free series in this transaction.
    One invoice per tenant and month; it is never edited afterwards (corrections are credit notes)."""
    data.require(Resource.BILLING, Action.CREATE)
    invoice_date = next_month_start(usage_month)
    taken = data.session.scalar(data.select(InvoiceRow).where(InvoiceRow.invoice_date == invoice_date))
    if taken is not None:
        raise Conflict(
            f"invoice {taken.number} of {invoice_date} already closes {usage_month:%Y-%m}; an issued "
            "invoice is never re-issued or edited — issue a credit note",
            field="period",
            rule="invoice.one_per_month",
        )
    plan = require_plan(data)

    run, rated = rate_month(data, usage_month, RatingPurpose.INVOICE, batch=batch)
    features = {Feature(f.feature): f.quantity for f in plan_features(data, plan)}
    prices = PriceList(
        seat_monthly=stored_amount(plan.seat_monthly),
        features_monthly={
            Feature(f.feature): stored_amount(f.monthly_price) for f in plan_features(data, plan)
        },
    )
    recurring = recurring_lines(prices, seats=plan.seats, features=features, month=invoice_date)
    for sub_row in data.session.scalars(
        data.select(BundleSubscriptionRow).order_by(BundleSubscriptionRow.start)
    ):
        subs.refresh_term(data, sub_row, invoice_date)
        # voice-bundles.txt §2.3/§2.4: the quantity in force on the invoice date, not a later one
        in_force = subs.quantity_on(sub_row, subs.changes_of(data, sub_row), invoice_date)
        recurring += bundle_lines(replace(subscription_of(sub_row), quantity=in_force), invoice_date)
    prorations = subs.pending_prorations(data, invoice_date)
    recurring += [line for line, _ in prorations]
    if plan.platform_fee_monthly and plan.platform_fee_accepted_on:
        recurring += cpaas_platform_fee_lines(
            plan.platform_fee_accepted_on, invoice_date, stored_amount(plan.platform_fee_monthly)
        )
    first = month_start(usage_month)
    messages = message_lines(data.session, data.tenant_id, first, month_end(first))  # cpaas.txt §4.3
    charges_now = sum((x.amount for x in recurring + messages), ZERO) + stored_cents(rated.total)
    credits, outages = outage_credit_lines(data, invoice_date, charges_now)
    late = _late_charge_lines(data, invoice_date)
    profile, table = tax_basis(data, plan, invoice_date)
    sequence = next_number(data.session, INVOICE_SERIES)
    try:
        invoice = assemble_invoice(
            InvoiceInputs(
                tenant_id=str(data.tenant_id),
                invoice_date=invoice_date,
                recurring=recurring,
                usage=rated,
                transactional=messages,
                credits=credits,
                late_charges=[line for line, _ in late],
                tax_profile=profile,
                tax_table=table,
                number=f"INV-{sequence:06d}",
                customer_name=data.tenant.name,
            )
        )
    except UnratedUsageError as exc:
        raise Invalid(
            f"{exc}; import a deck with a rate in force and run the period again",
            field="cdrs",
            rule="rating.unrated_usage",
        ) from None
    row = data.create(
        InvoiceRow,
        "billing.invoice.issue",
        number=invoice.number,
        sequence=sequence,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        usage_start=invoice.usage_period[0],
        usage_end=invoice.usage_period[1],
        customer_name=invoice.customer_name,
        currency=invoice.currency,
        subtotal=invoice.subtotal,
        taxes_and_surcharges=invoice.taxes_and_surcharges,
        total=invoice.total,
        usage_fingerprint=invoice.usage_fingerprint,
        rating_run_id=run.id,
        issued_by=data.principal.label,
    )
    late_for = {id(line): inv_id for line, inv_id in late}
    data.add_parts(
        InvoiceLineRow,
        [
            {
                "invoice_id": row.id,
                "position": i,
                "kind": line.kind.value,
                "description": line.description[:300],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "cdr_ids": list(line.cdr_ids),
                "source": line.source,
                "late_for_invoice_id": late_for.get(id(line)),
            }
            for i, line in enumerate(invoice.lines, start=1)
        ],
    )
    for outage in outages:
        data.update(outage, "billing.outage.settled", {"credited_invoice_id": row.id})
    for _, change in prorations:
        data.update(
            change, "billing.subscription.proration_billed", {"billed_invoice_id": row.id}, Resource.BILLING
        )
    check_credit_limit(data, invoice_date)  # cpaas.txt §4.2: the open balance now includes this invoice
    return row


def refuse_invoice_edit(row: InvoiceRow) -> None:
    """An issued invoice is never modified (billing/invoice.py): corrections are credit notes."""
    raise Conflict(
        f"invoice {row.number} is issued and is never modified; correct it with a credit note "
        f"(POST .../billing/invoices/{row.id}/credit-notes)",
        field="invoice",
        rule="invoice.immutable",
    )


def credit_invoice(data: TenantData, row: InvoiceRow, amount: Decimal, reason: str) -> CreditNoteRow:
    """A credit note against an issued invoice; the credits on one invoice never exceed its total."""
    data.require(Resource.BILLING, Action.CREATE)
    notes = list(data.session.scalars(data.select(CreditNoteRow).where(CreditNoteRow.invoice_id == row.id)))
    already = sum((Decimal(n.amount) for n in notes), ZERO)
    try:
        note = issue_credit_note(
            invoice_document(data, row),
            amount,
            reason,
            max(today(), row.invoice_date),
            already_credited=stored_cents(already),
            sequence=len(notes) + 1,
        )
    except ValueError as exc:
        raise Invalid(str(exc), field="amount", rule="credit_note") from None
    return data.create(
        CreditNoteRow,
        "billing.credit_note.issue",
        number=note.number,
        invoice_id=row.id,
        sequence=len(notes) + 1,
        issued_on=note.issued_on,
        reason=reason,
        amount=-note.total,
        issued_by=data.principal.label,
    )
