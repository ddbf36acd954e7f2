"""A readable PDF of an invoice (fpdf2, core fonts). Pure: Invoice in, bytes out."""

from __future__ import annotations

from datetime import UTC, datetime, time

from fpdf import FPDF

from centrex.billing.invoice import Invoice
from centrex.billing.lines import InvoiceLine
from centrex.billing.money import format_usd

_REPLACEMENTS = {"–": "-", "—": "-", "’": "'", "“": '"', "”": '"', "…": "...", "×": "x"}


def _latin1(text: str) -> str:
    """Core PDF fonts are Latin-1; replace what they cannot show."""
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def _period(line: InvoiceLine) -> str:
    if line.period_start is None:
        return ""
    if line.period_end is None or line.period_end == line.period_start:
        return line.period_start.isoformat()
    return f"{line.period_start:%Y-%m-%d} to {line.period_end:%Y-%m-%d}"


def render_invoice_pdf(invoice: Invoice, *, provider: str = "Centrex", compress: bool = True) -> bytes:
    """Header, customer, dates, a table of lines (description, period, quantity, amount) and totals.
    The total appears as "Total due: $1,234.56"."""
    pdf = FPDF(format="Letter")
    pdf.set_compression(compress)
    pdf.set_title(_latin1(f"Invoice {invoice.number}"))
    # reproducible bytes: the document is dated by the invoice, not by the clock
    pdf.set_creation_date(datetime.combine(invoice.invoice_date, time.min, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"{provider} - Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    customer = invoice.customer_name or invoice.tenant_id
    for text in (
        f"Customer: {customer} ({invoice.tenant_id})",
        f"Invoice date: {invoice.invoice_date:%Y-%m-%d}    Due date: {invoice.due_date:%Y-%m-%d}",
        f"Usage period: {invoice.usage_period[0]:%Y-%m-%d} to {invoice.usage_period[1]:%Y-%m-%d}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (92, 46, 20, 28)
    pdf.set_font("Helvetica", "B", 9)
    for width, head, align in zip(widths, ("Description", "Period", "Qty", "Amount"), "LLRR", strict=True):
        pdf.cell(width, 7, head, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in invoice.lines:
        description = _latin1(line.description)
        if pdf.get_string_width(description) > widths[0] - 2:
            while pdf.get_string_width(description + "...") > widths[0] - 2:
                description = description[:-1]
            description += "..."
        quantity = f"{line.quantity.normalize():f}" if line.quantity != 1 else "1"
        pdf.cell(widths[0], 6, description)
        pdf.cell(widths[1], 6, _period(line))
        pdf.cell(widths[2], 6, quantity, align="R")
        pdf.cell(widths[3], 6, format_usd(line.amount), align="R")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for label, amount in (
        ("Subtotal", invoice.subtotal),
        ("Taxes and surcharges", invoice.taxes_and_surcharges),
    ):
        pdf.cell(sum(widths[:3]), 6, f"{label}:", align="R")
        pdf.cell(widths[3], 6, format_usd(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(
        sum(widths), 9, f"Total due: {format_usd(invoice.total)}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        4,
        _latin1(
            f"Payment is due by {invoice.due_date:%Y-%m-%d}, thirty days from the invoice date."
            " Disputes must be notified within sixty days of the invoice date."
            " Amounts not paid by the due date bear a late charge of 1.5% per month,"
            " compounded monthly, or the legal maximum if lower."
        ),
    )
    return bytes(pdf.output())
