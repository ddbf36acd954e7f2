from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from centrex.billing.lines import LineKind
from centrex.billing.plans import Feature, PriceList
from centrex.billing.subscriptions import (
    BundleSubscription,
    ContractRuleError,
    DecreaseException,
    bundle_lines,
    change_quantity,
    cpaas_platform_fee_lines,
    give_termination_notice,
    installment,
    new_number_fees,
    notify_rate_increase,
    number_allocation,
    number_lines,
    recurring_lines,
    remaining_term_commitment,
    renew,
    term_bounds,
)

PRICES = PriceList(
    seat_monthly=Decimal("24.95"),
    features_monthly={
        Feature.AUTO_ATTENDANT: Decimal("15.00"),
        Feature.CALL_CENTER_AGENT: Decimal("20.00"),
        Feature.CALL_CENTER_QUEUE: Decimal("10.00"),
        Feature.CALL_ACCOUNTING: Decimal("5.00"),
        Feature.FAX: Decimal("7.50"),
        Feature.VOICEMAIL: Decimal("3.00"),
    },
    number_monthly=Decimal("1.50"),
    number_setup_fee=Decimal("5.00"),
    number_port_fee=Decimal("10.00"),
    cnam_monthly=Decimal("0.75"),
)
SUB = BundleSubscription(tenant_id="acme", start=date(2025, 1, 1), quantity=10, rate=Decimal("30.00"))


def test_seats_and_each_feature_are_separate_lines() -> None:
    """hosted-pbx.txt 1.a seat unit charge; 1.b enhancements on separate line items."""
    features = {Feature.AUTO_ATTENDANT: 1, Feature.CALL_CENTER_AGENT: 2, Feature.FAX: 1, Feature.VOICEMAIL: 3}
    lines = recurring_lines(PRICES, seats=12, features=features, month=date(2025, 4, 1))
    assert [(x.description, x.amount) for x in lines] == [
        ("Hosted PBX active seats", Decimal("299.40")),
        ("Auto Attendant", Decimal("15.00")),
        ("Call Center Agent", Decimal("40.00")),
        ("Faxing", Decimal("7.50")),
        ("Voice Mailbox (standalone)", Decimal("9.00")),
    ]
    assert all(x.period_start == date(2025, 4, 1) and x.period_end == date(2025, 4, 30) for x in lines)


def test_one_number_and_one_cnam_per_bundled_user() -> None:
    """voice-bundles.txt §2.7 (1 per user) and §2.8 (deducted from the allocation)."""
    alloc = number_allocation(bundled_users=10, numbers_in_service=13, cnam_in_service=10)
    assert (alloc.included_numbers, alloc.billable_numbers, alloc.billable_cnam) == (10, 3, 0)
    [line] = number_lines(PRICES, alloc, date(2025, 4, 1))
    assert line.amount == Decimal("4.50")
    before = number_allocation(10, 8, 8)
    fees = new_number_fees(PRICES, before, bundled_users=10, ordered=5, ported=5, on=date(2025, 4, 3))
    # two fit in the allocation (set-up and port fees included); three are charged
    assert [(x.quantity, x.amount) for x in fees] == [(3, Decimal("15.00")), (3, Decimal("30.00"))]


def test_term_renewal_and_thirty_day_notice() -> None:
    """voice-bundles.txt §2.5: auto-renewal unless notice no less than 30 days before the term ends;
    termination effective on the term's last day."""
    assert term_bounds(SUB, date(2025, 6, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert term_bounds(SUB, date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 12, 31))
    on_time = give_termination_notice(SUB, date(2025, 12, 1))
    assert on_time.terminates_on == date(2025, 12, 31)
    late = give_termination_notice(SUB, date(2025, 12, 2))
    assert late.terminates_on == date(2026, 12, 31)
    # billed until the end of the term regardless of the notice date, then nothing
    assert bundle_lines(on_time, date(2025, 12, 1))[0].amount == Decimal("300.00")
    assert bundle_lines(on_time, date(2026, 1, 1)) == []


def test_rate_increase_needs_thirty_days_notice_and_applies_next_term() -> None:
    """voice-bundles.txt §2.6."""
    raised = notify_rate_increase(SUB, date(2025, 11, 30), Decimal("32.00"))
    assert bundle_lines(raised, date(2025, 12, 1))[0].amount == Decimal("300.00")
    assert bundle_lines(raised, date(2026, 1, 1))[0].amount == Decimal("320.00")
    assert renew(raised).rate == Decimal("32.00") and renew(raised).start == date(2026, 1, 1)
    with pytest.raises(ContractRuleError, match=r"§2\.6"):
        notify_rate_increase(SUB, date(2025, 12, 2), Decimal("32.00"))


def test_added_bundles_are_prorated_and_decreases_refused() -> None:
    """voice-bundles.txt §2.3 (prorated to the end of the term) and §2.4 (no decrease)."""
    grown, [line] = change_quantity(SUB, 12, date(2025, 4, 16))
    assert grown.quantity == 12
    # 2 bundles x $30 x 15/30 days of April
    assert line.kind is LineKind.NON_RECURRING and line.amount == Decimal("30.00")
    # the rest of April + May..December = 30 + 8 x 60
    assert remaining_term_commitment(SUB, 2, date(2025, 4, 16)) == Decimal("510.00")
    with pytest.raises(ContractRuleError, match=r"§2\.4"):
        change_quantity(grown, 11, date(2025, 6, 1))
    shrunk, lines = change_quantity(grown, 11, date(2025, 6, 1), DecreaseException.FORCE_MAJEURE)
    assert shrunk.quantity == 11 and lines == []


def test_annual_prepay_installments_add_up() -> None:
    total = Decimal("3600.10")
    parts = [installment(total, k) for k in range(1, 13)]
    assert sum(parts) == total and set(parts) <= {Decimal("300.01"), Decimal("300.00"), Decimal("300.009")}


def test_cpaas_first_invoice_initial_month_in_arrears_plus_next_in_advance() -> None:
    """cpaas.txt §4.3."""
    fee = Decimal("99.00")
    first = cpaas_platform_fee_lines(date(2025, 3, 14), date(2025, 4, 1), fee)
    assert [(x.period_start, x.amount) for x in first] == [
        (date(2025, 3, 1), Decimal("99.00")),
        (date(2025, 4, 1), Decimal("99.00")),
    ]
    later = cpaas_platform_fee_lines(date(2025, 3, 14), date(2025, 5, 1), fee)
    assert [(x.period_start, x.amount) for x in later] == [(date(2025, 5, 1), Decimal("99.00"))]
    assert cpaas_platform_fee_lines(date(2025, 3, 14), date(2025, 3, 1), fee) == []
