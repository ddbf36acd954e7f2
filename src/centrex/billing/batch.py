"""Vectorized batch rating (numpy): the same rules as `rating.rate`, for millions of CDRs.

Amounts are integer micro-dollars (int64) throughout; `Decimal` appears only when totals are read.
Longest-prefix match uses, for each prefix length present in the deck, a sorted int64 array of
prefixes and `searchsorted` on the number's leading digits. Deck rows change over time, so the deck
is compiled into one snapshot per interval between effective-date changes; each CDR uses the
snapshot in force at its start. The allotment (hosted-pbx.txt usage 1) is consumed in the same order
as `rating.rate_period`: per tenant, by start time then CDR id.

Equality with the scalar reference is tested on thousands of random CDRs (test_batch.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from centrex.billing.availability import toll_free_excluded
from centrex.billing.categories import CATEGORIES_BY_CODE, CATEGORY_CODES, UsageCategory, usage_category
from centrex.billing.cdr import CallRecord
from centrex.billing.deck import RateDeck
from centrex.billing.money import from_micros, micros_of
from centrex.billing.plans import ALWAYS_FREE, RatingPlan
from centrex.billing.rating import Charge

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Bool = npt.NDArray[np.bool_]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)
_N_CATEGORIES = len(CATEGORIES_BY_CODE)
_DA = CATEGORY_CODES[UsageCategory.DIRECTORY_ASSISTANCE]
_INTL = CATEGORY_CODES[UsageCategory.INTERNATIONAL]
_PREMIUM = CATEGORY_CODES[UsageCategory.PREMIUM]
_CONF = CATEGORY_CODES[UsageCategory.CONFERENCE]
_LOCAL = CATEGORY_CODES[UsageCategory.LOCAL]


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (no float)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _per_minute_micros(rate_micros: I64, seconds: I64) -> I64:
    """rate × seconds / 60 rounded half up, in integer micro-units (== rating.per_minute_amount)."""
    result: I64 = (2 * rate_micros * seconds + 60) // 120
    return result


@dataclass(frozen=True, slots=True)
class CdrColumns:
    """CDRs as columns. `seq` orders CDRs by (start, id): the allotment consumption order."""

    tenant: I32  # index into the tenant list
    plan: I32  # index into the plan list
    category: I8  # CATEGORY_CODES
    callee: I64  # E.164 digits as an integer (no "+")
    callee_len: I8  # number of digits
    start_us: I64
    duration_ms: I64
    answered: Bool
    seq: I64

    def __len__(self) -> int:
        return int(self.tenant.shape[0])

    @classmethod
    def from_records(
        cls, records: Sequence[CallRecord], tenants: Sequence[str], plan_of_tenant: Sequence[int]
    ) -> CdrColumns:
        """Columns from CallRecords; `tenants[i]` is tenant index i, on plan `plan_of_tenant[i]`."""
        tenant_index = {t: i for i, t in enumerate(tenants)}
        ranked = sorted(range(len(records)), key=lambda i: (records[i].start, records[i].id))
        seq = np.empty(len(records), dtype=np.int64)
        seq[np.array(ranked, dtype=np.int64)] = np.arange(len(records), dtype=np.int64)
        tenant = np.array([tenant_index[r.tenant_id] for r in records], dtype=np.int32)
        callee_digits = [r.callee.removeprefix("+") for r in records]
        return cls(
            tenant=tenant,
            plan=np.asarray(plan_of_tenant, dtype=np.int32)[tenant] if len(records) else tenant.copy(),
            category=np.array(
                [
                    CATEGORY_CODES[
                        usage_category(
                            r.call_class,
                            r.direction,
                            r.is_intra_enterprise,
                            toll_free_excluded(r.call_class, r.direction, r.caller),
                        )
                    ]
                    for r in records
                ],
                dtype=np.int8,
            ),
            callee=np.array([int(d) if d.isdigit() else 0 for d in callee_digits], dtype=np.int64),
            callee_len=np.array([len(d) if d.isdigit() else 0 for d in callee_digits], dtype=np.int8),
            start_us=np.array([epoch_us(r.start) for r in records], dtype=np.int64),
            duration_ms=np.array([r.duration_ms for r in records], dtype=np.int64),
            answered=np.array([r.answered for r in records], dtype=np.bool_),
            seq=seq,
        )


@dataclass(frozen=True, slots=True)
class PlanTable:
    """Rating plans as arrays indexed by plan number."""

    codes: tuple[str, ...]
    minimum_s: I64
    step_s: I64
    overage_micros: I64
    local_micros: I64
    da_micros: I64
    conference_micros: I64
    unlimited: Bool  # [plan, category]
    pooled: Bool  # [plan, category]

    @classmethod
    def build(cls, plans: Sequence[RatingPlan]) -> PlanTable:
        unlimited = np.zeros((len(plans), _N_CATEGORIES), dtype=np.bool_)
        pooled = np.zeros((len(plans), _N_CATEGORIES), dtype=np.bool_)
        for i, p in enumerate(plans):
            for c in p.unlimited:
                unlimited[i, CATEGORY_CODES[c]] = True
            for c in p.pooled:
                pooled[i, CATEGORY_CODES[c]] = True
        return cls(
            codes=tuple(p.code for p in plans),
            minimum_s=np.array([p.increment.minimum_s for p in plans], dtype=np.int64),
            step_s=np.array([p.increment.step_s for p in plans], dtype=np.int64),
            overage_micros=np.array([micros_of(p.overage_per_minute) for p in plans], dtype=np.int64),
            local_micros=np.array([micros_of(p.local_per_minute) for p in plans], dtype=np.int64),
            da_micros=np.array([micros_of(p.directory_assistance_per_call) for p in plans], dtype=np.int64),
            conference_micros=np.array([micros_of(p.conference_per_minute) for p in plans], dtype=np.int64),
            unlimited=unlimited,
            pooled=pooled,
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    lengths: tuple[int, ...]  # descending
    keys: tuple[I64, ...]
    rows: tuple[I32, ...]


class CompiledDeck:
    """A RateDeck as arrays, with one LPM snapshot per interval between effective-date changes."""

    def __init__(self, deck: RateDeck) -> None:
        self.deck = deck
        self.rows = deck.rows
        self.rate_micros = np.array([micros_of(r.rate_per_minute) for r in deck.rows], dtype=np.int64)
        self.fee_micros = np.array([micros_of(r.connection_fee) for r in deck.rows], dtype=np.int64)
        self.minimum_s = np.array([r.minimum_s for r in deck.rows], dtype=np.int64)
        self.step_s = np.array([r.increment_s for r in deck.rows], dtype=np.int64)
        self._from_us = np.array([epoch_us(r.effective_from) for r in deck.rows], dtype=np.int64)
        self._to_us = np.array(
            [epoch_us(r.effective_to) if r.effective_to else np.iinfo(np.int64).max for r in deck.rows],
            dtype=np.int64,
        )
        self._prefix_int = np.array([int(r.prefix) for r in deck.rows], dtype=np.int64)
        self._prefix_len = np.array([len(r.prefix) for r in deck.rows], dtype=np.int64)
        self.boundaries = np.array([epoch_us(t) for t in deck.change_times()], dtype=np.int64)
        self._snapshots: dict[int, _Snapshot] = {}

    def _snapshot(self, interval: int) -> _Snapshot:
        cached = self._snapshots.get(interval)
        if cached is not None:
            return cached
        if interval == 0:
            in_force = np.zeros(len(self.rows), dtype=np.bool_)
        else:
            at = self.boundaries[interval - 1]
            in_force = (self._from_us <= at) & (at < self._to_us)
        lengths: list[int] = []
        keys: list[I64] = []
        rows: list[I32] = []
        for length in sorted({int(x) for x in self._prefix_len[in_force]}, reverse=True):
            idx = np.nonzero(in_force & (self._prefix_len == length))[0].astype(np.int32)
            k = self._prefix_int[idx]
            order = np.argsort(k, kind="stable")
            lengths.append(length)
            keys.append(k[order])
            rows.append(idx[order])
        snapshot = _Snapshot(tuple(lengths), tuple(keys), tuple(rows))
        self._snapshots[interval] = snapshot
        return snapshot

    def match(self, number: I64, number_len: I8, start_us: I64) -> I32:
        """Row index of the longest prefix in force at each start (-1: none)."""
        result = np.full(number.shape[0], -1, dtype=np.int32)
        if number.shape[0] == 0:
            return result
        interval = np.searchsorted(self.boundaries, start_us, side="right")
        for iv in np.unique(interval):
            snapshot = self._snapshot(int(iv))
            in_iv = np.nonzero(interval == iv)[0]
            lens = number_len[in_iv].astype(np.int64)
            for length, keys, rows in zip(snapshot.lengths, snapshot.keys, snapshot.rows, strict=True):
                todo = (result[in_iv] < 0) & (lens >= length)
                if not todo.any():
                    continue
                sel = in_iv[todo]
                key = number[sel] // _POW10[lens[todo] - length]
                pos = np.searchsorted(keys, key)
                pos[pos >= keys.shape[0]] = 0
                hit = keys[pos] == key
                result[sel[hit]] = rows[pos[hit]]
        return result


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Per-CDR results (arrays in input order) and access to totals as Decimal."""

    category: I8
    billable_s: I64
    amount_micros: I64
    pool_s: I64
    overage_s: I64
    rated: Bool
    deck_row: I32  # -1 when no deck row was used
    tenant: I32

    def total(self) -> Decimal:
        return from_micros(int(self.amount_micros.sum()))

    def totals_by_tenant(self, n_tenants: int) -> list[Decimal]:
        sums = np.zeros(n_tenants, dtype=np.int64)
        np.add.at(sums, self.tenant, self.amount_micros)
        return [from_micros(int(x)) for x in sums]

    def totals_by_tenant_category(self) -> dict[tuple[int, UsageCategory], Decimal]:
        key = self.tenant.astype(np.int64) * _N_CATEGORIES + self.category
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.zeros(uniq.shape[0], dtype=np.int64)
        np.add.at(sums, inverse, self.amount_micros)
        return {
            (int(k) // _N_CATEGORIES, CATEGORIES_BY_CODE[int(k) % _N_CATEGORIES]): from_micros(int(s))
            for k, s in zip(uniq, sums, strict=True)
        }

    def charge(self, i: int, cdr_id: str, tenant_id: str, deck: CompiledDeck | None) -> Charge:
        """Per-CDR result as a Charge (no reason texts), for comparison with the scalar path."""
        row = int(self.deck_row[i])
        deck_row = deck.rows[row] if deck is not None and row >= 0 else None
        return Charge(
            cdr_id=cdr_id,
            tenant_id=tenant_id,
            category=CATEGORIES_BY_CODE[int(self.category[i])],
            billable_s=int(self.billable_s[i]),
            amount=from_micros(int(self.amount_micros[i])),
            reasons=(),
            pool_s=int(self.pool_s[i]),
            overage_s=int(self.overage_s[i]),
            rate_prefix=deck_row.prefix if deck_row else None,
            rate_per_minute=deck_row.rate_per_minute if deck_row else None,
            rated=bool(self.rated[i]),
        )


def _billable(duration_ms: I64, minimum_s: I64, step_s: I64) -> I64:
    """increments.billable_seconds, vectorized (hosted-pbx.txt usage 1.b)."""
    seconds = np.maximum(minimum_s, -(-duration_ms // 1000))
    billed: I64 = np.where(duration_ms > 0, -(-seconds // step_s) * step_s, 0)
    return billed


def rate_batch(
    cdrs: CdrColumns, plans: PlanTable, deck: CompiledDeck | None, pool_seconds: Mapping[int, int] | I64
) -> BatchResult:
    """Rate many tenants' CDRs of one month at once; `pool_seconds[t]` is tenant t's allotment."""
    n = len(cdrs)
    cat = cdrs.category.astype(np.int64)
    plan = cdrs.plan
    answered = cdrs.answered & (cdrs.duration_ms > 0)
    always_free = np.isin(cat, [CATEGORY_CODES[c] for c in ALWAYS_FREE])
    unlimited = plans.unlimited[plan, cat]
    rest = answered & ~always_free & ~unlimited
    m_da = rest & (cat == _DA)
    m_intl = rest & ((cat == _INTL) | (cat == _PREMIUM))
    m_conf = rest & (cat == _CONF)
    m_pool = rest & plans.pooled[plan, cat] & ~(m_da | m_intl | m_conf)
    m_local = rest & (cat == _LOCAL) & ~m_pool
    m_other = rest & ~(m_da | m_intl | m_conf | m_pool | m_local)

    plan_billable = _billable(cdrs.duration_ms, plans.minimum_s[plan], plans.step_s[plan])
    billable = np.where(answered & ~always_free & ~m_da & ~m_intl, plan_billable, 0)
    amount = np.zeros(n, dtype=np.int64)
    overage = np.zeros(n, dtype=np.int64)
    pool = np.zeros(n, dtype=np.int64)
    rated = np.ones(n, dtype=np.bool_)
    deck_row = np.full(n, -1, dtype=np.int32)

    amount[m_da] = plans.da_micros[plan[m_da]]
    amount[m_conf] = _per_minute_micros(plans.conference_micros[plan[m_conf]], billable[m_conf])
    amount[m_local] = _per_minute_micros(plans.local_micros[plan[m_local]], billable[m_local])
    amount[m_other] = _per_minute_micros(plans.overage_micros[plan[m_other]], billable[m_other])
    overage[m_other] = billable[m_other]

    intl = np.nonzero(m_intl)[0]
    if intl.shape[0]:
        if deck is None:
            rows = np.full(intl.shape[0], -1, dtype=np.int32)
        else:
            rows = deck.match(cdrs.callee[intl], cdrs.callee_len[intl], cdrs.start_us[intl])
        found = rows >= 0
        rated[intl[~found]] = False
        hit, hit_rows = intl[found], rows[found]
        deck_row[hit] = hit_rows
        if deck is not None and hit.shape[0]:
            secs = _billable(cdrs.duration_ms[hit], deck.minimum_s[hit_rows], deck.step_s[hit_rows])
            billable[hit] = secs
            amount[hit] = deck.fee_micros[hit_rows] + _per_minute_micros(deck.rate_micros[hit_rows], secs)

    pooled_idx = np.nonzero(m_pool)[0]
    if pooled_idx.shape[0]:
        order = pooled_idx[np.lexsort((cdrs.seq[pooled_idx], cdrs.tenant[pooled_idx]))]
        tenants = cdrs.tenant[order]
        secs = billable[order]
        used_before = np.cumsum(secs) - secs
        first = np.ones(order.shape[0], dtype=np.bool_)
        first[1:] = tenants[1:] != tenants[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(order.shape[0]), 0))
        used_before = used_before - used_before[group_start]
        allotment = np.asarray(
            [pool_seconds.get(t, 0) for t in range(int(tenants.max()) + 1)]
            if isinstance(pool_seconds, Mapping)
            else pool_seconds,
            dtype=np.int64,
        )[tenants]
        take = np.minimum(np.maximum(allotment - used_before, 0), secs)
        pool[order] = take
        overage[order] = secs - take
        amount[order] = _per_minute_micros(plans.overage_micros[plan[order]], secs - take)

    return BatchResult(
        category=cdrs.category,
        billable_s=billable,
        amount_micros=amount,
        pool_s=pool,
        overage_s=overage,
        rated=rated,
        deck_row=deck_row,
        tenant=cdrs.tenant,
    )
