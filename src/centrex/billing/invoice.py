"""Invoices: assembled from recurring lines, a rated month of usage, one-time items, credits and
taxes. Pure; an issued invoice is never edited — corrections are credit notes (separate documents).

voice-bundles.txt §2.2: invoiced "the first day of the month for (i) the upcoming month's monthly
Rates charges in advance ... and (ii) any previous month's non-recurring charges, Taxes and
Additional Surcharges or overage charges". cpaas.txt §4.3 (same schedule) and §4.4: "Undisputed
amounts are due and payable thirty (30) days from the Invoice Date".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from centrex.billing.categories import UsageCategory
from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.money import ZERO, to_cents
from centrex.billing.periods import month_end, previous_month_start
from centrex.billing.rating import Charge, RatedPeriod
from centrex.billing.taxes import TaxProfile, TaxTable, compute_taxes

PAYMENT_TERMS_DAYS = 30  # cpaas.txt §4.4

CATEGORY_LABELS: dict[UsageCategory, str] = {
    UsageCategory.LOCAL: "Local calls",
    UsageCategory.DOMESTIC_LD: "Domestic long distance",
    UsageCategory.INBOUND: "Inbound calls",
    UsageCategory.TOLL_FREE_INBOUND: "Toll-free inbound",
    UsageCategory.TOLL_FREE_OUTBOUND: "Toll-free dialled",
    UsageCategory.INTERNATIONAL: "International calls",
    UsageCategory.DIRECTORY_ASSISTANCE: "Directory assistance",
    UsageCategory.CONFERENCE: "Conference calling",
    UsageCategory.EMERGENCY: "Emergency calls",
    UsageCategory.N11: "N11 calls",
    UsageCategory.PREMIUM: "Premium calls",
    UsageCategory.ON_NET: "On-net calls",
    UsageCategory.INVALID: "Invalid calls",
    UsageCategory.TOLL_FREE_INBOUND_EXCLUDED: "Toll-free inbound from outside the bundle's area",
}

CATEGORY_SOURCES: dict[UsageCategory, str] = {
    UsageCategory.INTERNATIONAL: "hosted-pbx.txt usage 1",
    UsageCategory.DIRECTORY_ASSISTANCE: "hosted-pbx.txt usage 1.c",
    UsageCategory.CONFERENCE: "hosted-pbx.txt usage 1.d",
    UsageCategory.TOLL_FREE_INBOUND_EXCLUDED: "voice-bundles.txt §1.3.2",
}


def due_date(invoice_date: date) -> date:
    """cpaas.txt §4.4: due thirty (30) days from the Invoice Date."""
    return invoice_date + timedelta(days=PAYMENT_TERMS_DAYS)


@dataclass(frozen=True)
class InvoiceInputs:
    tenant_id: str
    invoice_date: date
    recurring: Sequence[InvoiceLine] = ()  # the coming month, in advance
    usage: RatedPeriod | None = None  # the previous month, in arrears
    # The previous month's other transactional charges, in arrears: messages (cpaas.txt §4.3,
    # billing/messages.py).
    transactional: Sequence[InvoiceLine] = ()
    non_recurring: Sequence[InvoiceLine] = ()
    credits: Sequence[InvoiceLine] = ()  # outage credits etc. (negative amounts)
    late_charges: Sequence[InvoiceLine] = ()
    tax_profile: TaxProfile | None = None
    tax_table: TaxTable | None = None
    number: str | None = None
    customer_name: str = ""


@dataclass(frozen=True)
class Invoice:
    number: str
    tenant_id: str
    invoice_date: date
    due_date: date
    usage_period: tuple[date, date]
    lines: tuple[InvoiceLine, ...]
    usage_fingerprint: str = ""
    customer_name: str = ""
    currency: str = "USD"

    @property
    def subtotal(self) -> Decimal:
        """Everything but taxes and surcharges."""
        return to_cents(
            sum((x.amount for x in self.lines if x.kind not in (LineKind.TAX, LineKind.SURCHARGE)), ZERO)
        )

    @property
    def taxes_and_surcharges(self) -> Decimal:
        return to_cents(
            sum((x.amount for x in self.lines if x.kind in (LineKind.TAX, LineKind.SURCHARGE)), ZERO)
        )

    @property
    def total(self) -> Decimal:
        return to_cents(sum((x.amount for x in self.lines), ZERO))

    def cdr_ids(self) -> set[str]:
        return {cid for line in self.lines for cid in line.cdr_ids}


class UnratedUsageError(ValueError):
    """Usage with no rate in force: the invoice is not assembled until the deck is fixed."""


def _usage_lines(usage: RatedPeriod, period_start: date, period_end: date) -> list[InvoiceLine]:
    """One line per category (in arrears), plus the allotment and overage lines.

    Each line carries the ids of the CDRs behind it. A call partly inside the allotment appears on
    both the allotment line (0.00) and the overage line (hosted-pbx.txt usage 1, 1.a).
    """
    by_category: dict[UsageCategory, list[Charge]] = {}
    pooled: list[Charge] = []
    overage: dict[UsageCategory, list[Charge]] = {}
    for charge in usage.charges:
        if charge.billable_s == 0 and charge.amount == 0:
            continue  # unanswered, on-net, emergency: nothing to show
        if charge.pool_s:
            pooled.append(charge)
        if charge.overage_s:
            overage.setdefault(charge.category, []).append(charge)
        elif not charge.pool_s:
            by_category.setdefault(charge.category, []).append(charge)
    lines: list[InvoiceLine] = []
    if pooled:
        used = sum(c.pool_s for c in pooled)
        lines.append(
            make_line(
                LineKind.USAGE,
                f"Included minutes: {used // 60:,} of {usage.pool_seconds // 60:,} min allotment",
                ZERO,
                quantity=Decimal(used) / 60,
                period_start=period_start,
                period_end=period_end,
                cdr_ids=tuple(c.cdr_id for c in pooled),
                source="hosted-pbx.txt usage 1",
            )
        )
    for category, charges in sorted(by_category.items(), key=lambda kv: list(UsageCategory).index(kv[0])):
        minutes = Decimal(sum(c.billable_s for c in charges)) / 60
        label = CATEGORY_LABELS[category]
        calls = f"{len(charges):,} call" + ("s" if len(charges) != 1 else "")
        desc = f"{label}: {calls}" + (f", {minutes.normalize():,f} min" if minutes else "")
        lines.append(
            make_line(
                LineKind.USAGE,
                desc,
                sum((c.amount for c in charges), ZERO),
                quantity=minutes if minutes else len(charges),
                period_start=period_start,
                period_end=period_end,
                cdr_ids=tuple(c.cdr_id for c in charges),
                source=CATEGORY_SOURCES.get(category, "hosted-pbx.txt usage 1"),
            )
        )
    for category, charges in sorted(overage.items(), key=lambda kv: list(UsageCategory).index(kv[0])):
        minutes = Decimal(sum(c.overage_s for c in charges)) / 60
        lines.append(
            make_line(
                LineKind.OVERAGE,
                f"{CATEGORY_LABELS[category]} overage: {minutes.normalize():,f} min",
                sum((c.amount for c in charges), ZERO),
                quantity=minutes,
                period_start=period_start,
                period_end=period_end,
                cdr_ids=tuple(c.cdr_id for c in charges),
                source="hosted-pbx.txt usage 1.a",
            )
        )
    return lines


def assemble_invoice(inputs: InvoiceInputs) -> Invoice:
    """The invoice of `inputs.invoice_date` (the 1st of a month): recurring charges for that month
    in advance, the previous month's usage, overage and one-time charges, credits, late charges,
    then taxes and surcharges on the result (voice-bundles.txt §2.2, cpaas.txt §4.3)."""
    day = inputs.invoice_date
    if day.day != 1:
        raise ValueError(f"invoice date {day} is not the first day of a month (voice-bundles.txt §2.2)")
    usage_start = previous_month_start(day)
    usage_end = month_end(usage_start)
    lines: list[InvoiceLine] = [*inputs.recurring, *inputs.non_recurring]
    fingerprint = ""
    if inputs.usage is not None:
        unrated = inputs.usage.unrated
        if unrated:
            ids = ", ".join(c.cdr_id for c in unrated[:10])
            raise UnratedUsageError(f"{len(unrated)} CDR(s) have no rate in force: {ids}")
        if any(c.tenant_id != inputs.tenant_id for c in inputs.usage.charges):
            raise ValueError("usage of another tenant on this invoice")
        lines += _usage_lines(inputs.usage, usage_start, usage_end)
        fingerprint = inputs.usage.fingerprint
    lines += inputs.transactional
    for credit in inputs.credits:
        if credit.amount > 0:
            raise ValueError(f"credit line {credit.description!r} must not be positive")
    lines += [*inputs.credits, *inputs.late_charges]
    if inputs.tax_profile is not None and inputs.tax_table is not None:
        lines += compute_taxes(lines, inputs.tax_profile, inputs.tax_table, day)
    return Invoice(
        number=inputs.number or f"{inputs.tenant_id}-{day:%Y%m}",
        tenant_id=inputs.tenant_id,
        invoice_date=day,
        due_date=due_date(day),
        usage_period=(usage_start, usage_end),
        lines=tuple(lines),
        usage_fingerprint=fingerprint,
        customer_name=inputs.customer_name,
    )


# --- credit notes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditNote:
    """A correction to an issued invoice, as its own document (the invoice is never edited)."""

    number: str
    invoice_number: str
    tenant_id: str
    issued_on: date
    reason: str
    lines: tuple[InvoiceLine, ...]

    @property
    def total(self) -> Decimal:
        return to_cents(sum((x.amount for x in self.lines), ZERO))


def issue_credit_note(
    invoice: Invoice,
    amount: Decimal,
    reason: str,
    issued_on: date,
    *,
    already_credited: Decimal = ZERO,
    sequence: int = 1,
) -> CreditNote:
    """Credit `amount` (positive, in cents) against an invoice; the credits on one invoice may not
    exceed its total."""
    amount = to_cents(amount)
    if amount <= 0:
        raise ValueError("a credit note amount must be positive")
    if already_credited + amount > invoice.total:
        raise ValueError(
            f"credits {already_credited + amount} would exceed the total {invoice.total} of {invoice.number}"
        )
    if issued_on < invoice.invoice_date:
        raise ValueError("a credit note cannot predate its invoice")
    line = make_line(LineKind.CREDIT, reason, -amount, source=f"credit against invoice {invoice.number}")
    return CreditNote(
        number=f"CN-{invoice.number}-{sequence}",
        invoice_number=invoice.number,
        tenant_id=invoice.tenant_id,
        issued_on=issued_on,
        reason=reason,
        lines=(line,),
    )


# --- JSON form ---------------------------------------------------------------------------------


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_price": None if line.unit_price is None else str(line.unit_price),
        "amount": str(line.amount),
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "period_end": line.period_end.isoformat() if line.period_end else None,
        "cdr_ids": list(line.cdr_ids),
        "source": line.source,
    }


def invoice_to_dict(invoice: Invoice) -> dict[str, Any]:
    """The JSON form: amounts as strings (never floats), dates ISO 8601."""
    return {
        "number": invoice.number,
        "tenant_id": invoice.tenant_id,
        "customer_name": invoice.customer_name,
        "currency": invoice.currency,
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "usage_period": [invoice.usage_period[0].isoformat(), invoice.usage_period[1].isoformat()],
        "usage_fingerprint": invoice.usage_fingerprint,
        "lines": [_line_json(x) for x in invoice.lines],
        "subtotal": str(invoice.subtotal),
        "taxes_and_surcharges": str(invoice.taxes_and_surcharges),
        "total": str(invoice.total),
    }


def invoice_to_json(invoice: Invoice) -> str:
    return json.dumps(invoice_to_dict(invoice), indent=2, ensure_ascii=False) + "\n"


def credit_note_to_dict(note: CreditNote) -> dict[str, Any]:
    return {
        "number": note.number,
        "invoice_number": note.invoice_number,
        "tenant_id": note.tenant_id,
        "issued_on": note.issued_on.isoformat(),
        "reason": note.reason,
        "lines": [_line_json(x) for x in note.lines],
        "total": str(note.total),
    }
