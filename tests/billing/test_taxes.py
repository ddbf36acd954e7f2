from __future__ import annotations

from datetime import date
from decimal import Decimal

from centrex.billing.lines import LineKind, make_line
from centrex.billing.taxes import (
    DEMO_TAX_TABLE,
    Effective,
    ExemptionCertificate,
    PercentTax,
    TaxKind,
    TaxProfile,
    TaxTable,
    compute_taxes,
)

SERVICE = [make_line(LineKind.RECURRING, "Seats", Decimal("1000.00"))]


def test_usf_on_the_interstate_share_with_the_quarter_factor() -> None:
    profile = TaxProfile(jurisdictions=(), lines=0)
    usf_only = TaxTable(usf=DEMO_TAX_TABLE.usf)
    [usf] = compute_taxes(SERVICE, profile, usf_only, date(2025, 11, 1))
    # 1000 x 64.9% safe harbor x 38.1% (Q4-2025) = 247.269
    assert usf.amount == Decimal("247.27") and "safe harbor" in usf.description
    study = TaxProfile(jurisdictions=(), lines=0, interstate_share=Decimal("0.25"), traffic_study=True)
    [usf] = compute_taxes(SERVICE, study, usf_only, date(2025, 8, 1))
    assert usf.amount == Decimal("90.00") and "traffic study" in usf.description  # 1000 x 25% x 36.0%


def test_e911_per_line_and_state_local_taxes() -> None:
    profile = TaxProfile(jurisdictions=("US-TX", "US-TX-DALLAS"), lines=10)
    lines = compute_taxes(SERVICE, profile, DEMO_TAX_TABLE, date(2025, 11, 1))
    by_name = {x.description: x.amount for x in lines}
    assert by_name["E911 fee (US-TX)"] == Decimal("5.00")
    assert by_name["Texas state sales tax 6.25%"] == Decimal("62.50")
    assert by_name["Dallas city sales tax 1%"] == Decimal("10.00")
    assert by_name["Carrier cost recovery (pass-through) 1.862%"] == Decimal("18.62")


def test_exemption_certificate_removes_only_what_it_covers_while_valid() -> None:
    cert = ExemptionCertificate("TX-123", date(2025, 1, 1), date(2025, 12, 31))
    profile = TaxProfile(jurisdictions=("US-TX",), lines=10, certificate=cert)
    kinds = {x.description for x in compute_taxes(SERVICE, profile, DEMO_TAX_TABLE, date(2025, 11, 1))}
    assert "Texas state sales tax 6.25%" not in kinds and "E911 fee (US-TX)" in kinds
    expired = {x.description for x in compute_taxes(SERVICE, profile, DEMO_TAX_TABLE, date(2026, 1, 1))}
    assert "Texas state sales tax 6.25%" in expired


def test_carrier_surcharge_increase_applies_immediately() -> None:
    """cpaas.txt §4.8: increases in pass-through surcharges are effective immediately."""
    table = TaxTable(
        percent=(
            PercentTax(
                "*",
                TaxKind.CARRIER_SURCHARGE,
                "Carrier fee",
                Decimal("0.01"),
                Effective(date(2025, 1, 1), date(2025, 6, 1)),
            ),
            PercentTax(
                "*", TaxKind.CARRIER_SURCHARGE, "Carrier fee", Decimal("0.02"), Effective(date(2025, 6, 1))
            ),
        )
    )
    profile = TaxProfile(jurisdictions=(), lines=1)
    assert compute_taxes(SERVICE, profile, table, date(2025, 5, 1))[0].amount == Decimal("10.00")
    [line] = compute_taxes(SERVICE, profile, table, date(2025, 6, 1))
    assert line.amount == Decimal("20.00") and line.kind is LineKind.SURCHARGE
