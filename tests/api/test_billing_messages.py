"""Message charges on the monthly invoice (issue 16 §4, cpaas.txt §4.3: the previous month's
transactional charges in arrears), on SQLite and PostgreSQL: the demo tenant's March with its calls
(tests/api/test_billing_api.py) plus the message detail records the messaging part writes — rated
per segment, Decimal — closed by the operator's invoice run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from centrex.billing.invoice import InvoiceInputs, assemble_invoice
from centrex.billing.lines import LineKind, make_line
from centrex.billing.plans import Feature
from centrex.billing.rating import rate_period
from centrex.billing.subscriptions import recurring_lines
from centrex.billing.taxes import DEMO_TAX_TABLE, TaxProfile
from centrex.cpaas.sids import new_sid
from centrex.store.db import make_sessionmaker, transaction
from centrex.store.models.messaging import SmsMessage
from tests.api.conftest import Api
from tests.api.test_billing_api import run, setup_demo
from tests.billing.demo import PLAN, PRICES, march_cdrs
from tests.billing.helpers import demo_deck

PER_SEGMENT = Decimal("0.0079")  # the messaging part's default price per segment (USD)


def mdr(tenant: object, status: str, segments: int, when: datetime, inbound: bool = False) -> SmsMessage:
    """A message detail record as cpaas/messaging/service.py writes it: -segments × price."""
    return SmsMessage(
        tenant_id=tenant,
        sid=new_sid("SM"),
        direction="inbound" if inbound else "outbound-api",
        from_number="+12015550100",
        to_number="+12015550199",
        body="hello",
        segments=segments,
        status=status,
        price=-(segments * PER_SEGMENT),
        category="sms_inbound" if inbound else "sms_outbound",
        created_at=when,
    )


def test_the_months_messages_are_invoice_lines_in_arrears(api: Api) -> None:
    setup_demo(api)
    march, april = datetime(2025, 3, 10, 12, tzinfo=UTC), datetime(2025, 4, 1, 0, 0, 1, tzinfo=UTC)
    a, b = api.world.a.id, api.world.b.id
    with transaction(make_sessionmaker(api.app.state.engine)) as s:
        s.add_all(
            [
                # charged: the carrier took them (delivered, undelivered, sent), received inbound
                *(mdr(a, "delivered", 1, march) for _ in range(40)),
                mdr(a, "delivered", 3, march),  # a long message: 3 segments
                mdr(a, "undelivered", 2, datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC)),
                mdr(a, "sent", 1, datetime(2025, 3, 1, 0, 0, 0, tzinfo=UTC)),
                *(mdr(a, "received", 1, march, inbound=True) for _ in range(7)),
                # not charged: refused, never left, another month, another tenant
                mdr(a, "failed", 1, march),
                mdr(a, "queued", 1, march),
                mdr(a, "delivered", 5, april),
                mdr(a, "delivered", 5, datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC)),
                mdr(b, "delivered", 9, march),
            ]
        )
    invoice = run(api, "2025-03")
    sms = [x for x in invoice["lines"] if x["source"] == "cpaas.txt §4.3"]
    assert [(x["kind"], x["description"]) for x in sms] == [
        ("usage", "SMS sent: 43 messages, 46 segments"),
        ("usage", "SMS received: 7 messages, 7 segments"),
    ]
    # 46 × 0.0079 = 0.3634 → 0.36; 7 × 0.0079 = 0.0553 → 0.06 (cents, half up, once per line)
    assert [Decimal(x["amount"]) for x in sms] == [Decimal("0.36"), Decimal("0.06")]
    assert [Decimal(x["quantity"]) for x in sms] == [Decimal(46), Decimal(7)]
    assert all(Decimal(x["unit_price"]) == PER_SEGMENT for x in sms)
    assert all((x["period_start"], x["period_end"]) == ("2025-03-01", "2025-03-31") for x in sms)
    # The total is the pure engine's with these two lines: taxed as usage (cpaas.txt §4.3).
    expected = assemble_invoice(
        InvoiceInputs(
            tenant_id="acme",
            invoice_date=date(2025, 4, 1),
            recurring=recurring_lines(
                PRICES,
                seats=10,
                features={Feature.AUTO_ATTENDANT: 1, Feature.CALL_CENTER_AGENT: 2, Feature.VOICEMAIL: 3},
                month=date(2025, 4, 1),
            ),
            usage=rate_period(march_cdrs(), PLAN, demo_deck()),
            transactional=[
                make_line(LineKind.USAGE, "sms", Decimal("0.3634")),
                make_line(LineKind.USAGE, "sms", Decimal("0.0553")),
            ],
            tax_profile=TaxProfile(jurisdictions=("US-TX", "US-TX-DALLAS"), lines=10),
            tax_table=DEMO_TAX_TABLE,
        )
    )
    assert Decimal(invoice["total"]) == expected.total
    # Tenant B's messages are on no invoice of A, and A's April messages wait for May's invoice.
    april_run = run(api, "2025-04")
    april_sms = [x for x in april_run["lines"] if x["source"] == "cpaas.txt §4.3"]
    assert [(x["description"], x["amount"]) for x in april_sms] == [
        ("SMS sent: 1 message, 5 segments", "0.04")
    ]
