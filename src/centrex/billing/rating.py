"""Rating: one CDR to one Charge, and a tenant's month of CDRs to a RatedPeriod. Pure functions.

The scalar `rate` is the reference; `batch.rate_batch` is the vectorized path and must agree with it
to the micro-dollar (tests/billing/test_batch.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from centrex.billing.availability import toll_free_excluded
from centrex.billing.categories import UsageCategory, usage_category
from centrex.billing.cdr import CallRecord
from centrex.billing.deck import RateDeck
from centrex.billing.increments import billable_seconds
from centrex.billing.money import ZERO, to_micros
from centrex.billing.plans import ALWAYS_FREE, RatingPlan

PER_MINUTE_CHARGED_ON_OVERAGE: frozenset[UsageCategory] = frozenset(
    {UsageCategory.DOMESTIC_LD, UsageCategory.INBOUND, UsageCategory.TOLL_FREE_INBOUND}
)


@dataclass(frozen=True, slots=True)
class Charge:
    """The rated result of one CDR. `amount` is at six decimal places; cents come on the invoice."""

    cdr_id: str
    tenant_id: str
    category: UsageCategory
    billable_s: int
    amount: Decimal
    reasons: tuple[str, ...]
    pool_s: int = 0  # seconds drawn from the monthly allotment
    overage_s: int = 0  # seconds billed as overage (hosted-pbx.txt usage 1.a)
    rate_prefix: str | None = None
    rate_per_minute: Decimal | None = None
    rated: bool = True  # False: no deck rate in force; the call needs an operator's attention


def per_minute_amount(rate_per_minute: Decimal, seconds: int) -> Decimal:
    """rate × seconds / 60, rounded half up to six decimal places (one rounding per call)."""
    if seconds == 0:
        return ZERO
    return to_micros(rate_per_minute * seconds / 60)


def _free(cdr: CallRecord, category: UsageCategory, billable: int, reason: str) -> Charge:
    return Charge(cdr.id, cdr.tenant_id, category, billable, ZERO, (reason,))


def rate(cdr: CallRecord, plan: RatingPlan, deck: RateDeck | None, pool_remaining_s: int = 0) -> Charge:
    """Rate one call. `pool_remaining_s` is what is left of the tenant's monthly allotment.

    Rules, in order (each names its source):
    1. an unanswered call is free;
    2. on-net / intra-enterprise calls, 911/933, dialled toll-free and N11 are free;
    3. a bundle's unlimited categories are free (voice-bundles.txt §2.7);
    4. directory assistance per call (hosted-pbx.txt usage 1.c);
    5. conference calling per minute (usage 1.d);
    6. international (and premium) at deck rates, LPM at the start time (usage 1);
    7. pooled domestic minutes from the allotment, then overage at the MOU rate (usage 1, 1.a);
    8. other domestic minutes at the plan's local rate or MOU rate.
    Minutes are counted with the plan's increment (usage 1.b: 60/60 unless the plan says otherwise).
    """
    category = usage_category(
        cdr.call_class,
        cdr.direction,
        cdr.is_intra_enterprise,
        toll_free_excluded(cdr.call_class, cdr.direction, cdr.caller),
    )
    if not cdr.answered:
        return _free(cdr, category, 0, f"{cdr.disposition.value}: unanswered calls are not charged")
    if category in ALWAYS_FREE:
        return _free(cdr, category, 0, f"{category.value}: never charged")
    if category in plan.unlimited:
        billable = billable_seconds(cdr.duration_ms, plan.increment.minimum_s, plan.increment.step_s)
        return _free(
            cdr,
            category,
            billable,
            f"{category.value}: unlimited in plan {plan.code} (voice-bundles.txt §2.7)",
        )

    if category is UsageCategory.DIRECTORY_ASSISTANCE:
        fee = to_micros(plan.directory_assistance_per_call)
        reason = f"directory assistance: {fee} per call (hosted-pbx.txt usage 1.c)"
        return Charge(cdr.id, cdr.tenant_id, category, 0, fee, (reason,))

    if category in (UsageCategory.INTERNATIONAL, UsageCategory.PREMIUM):
        row = deck.lookup(cdr.callee, cdr.start) if deck is not None else None
        if deck is None or row is None:
            deck_name = f"{deck.name} v{deck.version}" if deck is not None else "(none)"
            reason = f"no rate in force for {cdr.callee} at {cdr.start.isoformat()} in deck {deck_name}"
            return Charge(cdr.id, cdr.tenant_id, category, 0, ZERO, (reason,), rated=False)
        billable = billable_seconds(cdr.duration_ms, row.minimum_s, row.increment_s)
        amount = to_micros(row.connection_fee) + per_minute_amount(row.rate_per_minute, billable)
        reasons = (
            f"deck {deck.name} v{deck.version} prefix {row.prefix}"
            f" ({row.destination}) at {row.rate_per_minute}/min (hosted-pbx.txt usage 1)",
            f"{-(-cdr.duration_ms // 1000)} s billed as {billable} s ({row.minimum_s}/{row.increment_s})",
        ) + ((f"connection fee {row.connection_fee}",) if row.connection_fee else ())
        return Charge(
            cdr.id,
            cdr.tenant_id,
            category,
            billable,
            amount,
            reasons,
            rate_prefix=row.prefix,
            rate_per_minute=row.rate_per_minute,
        )

    billable = billable_seconds(cdr.duration_ms, plan.increment.minimum_s, plan.increment.step_s)
    seconds = -(-cdr.duration_ms // 1000)
    rounding = f"{seconds} s billed as {billable} s ({plan.increment.label}, hosted-pbx.txt usage 1.b)"
    if category is UsageCategory.CONFERENCE:
        amount = per_minute_amount(plan.conference_per_minute, billable)
        reason = f"conference at {plan.conference_per_minute}/min (hosted-pbx.txt usage 1.d)"
        return Charge(cdr.id, cdr.tenant_id, category, billable, amount, (rounding, reason))

    if category in plan.pooled:
        pool_s = min(max(pool_remaining_s, 0), billable)
        overage_s = billable - pool_s
        amount = per_minute_amount(plan.overage_per_minute, overage_s)
        notes = [rounding]
        if pool_s:
            notes.append(f"{pool_s} s from the monthly allotment (hosted-pbx.txt usage 1)")
        if overage_s:
            notes.append(f"{overage_s} s overage at {plan.overage_per_minute}/min (hosted-pbx.txt usage 1.a)")
        return Charge(
            cdr.id,
            cdr.tenant_id,
            category,
            billable,
            amount,
            tuple(notes),
            pool_s=pool_s,
            overage_s=overage_s,
        )

    if category is UsageCategory.LOCAL:
        amount = per_minute_amount(plan.local_per_minute, billable)
        reason = f"local at {plan.local_per_minute}/min"
        return Charge(cdr.id, cdr.tenant_id, category, billable, amount, (rounding, reason))

    amount = per_minute_amount(plan.overage_per_minute, billable)
    reason = f"{category.value} at the MOU rate {plan.overage_per_minute}/min (hosted-pbx.txt usage 1.a)"
    return Charge(cdr.id, cdr.tenant_id, category, billable, amount, (rounding, reason), overage_s=billable)


@dataclass(frozen=True, slots=True)
class RatedPeriod:
    """A tenant's period, rated: the charges in rating order and a fingerprint for the audit trail."""

    tenant_id: str
    plan_code: str
    deck_ref: str
    charges: tuple[Charge, ...]
    pool_seconds: int
    pool_used_s: int
    fingerprint: str

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.charges), ZERO)

    @property
    def unrated(self) -> tuple[Charge, ...]:
        return tuple(c for c in self.charges if not c.rated)


def rating_order(cdrs: Iterable[CallRecord]) -> list[CallRecord]:
    """The order in which the allotment is consumed: by start time, then CDR id (deterministic)."""
    return sorted(cdrs, key=lambda c: (c.start, c.id))


def fingerprint_charges(plan_code: str, deck_ref: str, charges: Sequence[Charge]) -> str:
    """SHA-256 over everything that determines the bill; equal inputs give equal fingerprints."""
    digest = hashlib.sha256(f"{plan_code}|{deck_ref}\n".encode())
    for c in charges:
        digest.update(
            f"{c.cdr_id}|{c.category.value}|{c.billable_s}|{c.pool_s}|{c.overage_s}|{c.amount}|"
            f"{c.rate_prefix or ''}|{int(c.rated)}\n".encode()
        )
    return digest.hexdigest()


def rate_period(
    cdrs: Iterable[CallRecord], plan: RatingPlan, deck: RateDeck | None, *, pool_minutes: int | None = None
) -> RatedPeriod:
    """Rate one tenant's CDRs of one billing month.

    hosted-pbx.txt usage 1: the allotment is per tenant per month, so who gets the free minutes
    depends on order; this function fixes the order (`rating_order`) so that re-rating the same
    CDRs, in any input order, gives the same charges and the same fingerprint (idempotent).
    """
    ordered = rating_order(cdrs)
    tenants = {c.tenant_id for c in ordered}
    if len(tenants) > 1:
        raise ValueError(f"rate_period takes one tenant's CDRs, got {sorted(tenants)}")
    tenant_id = next(iter(tenants), "")
    pool_seconds = (plan.pool_minutes if pool_minutes is None else pool_minutes) * 60
    remaining = pool_seconds
    charges: list[Charge] = []
    for cdr in ordered:
        charge = rate(cdr, plan, deck, remaining)
        remaining -= charge.pool_s
        charges.append(charge)
    deck_ref = f"{deck.name}@{deck.version}" if deck is not None else ""
    return RatedPeriod(
        tenant_id=tenant_id,
        plan_code=plan.code,
        deck_ref=deck_ref,
        charges=tuple(charges),
        pool_seconds=pool_seconds,
        pool_used_s=pool_seconds - remaining,
        fingerprint=fingerprint_charges(plan.code, deck_ref, charges),
    )
