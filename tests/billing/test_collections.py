from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from centrex.billing.collections import (
    DisputeRefused,
    Standing,
    call_allowed,
    check_credit,
    deemed_accepted,
    file_dispute,
    late_charge,
    months_late,
    standing,
    suspension_allowed_from,
    undisputed_due,
)
from centrex.billing.invoice import due_date
from centrex.numbers.classes import CallClass

INVOICE_DATE = date(2025, 1, 1)


def test_due_thirty_days_after_the_invoice_date() -> None:
    """cpaas.txt §4.4."""
    assert due_date(INVOICE_DATE) == date(2025, 1, 31)


def test_late_charge_compounds_monthly_at_one_and_a_half_percent() -> None:
    """cpaas.txt §4.5: 1.5% per month compounded monthly."""
    due = due_date(INVOICE_DATE)
    assert late_charge(Decimal("1000.00"), due, due) == Decimal("0.00")
    assert late_charge(Decimal("1000.00"), due, date(2025, 2, 1)) == Decimal("15.00")
    assert late_charge(Decimal("1000.00"), due, date(2025, 3, 31)) == Decimal("30.23")  # 1.015^2
    assert late_charge(Decimal("1000.00"), due, date(2025, 4, 30)) == Decimal("45.68")  # 1.015^3
    assert months_late(due, date(2025, 4, 30)) == 3


def test_late_charge_is_capped_by_a_lower_legal_maximum() -> None:
    due = due_date(INVOICE_DATE)
    capped = late_charge(Decimal("1000.00"), due, date(2025, 4, 30), legal_max_monthly=Decimal("0.01"))
    assert capped == Decimal("30.30")  # 1.01^3
    higher = late_charge(Decimal("1000.00"), due, date(2025, 4, 30), legal_max_monthly=Decimal("0.02"))
    assert higher == Decimal("45.68")


def test_dispute_on_day_60_accepted_and_on_day_61_refused() -> None:
    """cpaas.txt §4.6: within sixty (60) days of the Invoice Date."""
    day_60, day_61 = date(2025, 3, 2), date(2025, 3, 3)
    assert (day_60 - INVOICE_DATE).days == 60
    dispute = file_dispute(
        "INV-1", INVOICE_DATE, Decimal("500.00"), Decimal("120.00"), day_60, "wrong rate to UK"
    )
    assert dispute.amount == Decimal("120.00")
    with pytest.raises(DisputeRefused, match="deemed accepted"):
        file_dispute("INV-1", INVOICE_DATE, Decimal("500.00"), Decimal("120.00"), day_61, "wrong rate to UK")
    assert deemed_accepted(INVOICE_DATE, day_61, []) is True
    assert deemed_accepted(INVOICE_DATE, day_60, []) is False
    # a longer period required by law wins
    file_dispute("INV-1", INVOICE_DATE, Decimal("500.00"), Decimal("1"), day_61, "x", legal_period_days=90)


def test_undisputed_amounts_are_still_due() -> None:
    dispute = file_dispute(
        "INV-1", INVOICE_DATE, Decimal("500.00"), Decimal("120.00"), date(2025, 1, 10), "x"
    )
    assert undisputed_due(Decimal("500.00"), Decimal("0"), [dispute]) == Decimal("380.00")
    assert undisputed_due(Decimal("500.00"), Decimal("380.00"), [dispute]) == Decimal("0.00")


def test_suspension_five_business_days_after_the_notice() -> None:
    """cpaas.txt §3.4: undisputed payments not made within five (5) business days of the notice."""
    notice = date(2025, 3, 3)  # a Monday
    assert suspension_allowed_from(notice) == date(2025, 3, 11)
    assert standing(Decimal("380.00"), notice, date(2025, 3, 10)) is Standing.NOTICE_SENT
    assert standing(Decimal("380.00"), notice, date(2025, 3, 11)) is Standing.SUSPENDED
    assert standing(Decimal("0"), notice, date(2025, 3, 11)) is Standing.GOOD
    # a holiday in the cure period pushes it back a day
    assert suspension_allowed_from(notice, holidays={date(2025, 3, 5)}) == date(2025, 3, 12)


def test_emergency_calls_allowed_when_suspended_or_over_the_credit_limit() -> None:
    assert call_allowed(Standing.SUSPENDED, CallClass.EMERGENCY) is True
    assert call_allowed(Standing.SUSPENDED, CallClass.EMERGENCY_TEST) is True
    assert call_allowed(Standing.SUSPENDED, CallClass.LOCAL) is False
    assert call_allowed(Standing.NOTICE_SENT, CallClass.LOCAL) is True
    assert check_credit(Decimal("900"), Decimal("150"), Decimal("1000"), CallClass.EMERGENCY).allowed
    refused = check_credit(Decimal("900"), Decimal("150"), Decimal("1000"), CallClass.INTERNATIONAL)
    assert not refused.allowed and "credit limit 1000" in refused.reason
    assert check_credit(Decimal("900"), Decimal("50"), Decimal("1000"), CallClass.INTERNATIONAL).allowed
