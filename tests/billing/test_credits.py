from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from centrex.billing.credits import (
    Outage,
    SlaPlan,
    cap_annual_liability,
    cpaas_liability_cap,
    outage_credit,
    outage_credits,
    qualifying_days,
    sla_monthly_credit_cap,
)
from centrex.billing.periods import previous_quarter


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 5, day, hour, tzinfo=UTC)


def test_twelve_continuous_hours_in_a_day_qualifies() -> None:
    """hosted-pbx.txt liability 1: 12 hours or more in any one day, entirely the provider's fault."""
    assert qualifying_days(Outage(at(6, 8), at(6, 20), provider_fault=True)) == [date(2025, 5, 6)]
    assert qualifying_days(Outage(at(6, 8), at(6, 19), provider_fault=True)) == []  # 11 h
    assert qualifying_days(Outage(at(6, 0), at(6, 23), provider_fault=False)) == []
    # 20:00 to 10:00 next day: 4 h + 10 h, no single day reaches 12 h
    assert qualifying_days(Outage(at(6, 20), at(7, 10), provider_fault=True)) == []
    assert qualifying_days(Outage(at(6, 10), at(8, 2), provider_fault=True)) == [
        date(2025, 5, 6),
        date(2025, 5, 7),
    ]


def test_five_percent_of_the_average_month_of_the_previous_quarter() -> None:
    """hosted-pbx.txt liability 1: 5% of the average month of the previous quarter."""
    assert previous_quarter(date(2025, 5, 6)) == (date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1))
    quarter = [Decimal("300.00"), Decimal("330.00"), Decimal("360.00")]
    assert outage_credit(quarter) == Decimal("16.50")
    outages = [
        Outage(at(6, 8), at(6, 20), True),
        Outage(at(6, 21), at(6, 23), True),
        Outage(at(9, 0), at(9, 12), True),
    ]
    assert outage_credits(outages, quarter) == Decimal("33.00")


def test_annual_liability_capped_at_sixty_percent_of_the_year() -> None:
    """hosted-pbx.txt liability 2: at most 60% of the calendar year's charges."""
    assert cap_annual_liability(Decimal("100"), Decimal("0"), Decimal("1000")) == Decimal("100.00")
    assert cap_annual_liability(Decimal("100"), Decimal("550"), Decimal("1000")) == Decimal("50.00")
    assert cap_annual_liability(Decimal("100"), Decimal("600"), Decimal("1000")) == Decimal("0.00")


def test_cpaas_liability_is_the_lesser_of_two_months_payments_and_50000() -> None:
    """cpaas.txt §7.2."""
    assert cpaas_liability_cap([Decimal("1200"), Decimal("1300")]) == Decimal("2500.00")
    assert cpaas_liability_cap([Decimal("30000"), Decimal("30000")]) == Decimal("50000.00")


def test_sla_monthly_credit_caps() -> None:
    """voip-service-guide.txt §VI (a) A LA CARTE and (b) BUNDLED."""
    a = sla_monthly_credit_cap(
        SlaPlan.A_LA_CARTE, site_fee_or_calling_charge=Decimal("150"), transport_monthly=Decimal("400")
    )
    assert a == Decimal("550.00")
    b = sla_monthly_credit_cap(
        SlaPlan.BUNDLED, bundled_base_charge=Decimal("899"), simultaneous_calling_charge=Decimal("120")
    )
    assert b == Decimal("1019.00")
