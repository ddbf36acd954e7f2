"""Rating and invoicing benchmark (prints figures; never a timed test).

    .venv/bin/python bench/rating_bench.py [--cdrs 1000000] [--prefixes 50000] [--tenants 10000]

Builds a synthetic 50,000-prefix deck (with a mid-month rate change on a fifth of it) and N CDRs as
columns, rates them with the vectorized batch path on one core, and prints CDRs/s; then assembles
invoices for 10,000 synthetic tenants and prints invoices/s.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import numpy as np  # noqa: E402

from centrex.billing.batch import CdrColumns, CompiledDeck, PlanTable, epoch_us, rate_batch  # noqa: E402
from centrex.billing.categories import CATEGORY_CODES, UsageCategory  # noqa: E402
from centrex.billing.cdr import CallRecord  # noqa: E402
from centrex.billing.deck import RateDeck, RateRow  # noqa: E402
from centrex.billing.increments import SIX_SIX, SIXTY_SIXTY, THIRTY_SIX  # noqa: E402
from centrex.billing.invoice import InvoiceInputs, assemble_invoice  # noqa: E402
from centrex.billing.plans import Feature, PriceList, RatingPlan  # noqa: E402
from centrex.billing.rating import rate_period  # noqa: E402
from centrex.billing.subscriptions import recurring_lines  # noqa: E402
from centrex.billing.taxes import DEMO_TAX_TABLE, TaxProfile  # noqa: E402
from centrex.numbers.classes import CallClass, Direction  # noqa: E402

MONTH = datetime(2025, 3, 1, tzinfo=UTC)
MID = datetime(2025, 3, 16, tzinfo=UTC)


def synthetic_deck(prefixes: int, rng: np.random.Generator) -> RateDeck:
    schemes = [SIXTY_SIXTY, THIRTY_SIX, SIX_SIX]
    keys: set[int] = set()
    while len(keys) < prefixes:
        length = int(rng.integers(2, 8))
        keys.add(int(rng.integers(10 ** (length - 1), 10**length)))
    rows: list[RateRow] = []
    for i, key in enumerate(sorted(keys)):
        scheme = schemes[i % 3]
        rate = Decimal(int(rng.integers(1_000, 900_000))) / 1_000_000
        if i % 5 == 0:
            rows.append(
                RateRow(str(key), f"D{i}", rate, Decimal(0), scheme.minimum_s, scheme.step_s, MONTH, MID)
            )
            rows.append(
                RateRow(str(key), f"D{i}", rate * 2, Decimal(0), scheme.minimum_s, scheme.step_s, MID)
            )
        else:
            rows.append(
                RateRow(str(key), f"D{i}", rate, Decimal("0.01"), scheme.minimum_s, scheme.step_s, MONTH)
            )
    return RateDeck(name="bench", version=1, rows=tuple(rows))


def synthetic_cdrs(n: int, tenants: int, rng: np.random.Generator) -> CdrColumns:
    codes = np.array(
        [CATEGORY_CODES[c] for c in UsageCategory] + [CATEGORY_CODES[UsageCategory.INTERNATIONAL]] * 6,
        dtype=np.int8,
    )
    digits = rng.integers(8, 16, size=n).astype(np.int8)
    low = (10 ** (digits.astype(np.int64) - 1)).astype(np.int64)
    callee = low + (rng.random(n) * 9 * low).astype(np.int64)
    start = epoch_us(MONTH) + rng.integers(0, 31 * 86_400 * 1_000_000, size=n, dtype=np.int64)
    tenant = rng.integers(0, tenants, size=n).astype(np.int32)
    return CdrColumns(
        tenant=tenant,
        plan=(tenant % 3).astype(np.int32),
        category=codes[rng.integers(0, codes.shape[0], size=n)],
        callee=callee,
        callee_len=digits,
        start_us=start,
        duration_ms=rng.integers(0, 900_000, size=n, dtype=np.int64),
        answered=rng.random(n) < 0.85,
        seq=np.argsort(np.argsort(start, kind="stable"), kind="stable").astype(np.int64),
    )


PLANS = [
    RatingPlan(
        code="pbx",
        pool_minutes=1000,
        overage_per_minute=Decimal("0.045"),
        conference_per_minute=Decimal("0.1"),
    ),
    RatingPlan(code="66", increment=SIX_SIX, pool_minutes=500, overage_per_minute=Decimal("0.03")),
    RatingPlan(code="30/6", increment=THIRTY_SIX, pooled=frozenset(), local_per_minute=Decimal("0.007")),
]


def bench_rating(n: int, prefixes: int, tenants: int) -> None:
    rng = np.random.default_rng(42)
    t0 = time.perf_counter()
    deck = synthetic_deck(prefixes, rng)
    compiled = CompiledDeck(deck)
    t1 = time.perf_counter()
    cdrs = synthetic_cdrs(n, tenants, rng)
    plans = PlanTable.build(PLANS)
    pools = np.array([PLANS[t % 3].pool_minutes * 60 for t in range(tenants)], dtype=np.int64)
    t2 = time.perf_counter()
    result = rate_batch(cdrs, plans, compiled, pools)
    totals = result.totals_by_tenant_category()
    t3 = time.perf_counter()
    print(f"deck: {len(deck.rows):,} rows / {deck.prefixes:,} prefixes built and compiled in {t1 - t0:.2f} s")
    print(f"cdrs: {n:,} synthetic CDRs generated in {t2 - t1:.2f} s (not counted)")
    print(
        f"rating: {n:,} CDRs rated + {len(totals):,} (tenant, category) totals in {t3 - t2:.2f} s"
        f" = {n / (t3 - t2):,.0f} CDRs/s (one core); total {result.total()}"
    )


def bench_scalar(n: int) -> None:
    """The pure-Python reference, for comparison."""
    plan = PLANS[0]
    records = [
        CallRecord(
            id=f"c{i}",
            tenant_id="t",
            caller="+13035550100",
            callee="+13035550199",
            call_class=CallClass.LD_INTERSTATE,
            direction=Direction.OUTBOUND,
            start=MONTH + timedelta(seconds=i),
            duration_ms=61_000 + i,
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    rate_period(records, plan, None)
    elapsed = time.perf_counter() - t0
    print(f"scalar reference: {n:,} CDRs in {elapsed:.2f} s = {n / elapsed:,.0f} CDRs/s")


def bench_invoices(tenants: int) -> None:
    prices = PriceList(
        seat_monthly=Decimal("24.95"),
        features_monthly={Feature.AUTO_ATTENDANT: Decimal("15.00"), Feature.VOICEMAIL: Decimal("3.00")},
    )
    profile = TaxProfile(jurisdictions=("US-TX", "US-TX-DALLAS"), lines=10)
    invoice_date = date(2025, 4, 1)
    rng = np.random.default_rng(7)
    seats = rng.integers(1, 200, size=tenants)
    rated = []
    for t in range(tenants):
        records = [
            CallRecord(
                id=f"t{t}-c{i}",
                tenant_id=f"t{t}",
                caller="+13035550100",
                callee="+13035550199",
                call_class=CallClass.LD_INTERSTATE,
                direction=Direction.OUTBOUND,
                start=MONTH + timedelta(hours=i),
                duration_ms=int(rng.integers(1_000, 600_000)),
            )
            for i in range(20)
        ]
        rated.append(rate_period(records, PLANS[0], None, pool_minutes=30))
    t0 = time.perf_counter()
    count = 0
    for t in range(tenants):
        recurring = recurring_lines(
            prices,
            seats=int(seats[t]),
            features={Feature.AUTO_ATTENDANT: 1, Feature.VOICEMAIL: 2},
            month=invoice_date,
        )
        invoice = assemble_invoice(
            InvoiceInputs(
                tenant_id=f"t{t}",
                invoice_date=invoice_date,
                recurring=recurring,
                usage=rated[t],
                tax_profile=profile,
                tax_table=DEMO_TAX_TABLE,
            )
        )
        count += invoice.total > 0
    elapsed = time.perf_counter() - t0
    print(
        f"invoices: {tenants:,} tenants (20 CDRs each, pre-rated) assembled in {elapsed:.2f} s"
        f" = {tenants / elapsed:,.0f} invoices/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument(
        "--scalar", type=int, default=100_000, help="CDRs for the scalar comparison (0: skip)"
    )
    args = parser.parse_args()
    bench_rating(args.cdrs, args.prefixes, args.tenants)
    if args.scalar:
        bench_scalar(args.scalar)
    bench_invoices(args.tenants)


if __name__ == "__main__":
    main()
