from __future__ import annotations

import json
import os
import re
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from centrex.billing.invoice import (
    InvoiceInputs,
    UnratedUsageError,
    assemble_invoice,
    credit_note_to_dict,
    invoice_to_dict,
    invoice_to_json,
    issue_credit_note,
)
from centrex.billing.lines import LineKind
from centrex.billing.pdf import render_invoice_pdf
from centrex.billing.rating import rate_period
from centrex.numbers.classes import CallClass

from .demo import PLAN, demo_invoice, march_cdrs
from .helpers import cdr

GOLDEN = Path(__file__).parent / "golden" / "acme-2025-04.json"


def test_golden_invoice_for_the_demo_tenant_month() -> None:
    invoice = demo_invoice()
    text = invoice_to_json(invoice)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert json.loads(text) == json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_demo_invoice_totals_a_user_would_check() -> None:
    invoice = demo_invoice()
    assert invoice.invoice_date == date(2025, 4, 1) and invoice.due_date == date(2025, 5, 1)
    assert invoice.usage_period == (date(2025, 3, 1), date(2025, 3, 31))
    amounts = {x.description: x.amount for x in invoice.lines}
    assert amounts["Hosted PBX active seats"] == Decimal("249.50")
    assert amounts["Included minutes: 100 of 100 min allotment"] == Decimal("0.00")
    assert amounts["Domestic long distance overage: 2 min"] == Decimal("0.10")
    assert amounts["Inbound calls overage: 11 min"] == Decimal("0.55")
    assert amounts["International calls: 2 calls, 3.6 min"] == Decimal("0.10")  # 0.03 + 0.067
    assert amounts["Directory assistance: 1 call"] == Decimal("1.99")
    assert amounts["Conference calling: 1 call, 30 min"] == Decimal("3.00")
    credit = next(x for x in invoice.lines if x.kind is LineKind.CREDIT)
    assert credit.amount == Decimal("-21.00")  # 5% of (400+420+440)/3
    assert invoice.subtotal + invoice.taxes_and_surcharges == invoice.total


def test_usage_lines_carry_their_cdr_ids() -> None:
    invoice = demo_invoice()
    lines = {x.description: x for x in invoice.lines}
    assert lines["Included minutes: 100 of 100 min allotment"].cdr_ids == (
        "acme-0001",
        "acme-0002",
        "acme-0004",
    )
    assert lines["Inbound calls overage: 11 min"].cdr_ids == ("acme-0004",)
    # unanswered, on-net and 911 calls are not on the bill
    assert not invoice.cdr_ids() & {"acme-0010", "acme-0011", "acme-0012"}


def test_pdf_shows_the_total() -> None:
    invoice = demo_invoice()
    raw = render_invoice_pdf(invoice)
    assert raw.startswith(b"%PDF")
    text = b"".join(
        zlib.decompress(m.group(1))
        for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.DOTALL)
        if m.group(1)[:1] == b"x"
    )
    expected = f"Total due: ${invoice.total:,.2f}".encode()
    assert expected in text
    assert b"Acme Dental" in text
    assert render_invoice_pdf(invoice) == raw  # reproducible


def test_unrated_usage_blocks_the_invoice() -> None:
    usage = rate_period([cdr(60, call_class=CallClass.INTERNATIONAL, callee="+4930123456")], PLAN, None)
    with pytest.raises(UnratedUsageError, match="c1"):
        assemble_invoice(InvoiceInputs(tenant_id="acme", invoice_date=date(2025, 4, 1), usage=usage))
    with pytest.raises(ValueError, match="first day"):
        assemble_invoice(InvoiceInputs(tenant_id="acme", invoice_date=date(2025, 4, 2)))


def test_credit_notes_are_separate_documents() -> None:
    invoice = demo_invoice()
    before = invoice_to_dict(invoice)
    note = issue_credit_note(invoice, Decimal("10"), "billing error on 411", date(2025, 4, 20))
    assert note.total == Decimal("-10.00") and note.invoice_number == invoice.number
    assert credit_note_to_dict(note)["number"] == f"CN-{invoice.number}-1"
    assert invoice_to_dict(invoice) == before  # the issued invoice is unchanged
    with pytest.raises(ValueError, match="exceed"):
        issue_credit_note(
            invoice, invoice.total, "too much", date(2025, 4, 20), already_credited=Decimal("10")
        )


def test_rerating_gives_the_same_invoice() -> None:
    a, b = demo_invoice(), demo_invoice()
    assert a == b and a.usage_fingerprint == b.usage_fingerprint
    assert rate_period(march_cdrs(), PLAN, None).unrated  # without the deck the UK calls are unrated
