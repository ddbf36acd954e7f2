"""Outage credits and liability caps.

hosted-pbx.txt liability clause 1 (outage credit), clause 2 (annual cap); cpaas.txt §7.2 (CPaaS
cap); voip-service-guide.txt §VI (monthly SLA credit caps of the A LA CARTE and BUNDLED plans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from centrex.billing.money import ZERO, to_cents

OUTAGE_MIN_CONTINUOUS = timedelta(hours=12)  # hosted-pbx.txt liability 1
OUTAGE_CREDIT_SHARE = Decimal("0.05")  # hosted-pbx.txt liability 1: "5% of the charges"
ANNUAL_LIABILITY_SHARE = Decimal("0.60")  # hosted-pbx.txt liability 2: "60% of the total charges"
CPAAS_LIABILITY_CEILING = Decimal("50000.00")  # cpaas.txt §7.2
CPAAS_LIABILITY_MONTHS = 2  # cpaas.txt §7.2


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime
    provider_fault: bool  # "attributable entirely due to the fault of" the provider

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("outage times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an outage ends after it starts")


def qualifying_days(outage: Outage) -> list[date]:
    """hosted-pbx.txt liability 1: days (UTC) on which the Service was unavailable "for a continuous
    period of 12 hours or more in any one day", attributable entirely to the provider."""
    if not outage.provider_fault:
        return []
    days = []
    day = outage.start.astimezone(UTC).date()
    while True:
        day_start = datetime.combine(day, time.min, tzinfo=UTC)
        day_end = day_start + timedelta(days=1)
        if day_start >= outage.end:
            break
        overlap = min(outage.end, day_end) - max(outage.start, day_start)
        if overlap >= OUTAGE_MIN_CONTINUOUS:
            days.append(day)
        day += timedelta(days=1)
    return days


def outage_credit(previous_quarter_monthly_charges: Sequence[Decimal]) -> Decimal:
    """hosted-pbx.txt liability 1: "5% of the charges incurred in the average month for the previous
    quarter ... paid as a credit against the next invoice". Months $300, $330, $360: $16.50."""
    if len(previous_quarter_monthly_charges) != 3:
        raise ValueError("the previous quarter has three months of charges")
    average = sum(previous_quarter_monthly_charges, ZERO) / 3
    return to_cents(average * OUTAGE_CREDIT_SHARE)


def outage_credits(outages: Sequence[Outage], previous_quarter_monthly_charges: Sequence[Decimal]) -> Decimal:
    """One credit per qualifying day (several outages on the same day count once)."""
    days = {d for o in outages for d in qualifying_days(o)}
    return outage_credit(previous_quarter_monthly_charges) * len(days)


def cap_annual_liability(proposed: Decimal, granted_this_year: Decimal, year_charges: Decimal) -> Decimal:
    """hosted-pbx.txt liability 2: liability for a calendar year "will not exceed 60% of the total
    charges paid or payable by the Customer for the Service in such calendar year". Returns the part
    of `proposed` that fits under the cap."""
    cap = to_cents(year_charges * ANNUAL_LIABILITY_SHARE)
    room = max(ZERO, cap - granted_this_year)
    return to_cents(min(proposed, room))


def cpaas_liability_cap(payments_previous_two_months: Sequence[Decimal]) -> Decimal:
    """cpaas.txt §7.2: aggregate liability at most "the amount of payments actually received ...
    during the two (2) months immediately preceding the event ... or fifty thousand US dollars
    ($50,000.00), whichever amount is less"."""
    if len(payments_previous_two_months) != CPAAS_LIABILITY_MONTHS:
        raise ValueError("payments of the two months immediately preceding the event")
    return to_cents(min(sum(payments_previous_two_months, ZERO), CPAAS_LIABILITY_CEILING))


class SlaPlan(StrEnum):
    A_LA_CARTE = "a_la_carte"
    BUNDLED = "bundled"


def sla_monthly_credit_cap(
    plan: SlaPlan,
    *,
    site_fee_or_calling_charge: Decimal = ZERO,
    transport_monthly: Decimal = ZERO,
    bundled_base_charge: Decimal = ZERO,
    simultaneous_calling_charge: Decimal = ZERO,
) -> Decimal:
    """voip-service-guide.txt §VI: the maximum SLA credit in a calendar month is
    (a) A LA CARTE: "the applicable monthly site fee or monthly simultaneous calling charge plus the
        applicable monthly recurring fee for the related Internet Dedicated or Private IP service";
    (b) BUNDLED: "the monthly recurring base charge and simultaneous calling charge that, absent the
        credit, would have been charged".
    """
    if plan is SlaPlan.A_LA_CARTE:
        return to_cents(site_fee_or_calling_charge + transport_monthly)
    return to_cents(bundled_base_charge + simultaneous_calling_charge)


def cap_monthly_sla_credit(proposed: Decimal, monthly_cap: Decimal) -> Decimal:
    return to_cents(min(proposed, monthly_cap))
