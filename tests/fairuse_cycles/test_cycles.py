"""Synthetic billing cycles through the fair-use monitors (voice-bundles.txt §3.2, §3.3): a normal
office triggers nothing; each prohibited pattern is found with its evidence; a finding walks through
notice, cure, a comeback after the cure, and re-rating or the termination flag."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from centrex.billing.cdr import CallRecord, Disposition
from centrex.billing.plans import RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.fairuse.cure import Case, State, advance, records_of_use, rerate_amount
from centrex.fairuse.detectors import CARRIER_TYPES_FIXTURE, Kind, load_carrier_types, review
from centrex.numbers.classes import CallClass, Direction

CARRIERS = load_carrier_types(CARRIER_TYPES_FIXTURE)
SITES = {"hq": "217528"}
BUNDLE = bundle_rating_plan(
    "bundle",
    VoiceBundle(monthly_rate=Decimal("25")),
    RatingPlan(code="base", pool_minutes=0, overage_per_minute=Decimal("0.02")),
)
PREFIXES = sorted(CARRIERS)


def start(month: int, day: int, second: int = 0) -> datetime:
    return datetime(2026, month, 1, 9, tzinfo=UTC) + timedelta(days=day, seconds=second)


def call(i: int, when: datetime, *, user: str, callee: str, seconds: float, **kw: object) -> CallRecord:
    answered = seconds > 0
    values: dict[str, object] = {
        "id": f"c{i}",
        "tenant_id": "acme",
        "caller": "+12175281001",
        "callee": callee,
        "call_class": CallClass.LD_INTERSTATE,
        "direction": Direction.OUTBOUND,
        "start": when,
        "duration_ms": int(seconds * 1000),
        "disposition": Disposition.ANSWERED if answered else Disposition.NO_ANSWER,
        "answer": when if answered else None,
        "site_id": "hq",
        "user_id": user,
    }
    values.update(kw)
    return CallRecord(**values)  # type: ignore[arg-type]


def office(month: int, seed: int = 1, toll_free_share: float = 0.05) -> list[CallRecord]:
    """20 people, 15 calls a day for 22 days, to every kind of carrier; some toll-free calls in."""
    rng = random.Random(seed)
    out: list[CallRecord] = []
    for u in range(20):
        for d in range(22):
            for k in range(15):
                when = start(month, d, u * 31 + k * 1800 + rng.randint(0, 600))
                callee = f"+1{rng.choice(PREFIXES)}{rng.randint(1000, 9999)}"
                seconds = rng.choice([0, 45, 120, 240, 600]) if rng.random() < 0.8 else 0
                out.append(call(len(out), when, user=f"u{u}", callee=callee, seconds=seconds))
    minutes = sum(r.duration_ms for r in out) / 60_000
    toll_free_minutes = minutes * toll_free_share / (1 - toll_free_share)
    for j in range(int(toll_free_minutes // 10)):  # 10-minute calls into the toll-free number
        out.append(
            call(
                len(out),
                start(month, j % 22, (j // 22) * 700),
                user=f"u{j % 20}",
                callee="+18005550100",
                seconds=600,
                call_class=CallClass.TOLL_FREE,
                direction=Direction.INBOUND,
                caller=f"+1212555{1000 + j}",
                is_intra_enterprise=False,
            )
        )
    return out


def dialer(month: int, first: int = 0) -> list[CallRecord]:
    """One 'user' dialling 300 numbers in sequence, 20 a minute, a few seconds each when answered."""
    return [
        call(
            100_000 + first + i,
            start(month, 3, i * 3),
            user="u-dialer",
            callee=f"+1212556{2000 + i:04d}",
            seconds=4 if i % 5 == 0 else 0,
        )
        for i in range(300)
    ]


def test_a_normal_office_triggers_nothing() -> None:
    for month in (1, 2, 3):
        assert review(office(month, seed=month), CARRIERS, SITES) == []


def test_an_auto_dialer_is_found_with_its_evidence() -> None:
    [finding] = review(office(1) + dialer(1), CARRIERS, SITES)
    assert (finding.kind, finding.subject) == (Kind.AUTODIALER, "u-dialer")
    ev = finding.evidence
    assert ev["attempts"] == 300 and ev["peak_attempts_per_minute"] == 20 and ev["sequential_run"] == 300
    assert ev["answer_ratio"] == 0.2 and ev["short_call_share"] == 1.0


def test_toll_free_over_ten_percent_of_the_minutes() -> None:
    [finding] = review(office(1, toll_free_share=0.2), CARRIERS, SITES)
    assert finding.kind is Kind.TOLL_FREE_SHARE and 0.18 < finding.evidence["share"] < 0.22  # type: ignore[operator]
    assert review(office(1, toll_free_share=0.09), CARRIERS, SITES) == []


def test_destinations_not_spread_as_a_business_s_are() -> None:
    lcr = [
        call(i, start(1, i % 22, i), user=f"u{i % 20}", callee=f"+1212557{1000 + i}", seconds=120)
        for i in range(400)
    ]
    [finding] = review(lcr, CARRIERS, SITES)
    assert finding.kind is Kind.DESTINATION_SPREAD and finding.evidence["top"] == "WIRELESS"


def test_one_line_shared_by_many_endpoints_and_other_sites_aggregated() -> None:
    shared = [
        call(i, start(1, 2, i * 10), user="u1", callee=f"+1212555{1000 + i}", seconds=900) for i in range(4)
    ]
    assert [f.kind for f in review(shared, CARRIERS, SITES)] == [Kind.SHARED_LINE]
    other_offices = [
        call(
            i,
            start(1, i % 22, i * 700),
            user=f"u{i % 20}",
            callee=f"+1{PREFIXES[i % 12]}{1000 + i}",
            seconds=60,
            caller=f"+1312621{1000 + i}",
        )
        for i in range(60)
    ]
    [finding] = review(other_offices, CARRIERS, SITES)
    assert (finding.kind, finding.subject, finding.evidence["calls_from_other_area_codes"]) == (
        Kind.AGGREGATION,
        "hq",
        60,
    )


def test_notice_cure_comeback_and_rerate() -> None:
    cases: list[Case] = []
    cases = advance(cases, review(office(1, toll_free_share=0.2), CARRIERS, SITES), "2026-01")
    [case] = cases
    assert (case.kind, case.state, case.noticed_cycle) == (Kind.TOLL_FREE_SHARE, State.NOTICED, "2026-01")
    cases = advance(cases, review(office(2), CARRIERS, SITES), "2026-02")  # cured in the next cycle
    assert [c.state for c in cases] == [State.CURED]
    cases = advance(cases, review(office(3), CARRIERS, SITES), "2026-03")
    assert [c.state for c in cases] == [State.CURED]
    # It comes back after the cure: re-rated at once for that cycle, no new notice (§3.3).
    april = office(4, toll_free_share=0.25)
    cases = advance(cases, review(april, CARRIERS, SITES), "2026-04")
    [case] = cases
    assert (case.state, case.cycles) == (State.RERATED, ("2026-04",))
    toll_free = records_of_use(case, april)
    assert toll_free and rerate_amount(toll_free, BUNDLE, None) == Decimal("0.02") * sum(
        r.duration_ms // 60_000 for r in toll_free
    )


def test_an_uncured_dialer_rerates_both_cycles_and_aggregation_flags_termination() -> None:
    jan, feb = office(1) + dialer(1), office(2, seed=2) + dialer(2, first=1000)
    cases = advance([], review(jan, CARRIERS, SITES), "2026-01")
    assert [(c.kind, c.state) for c in cases] == [(Kind.AUTODIALER, State.NOTICED)]
    cases = advance(cases, review(feb, CARRIERS, SITES), "2026-02")
    [case] = cases
    assert (case.state, case.cycles) == (State.RERATED, ("2026-01", "2026-02"))
    # The dialer's calls at the plan's MOU rate (0.02) instead of the bundle's unlimited: 60 answered
    # calls of 4 s, each billed a minute (hosted-pbx.txt usage 1.b), in each affected cycle.
    assert rerate_amount(records_of_use(case, jan), BUNDLE, None) == Decimal("1.20")
    assert rerate_amount(records_of_use(case, feb), BUNDLE, None) == Decimal("1.20")
    aggregated = [
        call(
            i,
            start(1, i % 22, i * 700),
            user=f"u{i % 20}",
            callee=f"+1{PREFIXES[i % 12]}{1000 + i}",
            seconds=60,
            caller=f"+1312621{1000 + i}",
        )
        for i in range(60)
    ]
    cases = advance([], review(aggregated, CARRIERS, SITES), "2026-01")
    cases = advance(cases, review(aggregated, CARRIERS, SITES), "2026-02")
    assert [c.state for c in cases] == [State.TERMINATION]
