"""The demo tenant month behind the golden invoice (tests/billing/golden/acme-2025-04.json)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.credits import Outage, outage_credits
from centrex.billing.invoice import Invoice, InvoiceInputs, assemble_invoice
from centrex.billing.lines import LineKind, make_line
from centrex.billing.plans import Feature, PriceList, RatingPlan
from centrex.billing.rating import rate_period
from centrex.billing.subscriptions import recurring_lines
from centrex.billing.taxes import DEMO_TAX_TABLE, TaxProfile
from centrex.numbers.classes import CallClass, Direction

from .helpers import demo_deck

PLAN = RatingPlan(
    code="pbx-100",
    pool_minutes=100,
    overage_per_minute=Decimal("0.05"),
    directory_assistance_per_call=Decimal("1.99"),
    conference_per_minute=Decimal("0.10"),
)
PRICES = PriceList(
    seat_monthly=Decimal("24.95"),
    features_monthly={
        Feature.AUTO_ATTENDANT: Decimal("15.00"),
        Feature.CALL_CENTER_AGENT: Decimal("20.00"),
        Feature.VOICEMAIL: Decimal("3.00"),
    },
)
MARCH = datetime(2025, 3, 3, 15, tzinfo=UTC)


def _call(
    n: int,
    seconds: int,
    call_class: CallClass,
    callee: str,
    *,
    direction: Direction = Direction.OUTBOUND,
    **kw: object,
) -> CallRecord:
    disposition = kw.pop("disposition", Disposition.ANSWERED)
    assert isinstance(disposition, Disposition)
    return CallRecord(
        id=f"acme-{n:04d}",
        tenant_id="acme",
        caller="+12145550100",
        callee=callee,
        call_class=call_class,
        direction=direction,
        start=MARCH + timedelta(hours=n),
        duration_ms=seconds * 1000,
        disposition=disposition,
        is_intra_enterprise=bool(kw.get("intra", False)),
    )


def march_cdrs() -> list[CallRecord]:
    return [
        _call(1, 3000, CallClass.LD_INTERSTATE, "+13035550100"),  # 50 min from the allotment
        _call(2, 2400, CallClass.LD_INTRASTATE, "+15125550100"),  # 40 min from the allotment
        _call(3, 61, CallClass.LOCAL, "+12145550199"),  # local: included in the seat
        _call(
            4, 1201, CallClass.LOCAL, "+12145550123", direction=Direction.INBOUND
        ),  # 21 min: 10 pool + 11 over
        _call(5, 61, CallClass.LD_INTERSTATE, "+14155550100"),  # 2 min overage
        _call(6, 125, CallClass.INTERNATIONAL, "+442071234567"),  # 3 min x 0.01 (before 15 Mar)
        _call(7, 32, CallClass.INTERNATIONAL, "+447700900123"),  # 36 s x 0.095/60 + 0.01
        _call(8, 30, CallClass.DIRECTORY_ASSISTANCE, "411"),  # $1.99
        _call(9, 1799, CallClass.CONFERENCE, "+12145550999"),  # 30 min x 0.10
        _call(10, 0, CallClass.LD_INTERSTATE, "+13035550111", disposition=Disposition.NO_ANSWER),
        _call(11, 600, CallClass.ON_NET, "+12145550101", intra=True),
        _call(12, 240, CallClass.EMERGENCY, "911"),
    ]


def demo_invoice() -> Invoice:
    invoice_date = date(2025, 4, 1)
    usage = rate_period(march_cdrs(), PLAN, demo_deck())
    recurring = recurring_lines(
        PRICES,
        seats=10,
        features={Feature.AUTO_ATTENDANT: 1, Feature.CALL_CENTER_AGENT: 2, Feature.VOICEMAIL: 3},
        month=invoice_date,
    )
    outage = Outage(
        datetime(2025, 3, 20, 6, tzinfo=UTC), datetime(2025, 3, 20, 19, tzinfo=UTC), provider_fault=True
    )
    credit = outage_credits([outage], [Decimal("400.00"), Decimal("420.00"), Decimal("440.00")])
    credits = [
        make_line(
            LineKind.CREDIT,
            "Outage credit: 13 h on 2025-03-20 (5% of the average month of Q4 2024)",
            -credit,
            period_start=date(2025, 3, 20),
            period_end=date(2025, 3, 20),
            source="hosted-pbx.txt liability 1",
        )
    ]
    return assemble_invoice(
        InvoiceInputs(
            tenant_id="acme",
            customer_name="Acme Dental, Dallas TX",
            invoice_date=invoice_date,
            recurring=recurring,
            usage=usage,
            credits=credits,
            tax_profile=TaxProfile(jurisdictions=("US-TX", "US-TX-DALLAS"), lines=10),
            tax_table=DEMO_TAX_TABLE,
        )
    )
