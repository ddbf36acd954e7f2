"""Recurring charges: seats and features, voice-bundle subscriptions and their term, numbers included
in bundles, and the CPaaS monthly platform fee. Pure functions returning invoice lines or new values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.money import to_cents
from centrex.billing.periods import add_months, days_in_month, month_end, month_start, next_month_start
from centrex.billing.plans import FEATURE_LABELS, Feature, PriceList

NOTICE_DAYS = 30  # voice-bundles.txt §2.5 and §2.6: "no less than thirty (30) days prior"


class ContractRuleError(ValueError):
    """A requested change that the contract does not allow; the message names the clause."""


# --- seats and feature enhancements (hosted-pbx.txt 1.a / 1.b) -----------------------------------


def recurring_lines(
    prices: PriceList, *, seats: int, features: Mapping[Feature, int], month: date
) -> list[InvoiceLine]:
    """Seats and feature enhancements for the month starting at `month`, billed in advance.

    hosted-pbx.txt 1.a: the Basic Service Active Seat Unit Charge, per active seat.
    hosted-pbx.txt 1.b: feature set enhancements "will be listed on the SOA under separate line
    items and are not included under the Active Seat Unit Charge" — one line per feature.
    """
    start, end = month_start(month), month_end(month)
    lines: list[InvoiceLine] = []
    if seats:
        lines.append(
            make_line(
                LineKind.RECURRING,
                "Hosted PBX active seats",
                prices.seat_monthly * seats,
                quantity=seats,
                unit_price=prices.seat_monthly,
                period_start=start,
                period_end=end,
                source="hosted-pbx.txt 1.a",
            )
        )
    for feature in Feature:
        count = features.get(feature, 0)
        if count <= 0:
            continue
        price = prices.feature_price(feature)
        lines.append(
            make_line(
                LineKind.RECURRING,
                FEATURE_LABELS[feature],
                price * count,
                quantity=count,
                unit_price=price,
                period_start=start,
                period_end=end,
                source="hosted-pbx.txt 1.b",
            )
        )
    return lines


# --- numbers included in voice bundles (voice-bundles.txt §2.7, §2.8) -----------------------------


@dataclass(frozen=True, slots=True)
class NumberAllocation:
    """voice-bundles.txt §2.7: one DID or toll-free number and one CNAM "per user" are included;
    §2.8: numbers ordered with the bundles "will be deducted from the available allocation"."""

    included_numbers: int
    billable_numbers: int
    included_cnam: int
    billable_cnam: int


def number_allocation(
    bundled_users: int,
    numbers_in_service: int,
    cnam_in_service: int,
    numbers_per_user: int = 1,
    cnam_per_user: int = 1,
) -> NumberAllocation:
    number_quota = bundled_users * numbers_per_user
    cnam_quota = bundled_users * cnam_per_user
    return NumberAllocation(
        included_numbers=min(numbers_in_service, number_quota),
        billable_numbers=max(0, numbers_in_service - number_quota),
        included_cnam=min(cnam_in_service, cnam_quota),
        billable_cnam=max(0, cnam_in_service - cnam_quota),
    )


def number_lines(prices: PriceList, allocation: NumberAllocation, month: date) -> list[InvoiceLine]:
    """Monthly charges for numbers and CNAM beyond the bundle allocation (voice-bundles.txt §2.7/§2.8)."""
    start, end = month_start(month), month_end(month)
    lines = []
    if allocation.billable_numbers:
        lines.append(
            make_line(
                LineKind.RECURRING,
                f"Telephone numbers beyond the bundle allocation ({allocation.included_numbers} included)",
                prices.number_monthly * allocation.billable_numbers,
                quantity=allocation.billable_numbers,
                unit_price=prices.number_monthly,
                period_start=start,
                period_end=end,
                source="voice-bundles.txt §2.7, §2.8",
            )
        )
    if allocation.billable_cnam:
        lines.append(
            make_line(
                LineKind.RECURRING,
                f"Caller ID name delivery beyond the bundle allocation ({allocation.included_cnam} included)",
                prices.cnam_monthly * allocation.billable_cnam,
                quantity=allocation.billable_cnam,
                unit_price=prices.cnam_monthly,
                period_start=start,
                period_end=end,
                source="voice-bundles.txt §2.7",
            )
        )
    return lines


def new_number_fees(
    prices: PriceList,
    allocation_before: NumberAllocation,
    bundled_users: int,
    ordered: int,
    ported: int,
    on: date,
) -> list[InvoiceLine]:
    """Set-up and port fees of numbers ordered: free while the allocation lasts (voice-bundles.txt
    §2.7 "Includes Set Up Fee / Includes Port Fee"; §2.8 deducted from the allocation)."""
    free_slots = max(0, bundled_users - allocation_before.included_numbers)
    charged = max(0, ordered - free_slots)
    charged_ported = min(ported, charged)
    lines = []
    if charged:
        lines.append(
            make_line(
                LineKind.NON_RECURRING,
                f"Number set-up fee ({ordered - charged} of {ordered} included in bundles)",
                prices.number_setup_fee * charged,
                quantity=charged,
                unit_price=prices.number_setup_fee,
                period_start=on,
                period_end=on,
                source="voice-bundles.txt §2.7, §2.8",
            )
        )
    if charged_ported:
        lines.append(
            make_line(
                LineKind.NON_RECURRING,
                "Number port fee",
                prices.number_port_fee * charged_ported,
                quantity=charged_ported,
                unit_price=prices.number_port_fee,
                period_start=on,
                period_end=on,
                source="voice-bundles.txt §2.7",
            )
        )
    return lines


# --- voice bundle subscriptions (voice-bundles.txt §2) ------------------------------------------


class DecreaseException(StrEnum):
    """voice-bundles.txt §2.4: the only reasons quantities may decrease during a term."""

    PROVIDER_MATERIAL_BREACH = "provider_material_breach"  # (i)
    PROVIDER_TERMINATION_WITHOUT_CAUSE = "provider_termination_without_cause"  # (ii)
    CUSTOMER_SECTION_3_2 = "customer_section_3_2"  # (iii) Customer's rights under §3.2 of the Agreement
    FORCE_MAJEURE = "force_majeure"  # (iv)


@dataclass(frozen=True, slots=True)
class BundleSubscription:
    """Voice Services Bundles ordered on an Order Form (voice-bundles.txt §2.1).

    `rate` is per bundle per month; the term (12 months unless the Order Form says otherwise)
    renews annually (§2.5). `next_rate` is a rate increase noticed for the next term (§2.6).
    `terminates_on` is the last day of service once a termination notice is effective (§2.5).
    """

    tenant_id: str
    start: date
    quantity: int
    rate: Decimal
    term_months: int = 12
    next_rate: Decimal | None = None
    next_rate_from: date | None = None
    terminates_on: date | None = None

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValueError("quantity must be >= 0")
        if self.term_months < 1:
            raise ValueError("term_months must be >= 1")


def term_bounds(sub: BundleSubscription, on: date) -> tuple[date, date]:
    """First and last day of the (possibly renewed, §2.5 "automatically renew on an annual basis")
    term that contains `on`."""
    if on < sub.start:
        raise ValueError(f"{on} is before the subscription start {sub.start}")
    start = sub.start
    renewals = 0
    while add_months(sub.start, (renewals + 1) * sub.term_months) <= on:
        renewals += 1
    start = add_months(sub.start, renewals * sub.term_months)
    end = add_months(sub.start, (renewals + 1) * sub.term_months) - timedelta(days=1)
    return start, end


def last_notice_day(term_last_day: date) -> date:
    """voice-bundles.txt §2.5/§2.6: notice "no less than thirty (30) days prior to the end of the
    current Subscription Term": for a term ending 31 Dec, the last day to give notice is 1 Dec."""
    return term_last_day - timedelta(days=NOTICE_DAYS)


def give_termination_notice(sub: BundleSubscription, notice_on: date) -> BundleSubscription:
    """voice-bundles.txt §2.5: termination "will be effective on the last day of the current
    Subscription Term" if notice is given at least 30 days before the term ends; a later notice
    lets the term renew, and termination takes effect at the end of the renewed term. The customer
    pays until then "regardless of the date of the notice"."""
    _, last = term_bounds(sub, notice_on)
    if notice_on > last_notice_day(last):
        _, last = term_bounds(sub, last + timedelta(days=1))
    return replace(sub, terminates_on=last)


def notify_rate_increase(sub: BundleSubscription, notice_on: date, new_rate: Decimal) -> BundleSubscription:
    """voice-bundles.txt §2.6: an increase for the following term must be notified no less than 30
    days before the current term ends."""
    _, last = term_bounds(sub, notice_on)
    if notice_on > last_notice_day(last):
        raise ContractRuleError(
            f"voice-bundles.txt §2.6: a rate increase for the term after {last} must be notified by "
            f"{last_notice_day(last)}; notice on {notice_on} is too late"
        )
    return replace(sub, next_rate=new_rate, next_rate_from=last + timedelta(days=1))


def rate_on(sub: BundleSubscription, on: date) -> Decimal:
    """The bundle rate in force on a day: the noticed increase applies from the next term (§2.6)."""
    if sub.next_rate is not None and sub.next_rate_from is not None and on >= sub.next_rate_from:
        return sub.next_rate
    return sub.rate


def renew(sub: BundleSubscription) -> BundleSubscription:
    """The subscription as it stands after its current term renews (§2.5): the noticed rate applies."""
    _, last = term_bounds(sub, sub.start)
    return replace(
        sub,
        start=last + timedelta(days=1),
        rate=sub.next_rate if sub.next_rate is not None else sub.rate,
        next_rate=None,
        next_rate_from=None,
    )


def change_quantity(
    sub: BundleSubscription, new_quantity: int, on: date, exception: DecreaseException | None = None
) -> tuple[BundleSubscription, list[InvoiceLine]]:
    """Add bundles (prorated, §2.3) or decrease them (refused unless a §2.4 exception applies)."""
    if new_quantity < sub.quantity and exception is None:
        raise ContractRuleError(
            "voice-bundles.txt §2.4: quantities of Voice Services Bundles may not be decreased during a "
            "Subscription Term (except for a provider breach, termination without cause, the customer's "
            "§3.2 rights, or force majeure)"
        )
    lines = []
    if new_quantity > sub.quantity:
        lines.append(prorated_addition(sub, new_quantity - sub.quantity, on))
    return replace(sub, quantity=new_quantity), lines


def prorated_addition(sub: BundleSubscription, added: int, on: date) -> InvoiceLine:
    """voice-bundles.txt §2.3: additional bundles at the same pricing and term, paid "at the
    pro-rated portion of that Subscription Term remaining at the time of the order".

    Bundles are invoiced monthly in advance (§2.2), so the remainder of the term is: the days left
    in the month of the order (this line, days/days-in-month, on the next invoice), then whole months
    with the rest of the quantity until the term ends.
    """
    rate = rate_on(sub, on)
    days_left = (month_end(on) - on).days + 1
    exact = rate * added * days_left / days_in_month(on)
    return make_line(
        LineKind.NON_RECURRING,
        f"{added} voice bundle(s) added {on.isoformat()}, prorated {days_left}/{days_in_month(on)} days",
        exact,
        quantity=added,
        unit_price=rate,
        period_start=on,
        period_end=month_end(on),
        source="voice-bundles.txt §2.3",
    )


def remaining_term_commitment(sub: BundleSubscription, added: int, on: date) -> Decimal:
    """What `added` bundles ordered on `on` commit the customer to until the term ends (§2.3), in
    cents: the prorated rest of this month plus the whole months left in the term."""
    _, last = term_bounds(sub, on)
    total = prorated_addition(sub, added, on).amount
    month = next_month_start(on)
    while month <= last:
        total += to_cents(rate_on(sub, month) * added)
        month = next_month_start(month)
    return total


def bundle_lines(sub: BundleSubscription, month: date) -> list[InvoiceLine]:
    """voice-bundles.txt §2.2: on the first day of the month, "the upcoming month's monthly Rates
    charges in advance" — regardless of usage (§2.1), none after the termination date (§2.5)."""
    start, end = month_start(month), month_end(month)
    if end < sub.start or sub.quantity == 0:
        return []
    if sub.terminates_on is not None and start > sub.terminates_on:
        return []
    rate = rate_on(sub, start)
    return [
        make_line(
            LineKind.RECURRING,
            "Voice Services Bundles",
            rate * sub.quantity,
            quantity=sub.quantity,
            unit_price=rate,
            period_start=start,
            period_end=end,
            source="voice-bundles.txt §2.2, §2.7",
        )
    ]


def installment(total: Decimal, k: int, n: int = 12) -> Decimal:
    """The k-th of n monthly installments of an annual amount (annual prepay billed monthly,
    voice-bundles.txt §2.2), with cumulative rounding so the n installments add up to the total
    exactly: round(total*k/n) - round(total*(k-1)/n)."""
    if not 1 <= k <= n:
        raise ValueError(f"installment {k} of {n}")
    return to_cents(total * k / n) - to_cents(total * (k - 1) / n)


# --- CPaaS monthly platform fee (cpaas.txt §4.3) --------------------------------------------------


def cpaas_platform_fee_lines(
    accepted_on: date, invoice_date: date, monthly_fee: Decimal
) -> list[InvoiceLine]:
    """cpaas.txt §4.3: "On the first day of the month following the acceptance of these Terms,
    IntelePeer will invoice Customer for any applicable Monthly Platform Fee for the initial month in
    arrears and for the upcoming month in advance, and then on the first day of each month ... for
    the upcoming month's Monthly Platform Fee in advance". The initial month is charged in full:
    the contract provides no proration.
    """
    if invoice_date.day != 1:
        raise ValueError("cpaas.txt §4.3: invoices are dated the first day of the month")
    first_invoice = next_month_start(accepted_on)
    if invoice_date < first_invoice or monthly_fee == 0:
        return []
    lines = []
    if invoice_date == first_invoice:
        initial = month_start(accepted_on)
        lines.append(
            make_line(
                LineKind.RECURRING,
                "CPaaS Monthly Platform Fee, initial month (in arrears)",
                monthly_fee,
                unit_price=monthly_fee,
                period_start=initial,
                period_end=month_end(initial),
                source="cpaas.txt §4.3",
            )
        )
    lines.append(
        make_line(
            LineKind.RECURRING,
            "CPaaS Monthly Platform Fee (in advance)",
            monthly_fee,
            unit_price=monthly_fee,
            period_start=invoice_date,
            period_end=month_end(invoice_date),
            source="cpaas.txt §4.3",
        )
    )
    return lines
