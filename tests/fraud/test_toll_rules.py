"""The toll-fraud guard's rules as pure functions: both the tenant and the user must enable a
destination class; a high-risk prefix needs premium; the credit left is shared by calls up."""

from __future__ import annotations

import uuid
from decimal import Decimal

from centrex.fairuse.toll_rules import (
    TollPolicy,
    TollView,
    cost,
    destination_refusal,
    high_risk_prefix,
    seconds_left,
)
from centrex.numbers.classes import CallClass

USER = uuid.uuid4()
UK = "+442079460000"


def test_international_needs_the_tenant_and_the_user() -> None:
    assert destination_refusal(CallClass.INTERNATIONAL, UK, TollView(), USER) == "toll_international"
    tenant_only = TollView(TollPolicy(international=True))
    assert destination_refusal(CallClass.INTERNATIONAL, UK, tenant_only, USER) == "toll_international"
    both = TollView(TollPolicy(international=True), {USER: TollPolicy(international=True)})
    assert destination_refusal(CallClass.INTERNATIONAL, UK, both, USER) is None
    assert destination_refusal(CallClass.LD_INTERSTATE, "+12125550199", TollView(), USER) is None


def test_a_high_risk_prefix_needs_premium_even_when_international_is_on() -> None:
    risky = (("+4470", Decimal("12")), ("+44", None))
    assert high_risk_prefix("+447012345678", risky) == ("+4470", Decimal("12"))  # the longest
    view = TollView(TollPolicy(international=True), {USER: TollPolicy(international=True)}, risky)
    assert destination_refusal(CallClass.INTERNATIONAL, "+447012345678", view, USER) == "toll_premium"
    premium = TollView(TollPolicy(True, True), {USER: TollPolicy(True, True)}, risky)
    assert destination_refusal(CallClass.INTERNATIONAL, "+447012345678", premium, USER) is None


def test_the_credit_left_is_shared_by_the_calls_up() -> None:
    assert cost(Decimal("12.00"), 2.5) == Decimal("0.500000")
    assert seconds_left(Decimal("0.50"), Decimal("12.00")) == 2.5  # one call at 12.00/min
    assert seconds_left(Decimal("0.50"), Decimal("24.00")) == 1.25  # two such calls at once
    assert seconds_left(Decimal("-1"), Decimal("12.00")) == 0.0
    assert seconds_left(Decimal("5"), Decimal("0")) is None  # nothing billable is up
