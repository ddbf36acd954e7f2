from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from centrex.billing.categories import UsageCategory
from centrex.billing.cdr import Disposition
from centrex.billing.increments import ONE_ONE, SIX_SIX, THIRTY_SIX, Increment, billable_seconds
from centrex.billing.plans import RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.billing.rating import rate, rate_period
from centrex.numbers.classes import CallClass, Direction

from .helpers import T0, cdr, demo_deck

# An SOA with a 100-minute allotment and $0.05 per overage minute; DA $1.99; conference $0.10/min.
PBX = RatingPlan(
    code="pbx",
    pool_minutes=100,
    overage_per_minute=Decimal("0.05"),
    directory_assistance_per_call=Decimal("1.99"),
    conference_per_minute=Decimal("0.10"),
)


@pytest.mark.parametrize(
    ("duration_ms", "billed"),
    [(0, 0), (1, 60), (1_000, 60), (59_999, 60), (60_000, 60), (60_001, 120), (61_000, 120), (120_000, 120)],
)
def test_sixty_second_minimum_and_increments(duration_ms: int, billed: int) -> None:
    """hosted-pbx.txt usage 1.b: minimum 60 s, 60 s increments rounded up to the next whole minute."""
    assert billable_seconds(duration_ms) == billed


@pytest.mark.parametrize(
    ("scheme", "seconds", "billed"),
    [
        (THIRTY_SIX, 32, 36),
        (THIRTY_SIX, 57, 60),
        (THIRTY_SIX, 75, 78),
        (THIRTY_SIX, 5, 30),
        (SIX_SIX, 1, 6),
        (SIX_SIX, 13, 18),
        (ONE_ONE, 61, 61),
    ],
)
def test_other_schemes(scheme: Increment, seconds: int, billed: int) -> None:
    assert billable_seconds(seconds * 1000, scheme.minimum_s, scheme.step_s) == billed


def test_a_61_second_call_is_two_minutes_of_overage() -> None:
    charge = rate(cdr(61), PBX, None, pool_remaining_s=0)
    assert charge.billable_s == 120
    assert charge.overage_s == 120
    assert charge.amount == Decimal("0.100000")
    assert any("61 s billed as 120 s" in r for r in charge.reasons)


def test_pool_then_overage_in_start_order() -> None:
    """hosted-pbx.txt usage 1 / 1.a: the allotment first, then overage at the MOU rate."""
    calls = [cdr(99 * 60, cid="a", start=T0), cdr(150, cid="b", start=T0 + timedelta(hours=1))]
    period = rate_period(reversed(calls), PBX, None)
    first, second = period.charges
    assert (first.cdr_id, first.pool_s, first.amount) == ("a", 99 * 60, Decimal("0"))
    # 150 s -> 180 s billed; 60 s left in the pool, 120 s overage = 2 min x $0.05
    assert (second.pool_s, second.overage_s, second.amount) == (60, 120, Decimal("0.100000"))
    assert period.pool_used_s == 100 * 60
    assert period.total == Decimal("0.1")


def test_rerating_is_idempotent_and_fingerprinted() -> None:
    rng = random.Random(7)
    calls = [cdr(rng.randint(1, 900), cid=f"c{i}", start=T0 + timedelta(minutes=i)) for i in range(300)]
    a = rate_period(calls, PBX, None)
    shuffled = calls[:]
    rng.shuffle(shuffled)
    b = rate_period(shuffled, PBX, None)
    assert a == b and a.fingerprint == b.fingerprint
    other = rate_period(
        calls, RatingPlan(code="pbx", pool_minutes=99, overage_per_minute=Decimal("0.05")), None
    )
    assert other.fingerprint != a.fingerprint


def test_unanswered_and_intra_enterprise_calls_are_free() -> None:
    assert rate(cdr(0, disposition=Disposition.NO_ANSWER), PBX, None).amount == 0
    assert rate(cdr(0, disposition=Disposition.BUSY), PBX, None).reasons[0].startswith("busy")
    intra = rate(cdr(600, intra=True), PBX, None)
    assert intra.category is UsageCategory.ON_NET and intra.amount == 0 and intra.pool_s == 0


def test_emergency_is_never_charged() -> None:
    charge = rate(cdr(900, call_class=CallClass.EMERGENCY, callee="911"), PBX, None)
    assert charge.amount == 0 and charge.category is UsageCategory.EMERGENCY


def test_directory_assistance_and_conference_at_plan_rates() -> None:
    """hosted-pbx.txt usage 1.c (411 / NPA-555-1212) and 1.d (conference calling)."""
    da = rate(cdr(45, call_class=CallClass.DIRECTORY_ASSISTANCE, callee="411"), PBX, None)
    assert da.amount == Decimal("1.99") and da.category is UsageCategory.DIRECTORY_ASSISTANCE
    conf = rate(cdr(61, call_class=CallClass.CONFERENCE), PBX, None)
    assert (conf.billable_s, conf.amount) == (120, Decimal("0.2"))


def test_international_at_deck_rates_with_row_increments() -> None:
    deck = demo_deck()
    london = rate(cdr(61, call_class=CallClass.INTERNATIONAL, callee="+442071234567"), PBX, deck)
    assert (london.rate_prefix, london.billable_s, london.amount) == ("4420", 120, Decimal("0.02"))
    # 447: 30/6 with a 0.01 connection fee: 32 s -> 36 s x 0.095/60 = 0.057 + 0.01
    mobile = rate(cdr(32, call_class=CallClass.INTERNATIONAL, callee="+447700900123"), PBX, deck)
    assert (mobile.billable_s, mobile.amount) == (36, Decimal("0.067000"))
    # France 1/1 at 0.025: 7 s -> 0.0029166.. -> 0.002917 (six places, half up)
    france = rate(cdr(7, call_class=CallClass.INTERNATIONAL, callee="+33142685300"), PBX, deck)
    assert france.amount == Decimal("0.002917")
    unknown = rate(cdr(60, call_class=CallClass.INTERNATIONAL, callee="+4930123456"), PBX, deck)
    assert not unknown.rated and unknown.amount == 0 and "no rate in force" in unknown.reasons[0]


def test_voice_bundle_unlimited_categories() -> None:
    """voice-bundles.txt §2.7: Domestic Outbound, Toll-Free, Inbound and Emergency are unlimited."""
    plan = bundle_rating_plan("bundle", VoiceBundle(monthly_rate=Decimal("25")), PBX)
    for call_class, direction in [
        (CallClass.LOCAL, Direction.OUTBOUND),
        (CallClass.LD_INTERSTATE, Direction.OUTBOUND),
        (CallClass.LD_INTRASTATE, Direction.OUTBOUND),
        (CallClass.TOLL_FREE, Direction.INBOUND),
        (CallClass.LOCAL, Direction.INBOUND),
    ]:
        charge = rate(cdr(3600, call_class=call_class, direction=direction), plan, None)
        assert charge.amount == 0 and charge.pool_s == 0 and charge.billable_s == 3600
        assert "voice-bundles.txt §2.7" in charge.reasons[0]
    intl = rate(cdr(60, call_class=CallClass.INTERNATIONAL, callee="+442071234567"), plan, demo_deck())
    assert intl.amount == Decimal("0.01")


def test_increments_per_plan() -> None:
    six = RatingPlan(code="66", increment=SIX_SIX, overage_per_minute=Decimal("0.06"))
    charge = rate(cdr(13), six, None)
    assert (charge.billable_s, charge.amount) == (18, Decimal("0.018"))
