"""Rating runs on storage: a tenant's CDRs of one month rated with its plan, the bundle in force and
the plan's newest deck, each run leaving an audit row (`rating_runs`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from centrex.billing.cdr import CallRecord
from centrex.billing.cdr_service import records_of_month
from centrex.billing.collections_service import check_credit_limit
from centrex.billing.days import today
from centrex.billing.deck import RateDeck
from centrex.billing.deck_service import deck_for_plan
from centrex.billing.money import ZERO, stored_cents
from centrex.billing.periods import next_month_start
from centrex.billing.plan_service import rating_plan, require_plan
from centrex.billing.plans import RatingPlan, VoiceBundle
from centrex.billing.rating import RatedPeriod, rate_period
from centrex.billing.subscription_service import subscription_of
from centrex.store.access import TenantData
from centrex.store.models import BundleSubscriptionRow, InvoiceRow, RatingPurpose, RatingRun
from centrex.store.policy import Action, Resource


def bundle_in_force(data: TenantData, month: date) -> VoiceBundle | None:
    """voice-bundles.txt §2.7: a tenant with bundles in service that month rates the bundle's
    categories as unlimited."""
    for row in data.session.scalars(data.select(BundleSubscriptionRow)):
        sub = subscription_of(row)
        if sub.quantity and sub.start <= month and (sub.terminates_on is None or sub.terminates_on >= month):
            return VoiceBundle(monthly_rate=sub.rate)
    return None


def rate_records(
    records: Sequence[CallRecord], plan: RatingPlan, deck: RateDeck | None, batch: bool | None = None
) -> RatedPeriod:
    """The scalar reference path, or the numpy batch path for a month with many CDRs (or when asked):
    both give the same charges and fingerprint (billing/batch_period.py)."""
    from centrex.billing.batch_period import BATCH_THRESHOLD, rate_period_batch

    if batch is None:
        batch = len(records) >= BATCH_THRESHOLD
    return rate_period_batch(records, plan, deck) if batch else rate_period(records, plan, deck)


def rate_month(
    data: TenantData, month: date, purpose: RatingPurpose = RatingPurpose.RATE, *, batch: bool | None = None
) -> tuple[RatingRun, RatedPeriod]:
    """Rate the tenant's CDRs of one month (billing/rating.py rate_period) and add a row to the
    audit trail. Rating is idempotent: the same CDRs, plan and deck give the same charges and the same
    fingerprint, whatever the order they are read in (hosted-pbx.txt usage 1: the allotment is
    consumed in a fixed order); each rating adds its own run row."""
    data.require(Resource.BILLING, Action.CREATE)
    plan = require_plan(data)
    deck, version = deck_for_plan(data.session, plan)
    plan_now = rating_plan(plan, bundle_in_force(data, month))
    rated = rate_records(records_of_month(data, month), plan_now, deck, batch)
    run = data.create(
        RatingRun,
        "billing.rating_run",
        period_start=month,
        purpose=purpose,
        plan_code=plan.code,
        deck_version_id=version.id if version else None,
        deck_ref=rated.deck_ref,
        fingerprint=rated.fingerprint,
        cdr_count=len(rated.charges),
        unrated_count=len(rated.unrated),
        pool_used_s=rated.pool_used_s,
        total=rated.total,
        actor=data.principal.label,
    )
    if purpose is RatingPurpose.RATE:
        invoiced = data.session.scalar(
            data.select(InvoiceRow).where(InvoiceRow.invoice_date == next_month_start(month))
        )
        # cpaas.txt §4.2: rated usage not yet invoiced counts against the credit limit
        check_credit_limit(data, today(), ZERO if invoiced is not None else stored_cents(rated.total))
    return run, rated
