"""One tenant's month rated through the numpy batch path (billing/batch.py), as the RatedPeriod the
invoice is assembled from — the same charges, order and fingerprint as the scalar reference
`rating.rate_period` (only the reason texts are left out: the batch path computes none).

billing/rating_service.py uses it for a billing run when the month has many CDRs (BATCH_THRESHOLD); the
scalar path stays the reference and tests/billing_store prove both give the same invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from centrex.billing.availability import toll_free_excluded
from centrex.billing.batch import BatchResult, CdrColumns, CompiledDeck, PlanTable, epoch_us, rate_batch
from centrex.billing.categories import CATEGORIES_BY_CODE, CATEGORY_CODES, usage_category
from centrex.billing.cdr import CallRecord
from centrex.billing.deck import RateDeck
from centrex.billing.money import from_micros
from centrex.billing.plans import RatingPlan
from centrex.billing.rating import Charge, RatedPeriod, fingerprint_charges, rating_order
from centrex.numbers.classes import CallClass, Direction

BATCH_THRESHOLD = 5_000  # below this the scalar path is as fast and gives the reasons too

_COMPILED: dict[tuple[str, int], CompiledDeck] = {}


def _compiled(deck: RateDeck) -> CompiledDeck:
    """Deck versions never change, so a compiled deck is kept per (name, version)."""
    key = (deck.name, deck.version)
    if key not in _COMPILED:
        if len(_COMPILED) >= 4:
            _COMPILED.clear()
        _COMPILED[key] = CompiledDeck(deck)
    return _COMPILED[key]


def rate_period_batch(records: Sequence[CallRecord], plan: RatingPlan, deck: RateDeck | None) -> RatedPeriod:
    ordered = rating_order(records)
    tenants = {c.tenant_id for c in ordered}
    if len(tenants) > 1:
        raise ValueError(f"rate_period_batch takes one tenant's CDRs, got {sorted(tenants)}")
    tenant_id = next(iter(tenants), "")
    pool_seconds = plan.pool_minutes * 60
    compiled = _compiled(deck) if deck is not None else None
    columns = _columns(ordered)
    result = rate_batch(columns, PlanTable.build([plan]), compiled, {0: pool_seconds})
    charges = _charges(result, ordered, tenant_id, compiled)
    deck_ref = f"{deck.name}@{deck.version}" if deck is not None else ""
    return RatedPeriod(
        tenant_id=tenant_id,
        plan_code=plan.code,
        deck_ref=deck_ref,
        charges=charges,
        pool_seconds=pool_seconds,
        pool_used_s=sum(c.pool_s for c in charges),
        fingerprint=fingerprint_charges(plan.code, deck_ref, charges),
    )


def _columns(ordered: Sequence[CallRecord]) -> CdrColumns:
    """CdrColumns.from_records for one tenant's CDRs already in rating order (so `seq` is their
    position), with the category of each (class, direction, intra) worked out once."""
    n = len(ordered)
    codes: dict[tuple[CallClass, Direction, bool, bool], int] = {}
    category = np.empty(n, dtype=np.int8)
    callee = np.zeros(n, dtype=np.int64)
    callee_len = np.zeros(n, dtype=np.int8)
    for i, r in enumerate(ordered):
        key = (
            r.call_class,
            r.direction,
            r.is_intra_enterprise,
            toll_free_excluded(r.call_class, r.direction, r.caller),
        )
        code = codes.get(key)
        if code is None:
            code = codes[key] = CATEGORY_CODES[usage_category(*key)]
        category[i] = code
        digits = r.callee.removeprefix("+")
        if digits.isdigit():
            callee[i] = int(digits)
            callee_len[i] = len(digits)
    zeros = np.zeros(n, dtype=np.int32)
    return CdrColumns(
        tenant=zeros,
        plan=zeros.copy(),
        category=category,
        callee=callee,
        callee_len=callee_len,
        start_us=np.fromiter((epoch_us(r.start) for r in ordered), dtype=np.int64, count=n),
        duration_ms=np.fromiter((r.duration_ms for r in ordered), dtype=np.int64, count=n),
        answered=np.fromiter((r.answered for r in ordered), dtype=np.bool_, count=n),
        seq=np.arange(n, dtype=np.int64),
    )


def _charges(
    result: BatchResult, ordered: Sequence[CallRecord], tenant_id: str, deck: CompiledDeck | None
) -> tuple[Charge, ...]:
    """BatchResult.charge for every CDR, reading the arrays once (amounts repeat: converted once each)."""
    amounts: dict[int, Decimal] = {}
    rows = deck.rows if deck is not None else ()
    out = []
    for cdr, cat, billable, micros, pool, over, rated, row in zip(
        ordered,
        result.category.tolist(),
        result.billable_s.tolist(),
        result.amount_micros.tolist(),
        result.pool_s.tolist(),
        result.overage_s.tolist(),
        result.rated.tolist(),
        result.deck_row.tolist(),
        strict=True,
    ):
        amount = amounts.get(micros)
        if amount is None:
            amount = amounts[micros] = from_micros(micros)
        deck_row = rows[row] if row >= 0 else None
        out.append(
            Charge(
                cdr_id=cdr.id,
                tenant_id=tenant_id,
                category=CATEGORIES_BY_CODE[cat],
                billable_s=billable,
                amount=amount,
                reasons=(),
                pool_s=pool,
                overage_s=over,
                rate_prefix=deck_row.prefix if deck_row else None,
                rate_per_minute=deck_row.rate_per_minute if deck_row else None,
                rated=rated,
            )
        )
    return tuple(out)
