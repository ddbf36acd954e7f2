"""Outages on storage: recording one, the days it qualifies for a credit, and the outage credit lines
of the next invoice with the annual cap (hosted-pbx.txt liability 1, 2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from centrex.billing.credits import Outage, cap_annual_liability, outage_credits, qualifying_days
from centrex.billing.days import midnight
from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.money import ZERO, stored_cents
from centrex.billing.periods import previous_quarter
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import InvoiceLineRow, InvoiceRow, OutageRow

OUTAGE_SOURCE = "hosted-pbx.txt liability 1"
CHARGE_KINDS = (LineKind.RECURRING, LineKind.NON_RECURRING, LineKind.USAGE, LineKind.OVERAGE)


def record_outage(
    data: TenantData, start: datetime, end: datetime, provider_fault: bool, description: str
) -> OutageRow:
    try:
        Outage(start, end, provider_fault)
    except ValueError as exc:
        raise Invalid(str(exc), field="end", rule="outage") from None
    return data.create(
        OutageRow,
        "billing.outage.record",
        start=start,
        end=end,
        provider_fault=provider_fault,
        description=description,
    )


def outage_qualifying_days(row: OutageRow) -> list[date]:
    return qualifying_days(Outage(row.start, row.end, row.provider_fault))


def _charges_of_invoice_month(data: TenantData, month: date) -> Decimal:
    """Charges of a month: the charge lines (not credits, late charges or taxes) of the invoice dated
    its first day — that month's recurring charges and the usage billed in it."""
    stmt = (
        data.select(InvoiceLineRow)
        .join(InvoiceRow, InvoiceRow.id == InvoiceLineRow.invoice_id)
        .where(InvoiceRow.invoice_date == month, InvoiceLineRow.kind.in_([k.value for k in CHARGE_KINDS]))
    )
    return stored_cents(sum((Decimal(x.amount) for x in data.session.scalars(stmt)), ZERO))


def outage_credit_lines(
    data: TenantData, invoice_date: date, charges_now: Decimal
) -> tuple[list[InvoiceLine], list[OutageRow]]:
    """hosted-pbx.txt liability 1: a day with 12 continuous hours or more of outage, entirely the
    provider's fault, is credited 5% of the average month of the previous quarter "as a credit
    against the next invoice"; hosted-pbx.txt liability 2 caps a calendar year's liability at 60%
    of its charges. Every outage that ended before the invoice date is settled on this invoice."""
    stmt = data.select(OutageRow).where(
        OutageRow.credited_invoice_id.is_(None), OutageRow.end <= midnight(invoice_date)
    )
    rows = list(data.session.scalars(stmt.order_by(OutageRow.start)))
    by_quarter: dict[tuple[date, date, date], list[Outage]] = {}
    for row in rows:
        outage = Outage(row.start, row.end, row.provider_fault)
        if qualifying_days(outage):
            by_quarter.setdefault(previous_quarter(row.start.date()), []).append(outage)
    lines: list[InvoiceLine] = []
    for quarter, outages in sorted(by_quarter.items()):
        charges = [_charges_of_invoice_month(data, m) for m in quarter]
        proposed = outage_credits(outages, charges)
        year = outages[0].start.year
        year_charges = sum(
            (_charges_of_invoice_month(data, date(year, m, 1)) for m in range(1, 13)), ZERO
        ) + (charges_now if invoice_date.year == year else ZERO)
        granted = _credits_granted(data, year)
        credit = cap_annual_liability(proposed, granted, year_charges)
        if credit <= 0:
            continue
        days = sorted({d for o in outages for d in qualifying_days(o)})
        lines.append(
            make_line(
                LineKind.CREDIT,
                f"Outage credit: {len(days)} day(s) of 12 h or more, "
                f"5% of the average month of {quarter[0]:%b}-{quarter[2]:%b %Y} each",
                -credit,
                quantity=len(days),
                period_start=days[0],
                period_end=days[-1],
                source=OUTAGE_SOURCE,
            )
        )
    return lines, rows


def _credits_granted(data: TenantData, year: int) -> Decimal:
    stmt = data.select(InvoiceLineRow).where(
        InvoiceLineRow.source == OUTAGE_SOURCE,
        InvoiceLineRow.period_start >= date(year, 1, 1),
        InvoiceLineRow.period_start < date(year + 1, 1, 1),
    )
    return -sum((Decimal(x.amount) for x in data.session.scalars(stmt)), ZERO)
