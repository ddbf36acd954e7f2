"""The vectorized batch path gives exactly the scalar reference's charges."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from centrex.billing.batch import CdrColumns, CompiledDeck, PlanTable, rate_batch
from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.deck import RateDeck, RateRow
from centrex.billing.increments import ONE_ONE, SIX_SIX, SIXTY_SIXTY, THIRTY_SIX
from centrex.billing.plans import RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.billing.rating import rate_period
from centrex.numbers.classes import CallClass, Direction

START = datetime(2025, 3, 1, tzinfo=UTC)
MID = datetime(2025, 3, 16, 12, tzinfo=UTC)


def random_deck(rng: random.Random, prefixes: int) -> RateDeck:
    rows: list[RateRow] = []
    seen: set[str] = set()
    while len(seen) < prefixes:
        p = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(1, 5)))
        if p in seen:
            continue
        seen.add(p)
        scheme = rng.choice([SIXTY_SIXTY, THIRTY_SIX, SIX_SIX, ONE_ONE])
        rate = Decimal(rng.randint(1, 2_000_000)) / 1_000_000
        fee = Decimal(rng.choice([0, 0, 10_000, 1])) / 1_000_000
        if rng.random() < 0.2:  # a rate change in the middle of the month
            rows.append(RateRow(p, "x", rate, fee, scheme.minimum_s, scheme.step_s, START, MID))
            rows.append(RateRow(p, "x", rate * 2, fee, scheme.minimum_s, scheme.step_s, MID, None))
        elif rng.random() < 0.1:  # a row that only starts mid-month
            rows.append(RateRow(p, "x", rate, fee, scheme.minimum_s, scheme.step_s, MID, None))
        else:
            rows.append(RateRow(p, "x", rate, fee, scheme.minimum_s, scheme.step_s, START, None))
    return RateDeck(name="random", version=3, rows=tuple(rows))


def random_cdrs(rng: random.Random, n: int, tenants: list[str]) -> list[CallRecord]:
    classes = list(CallClass)
    out: list[CallRecord] = []
    for i in range(n):
        answered = rng.random() < 0.85
        call_class = rng.choice(classes + [CallClass.INTERNATIONAL] * 4 + [CallClass.LD_INTERSTATE] * 4)
        direction = rng.choice([Direction.OUTBOUND] * 4 + [Direction.INBOUND, Direction.INTERNAL])
        callee = (
            "+" + str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(6, 13)))
        )
        out.append(
            CallRecord(
                id=f"cdr-{rng.randint(0, 10**9):09d}-{i}",
                tenant_id=rng.choice(tenants),
                caller="+13035550100",
                callee=callee,
                call_class=call_class,
                direction=direction,
                start=START
                + timedelta(seconds=rng.randint(0, 30 * 86400), microseconds=rng.choice([0, 1, 500])),
                duration_ms=rng.choice([0, 1, 999, 1000, 59_999, 60_000, 60_001, rng.randint(1, 4_000_000)])
                if answered
                else 0,
                disposition=Disposition.ANSWERED if answered else Disposition.NO_ANSWER,
                is_intra_enterprise=rng.random() < 0.03,
            )
        )
    return out


PLANS = [
    RatingPlan(
        code="pbx",
        pool_minutes=300,
        overage_per_minute=Decimal("0.045"),
        directory_assistance_per_call=Decimal("1.99"),
        conference_per_minute=Decimal("0.1"),
    ),
    RatingPlan(code="six", increment=SIX_SIX, pool_minutes=20, overage_per_minute=Decimal("0.0333")),
    bundle_rating_plan(
        "bundle", VoiceBundle(monthly_rate=Decimal("25")), RatingPlan(code="b", increment=ONE_ONE)
    ),
    RatingPlan(code="metered", increment=THIRTY_SIX, pooled=frozenset(), local_per_minute=Decimal("0.007")),
]


def test_batch_equals_scalar_on_thousands_of_random_cdrs() -> None:
    rng = random.Random(2025)
    deck = random_deck(rng, 400)
    tenants = [f"t{i}" for i in range(12)]
    plan_of_tenant = [i % len(PLANS) for i in range(len(tenants))]
    records = random_cdrs(rng, 6000, tenants)
    # numbers that surely hit the deck
    records += [
        CallRecord(
            id=f"hit-{i}",
            tenant_id=rng.choice(tenants),
            caller="+13035550100",
            callee="+" + row.prefix + "5550123",
            call_class=CallClass.INTERNATIONAL,
            direction=Direction.OUTBOUND,
            start=rng.choice([START, MID - timedelta(microseconds=1), MID, MID + timedelta(days=3)]),
            duration_ms=rng.randint(0, 900_000),
        )
        for i, row in enumerate(deck.rows[:500])
    ]
    columns = CdrColumns.from_records(records, tenants, plan_of_tenant)
    compiled = CompiledDeck(deck)
    pools = {t: PLANS[plan_of_tenant[t]].pool_minutes * 60 for t in range(len(tenants))}
    result = rate_batch(columns, PlanTable.build(PLANS), compiled, pools)

    by_id = {r.id: i for i, r in enumerate(records)}
    grand = Decimal(0)
    for t, tenant in enumerate(tenants):
        mine = [r for r in records if r.tenant_id == tenant]
        period = rate_period(mine, PLANS[plan_of_tenant[t]], deck)
        for scalar in period.charges:
            batch = result.charge(by_id[scalar.cdr_id], scalar.cdr_id, tenant, compiled)
            assert batch == scalar.__class__(**{**_fields(scalar), "reasons": ()}), scalar
        assert result.totals_by_tenant(len(tenants))[t] == period.total
        grand += period.total
    assert result.total() == grand
    assert (~result.rated).any() and result.pool_s.any() and result.overage_s.any()


def _fields(charge: object) -> dict[str, object]:
    return {name: getattr(charge, name) for name in charge.__slots__}  # type: ignore[attr-defined]


def test_batch_without_a_deck_marks_international_unrated() -> None:
    rng = random.Random(1)
    records = [r for r in random_cdrs(rng, 500, ["a"]) if r.call_class is CallClass.INTERNATIONAL]
    columns = CdrColumns.from_records(records, ["a"], [0])
    result = rate_batch(columns, PlanTable.build(PLANS[:1]), None, {0: 0})
    period = rate_period(records, PLANS[0], None)
    assert [bool(x) for x in result.rated] == [
        c.rated for c in sorted(period.charges, key=lambda c: [r.id for r in records].index(c.cdr_id))
    ]
