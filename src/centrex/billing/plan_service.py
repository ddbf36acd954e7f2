"""The tenant's billing plan on storage: reading it, replacing it (checked against the rules before it
is stored), and the RatingPlan it rates calls with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from centrex.billing.increments import Increment
from centrex.billing.money import stored_amount
from centrex.billing.plans import RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import BillingPlan, BillingPlanFeature
from centrex.store.models import RateDeck as RateDeckModel


def plan_of(data: TenantData) -> BillingPlan | None:
    plan: BillingPlan | None = data.session.scalar(data.select(BillingPlan))
    return plan


def require_plan(data: TenantData) -> BillingPlan:
    plan = plan_of(data)
    if plan is None:
        raise Invalid(
            "the tenant has no billing plan (PUT .../billing/plan)", field="plan", rule="plan_required"
        )
    return plan


def plan_features(data: TenantData, plan: BillingPlan) -> list[BillingPlanFeature]:
    stmt = data.select(BillingPlanFeature).where(BillingPlanFeature.plan_id == plan.id)
    return list(data.session.scalars(stmt.order_by(BillingPlanFeature.feature)))


def set_plan(data: TenantData, values: dict[str, Any], features: Sequence[dict[str, Any]]) -> BillingPlan:
    """Create or replace the tenant's plan. Checked by building billing/plans.py's RatingPlan, so a
    plan that the rules refuse is never stored."""
    try:
        RatingPlan(
            code=values["code"],
            increment=Increment(values["increment_minimum_s"], values["increment_step_s"]),
            pool_minutes=values["pool_minutes"],
            overage_per_minute=values["overage_per_minute"],
            local_per_minute=values["local_per_minute"],
            directory_assistance_per_call=values["directory_assistance_per_call"],
            conference_per_minute=values["conference_per_minute"],
        )
    except ValueError as exc:
        raise Invalid(str(exc), field="plan", rule="rating_plan") from None
    if values.get("deck_name"):
        exists = data.session.scalar(
            select(RateDeckModel.id).where(RateDeckModel.name == values["deck_name"])
        )
        if exists is None:
            raise Invalid(
                f"no rate deck named {values['deck_name']!r}", field="deck_name", rule="rate_deck_exists"
            )
    plan = plan_of(data)
    if plan is None:
        plan = data.create(BillingPlan, "billing.plan.create", **values)
    else:
        data.update(plan, "billing.plan.update", values)
    for old in plan_features(data, plan):
        data.delete(old, "billing.plan.feature.delete")
    for feature in features:
        data.create(BillingPlanFeature, "billing.plan.feature.create", plan_id=plan.id, **feature)
    return plan


def rating_plan(plan: BillingPlan, bundle: VoiceBundle | None = None) -> RatingPlan:
    base = RatingPlan(
        code=plan.code,
        increment=Increment(plan.increment_minimum_s, plan.increment_step_s),
        pool_minutes=plan.pool_minutes,
        overage_per_minute=stored_amount(plan.overage_per_minute),
        local_per_minute=stored_amount(plan.local_per_minute),
        directory_assistance_per_call=stored_amount(plan.directory_assistance_per_call),
        conference_per_minute=stored_amount(plan.conference_per_minute),
    )
    return bundle_rating_plan(plan.code, bundle, base) if bundle is not None else base
