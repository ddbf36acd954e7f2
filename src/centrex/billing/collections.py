"""Collections: late charges, disputes, credit limits, suspension — and 911 through all of them.

cpaas.txt §4.4 (due 30 days from the Invoice Date), §4.5 (late charge), §4.6 (disputes),
§3.4 (suspension after a notice of non-payment), §4.2 (credit limit).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from centrex.billing.money import ZERO, to_cents
from centrex.billing.periods import add_business_days, add_months
from centrex.e911.numbers import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass

LATE_CHARGE_MONTHLY_RATE = Decimal("0.015")  # cpaas.txt §4.5: one and one-half percent per month
DISPUTE_PERIOD_DAYS = 60  # cpaas.txt §4.6
NON_PAYMENT_CURE_BUSINESS_DAYS = 5  # cpaas.txt §3.4


# --- late charges (cpaas.txt §4.5) --------------------------------------------------------------


def months_late(due: date, paid_or_as_of: date) -> int:
    """Monthly periods begun after the due date: paid on the due date = 0; the day after up to one
    month after = 1; up to two months = 2; and so on."""
    if paid_or_as_of <= due:
        return 0
    months = 1
    while add_months(due, months) < paid_or_as_of:
        months += 1
    return months


def late_charge_rate(legal_max_monthly: Decimal | None = None) -> Decimal:
    """cpaas.txt §4.5: "one and one-half percent (1.5%) per month compounded monthly, or the maximum
    rate allowable by law, whichever is less"."""
    if legal_max_monthly is None:
        return LATE_CHARGE_MONTHLY_RATE
    return min(LATE_CHARGE_MONTHLY_RATE, legal_max_monthly)


def late_charge(
    overdue: Decimal, due: date, as_of: date, *, legal_max_monthly: Decimal | None = None
) -> Decimal:
    """The late charge, in cents, on an amount not paid on or before the due date (cpaas.txt §4.5):
    overdue x ((1 + rate)^months - 1), compounded monthly. $1,000.00 three months late: $45.68."""
    if overdue <= 0:
        return Decimal("0.00")
    months = months_late(due, as_of)
    rate = late_charge_rate(legal_max_monthly)
    return to_cents(overdue * ((1 + rate) ** months - 1))


# --- disputes (cpaas.txt §4.6) ------------------------------------------------------------------


class DisputeRefused(ValueError):
    """A dispute outside the Dispute Period: the invoice is deemed accepted."""


@dataclass(frozen=True, slots=True)
class Dispute:
    invoice_number: str
    amount: Decimal
    noticed_on: date
    detail: str


def dispute_deadline(invoice_date: date, legal_period_days: int | None = None) -> date:
    """cpaas.txt §4.6: a Dispute Notice "within sixty (60) days of the Invoice Date ... unless a
    longer Dispute Period is required by applicable law". Invoice of 1 Jan: last day 2 Mar."""
    days = max(DISPUTE_PERIOD_DAYS, legal_period_days or 0)
    return invoice_date + timedelta(days=days)


def file_dispute(
    invoice_number: str,
    invoice_date: date,
    invoice_total: Decimal,
    amount: Decimal,
    noticed_on: date,
    detail: str,
    *,
    legal_period_days: int | None = None,
) -> Dispute:
    """Accept a Dispute Notice, or refuse it after the Dispute Period (the customer "will be deemed
    to have consented to the amounts charged on the invoice")."""
    deadline = dispute_deadline(invoice_date, legal_period_days)
    if noticed_on > deadline:
        raise DisputeRefused(
            f"cpaas.txt §4.6: invoice {invoice_number} of {invoice_date} could be disputed until {deadline};"
            f" a notice on {noticed_on} is too late and the invoice is deemed accepted"
        )
    if not detail.strip():
        raise ValueError("cpaas.txt §4.6: a Dispute Notice needs sufficient detail")
    if not Decimal(0) < amount <= invoice_total:
        raise ValueError(f"disputed amount must be more than 0 and at most the invoice total {invoice_total}")
    return Dispute(invoice_number, to_cents(amount), noticed_on, detail)


def deemed_accepted(invoice_date: date, as_of: date, disputes: Sequence[Dispute]) -> bool:
    """cpaas.txt §4.6: with no Dispute Notice in the Dispute Period, the invoice is accepted."""
    return as_of > dispute_deadline(invoice_date) and not disputes


def undisputed_due(invoice_total: Decimal, paid: Decimal, disputes: Sequence[Dispute]) -> Decimal:
    """What remains payable by the due date: a dispute "will not relieve Customer of its obligation
    to pay all undisputed amounts by the Due Date" (cpaas.txt §4.6)."""
    disputed = sum((d.amount for d in disputes), ZERO)
    return max(Decimal("0.00"), to_cents(invoice_total - disputed - paid))


# --- credit limit (cpaas.txt §4.2) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditDecision:
    allowed: bool
    reason: str


def check_credit(
    balance: Decimal, unbilled: Decimal, credit_limit: Decimal | None, call_class: CallClass
) -> CreditDecision:
    """Admit a new billable call only while the open balance plus unbilled usage is under the credit
    limit set in the credit review (cpaas.txt §4.2). 911 is always admitted (DESIGN: emergency
    calls are never refused for credit; the free 933 test passes too: e911/numbers.py)."""
    if not may_refuse(call_class, RefusalGround.CREDIT):
        return CreditDecision(True, "emergency calls are never refused for credit")
    if credit_limit is None:
        return CreditDecision(True, "no credit limit set")
    exposure = balance + unbilled
    if exposure >= credit_limit:
        return CreditDecision(False, f"credit limit {credit_limit} reached (exposure {to_cents(exposure)})")
    return CreditDecision(True, f"exposure {to_cents(exposure)} under the credit limit {credit_limit}")


# --- suspension (cpaas.txt §3.4) ----------------------------------------------------------------


class Standing(StrEnum):
    GOOD = "good"
    NOTICE_SENT = "notice_sent"
    SUSPENDED = "suspended"


def suspension_allowed_from(notice_on: date, holidays: Container[date] = ()) -> date:
    """cpaas.txt §3.4: after a "failure by Customer to make undisputed payments within five (5)
    business days of written notice of non-payment" the provider may suspend. Notice on Monday 3 Mar
    2025: payment is due by Monday 10 Mar; suspension is possible from Tuesday 11 Mar. `holidays` are
    not business days (collections_service passes the configured `BusinessCalendar`, by default the
    US bank holidays): notice on Wednesday 25 Nov 2026, Thanksgiving the 26th not counted, payment
    due by Thursday 3 Dec, suspension possible from Friday 4 Dec."""
    return add_business_days(notice_on, NON_PAYMENT_CURE_BUSINESS_DAYS, holidays) + timedelta(days=1)


def standing(
    undisputed_unpaid: Decimal, notice_on: date | None, as_of: date, holidays: Container[date] = ()
) -> Standing:
    """The account's standing: suspended only for undisputed amounts, after the cure period."""
    if undisputed_unpaid <= 0:
        return Standing.GOOD
    if notice_on is None:
        return Standing.GOOD
    if as_of >= suspension_allowed_from(notice_on, holidays):
        return Standing.SUSPENDED
    return Standing.NOTICE_SENT


def call_allowed(account: Standing, call_class: CallClass) -> bool:
    """Emergency (911, and the 933 test) calls are allowed whatever the standing — also when
    suspended for non-payment (DESIGN.md: "emergency calls are never refused for capacity, credit,
    suspension, fair use or fraud"; e911/numbers.py, the one definition, says what 933 passes).
    Other calls are refused while suspended (cpaas.txt §3.4 (i))."""
    if not may_refuse(call_class, RefusalGround.SUSPENSION):
        return True
    return account is not Standing.SUSPENDED
