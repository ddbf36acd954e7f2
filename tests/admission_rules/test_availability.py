"""Availability and bundle-coverage rules with the contracts' own lists (voip-service-guide.txt
§2.2 and §I.5, voice-bundles.txt §1.3.2): every state and origin named, both rating paths."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from centrex.billing.availability import site_refusal, toll_free_origin_excluded
from centrex.billing.batch_period import rate_period_batch
from centrex.billing.categories import UsageCategory
from centrex.billing.plans import RatingPlan, VoiceBundle, bundle_rating_plan
from centrex.billing.rating import rate, rate_period
from centrex.numbers.classes import CallClass, Direction
from tests.billing.helpers import cdr

PBX = RatingPlan(code="pbx", pool_minutes=0, overage_per_minute=Decimal("0.05"))
BUNDLE = bundle_rating_plan("bundle", VoiceBundle(monthly_rate=Decimal("25")), PBX)


@pytest.mark.parametrize("state", ["KY", "ME", "NH", "ND", "SD", "VT", "WV", "WY"])
def test_bundled_pricing_is_refused_in_the_eight_states(state: str) -> None:
    refused = site_refusal(state, "US", "bundled")
    assert refused is not None and refused[2] == "bundled_unavailable" and "§2.2" in refused[1]
    assert site_refusal(state, "US", "a-la-carte") is None


def test_no_service_in_alaska_on_any_plan_and_the_rest_is_served() -> None:
    for plan in ("bundled", "a-la-carte"):
        refused = site_refusal("AK", "US", plan)
        assert refused is not None and refused[2] == "service_area"
    assert site_refusal("IL", "US", "bundled") is None
    assert site_refusal("HI", "US", "bundled") is None


@pytest.mark.parametrize(
    ("caller", "excluded"),
    [
        ("+19075551234", True),  # Alaska
        ("+16715551234", True),  # Guam
        ("+18085551234", True),  # Hawaii
        ("+17875551234", True),  # Puerto Rico
        ("+16705551234", True),  # Saipan (Northern Mariana Islands)
        ("+13405551234", True),  # U.S. Virgin Islands
        ("+14165551234", True),  # Canada (Toronto)
        ("+12175281001", False),  # Illinois
        ("+12125550199", False),  # New York
        ("1001", False),  # an extension: not an origin
    ],
)
def test_toll_free_bundle_excluded_origins(caller: str, excluded: bool) -> None:
    assert toll_free_origin_excluded(caller) is excluded


def test_a_toll_free_call_from_hawaii_is_charged_outside_the_bundle_on_both_rating_paths() -> None:
    covered = replace(
        cdr(600, call_class=CallClass.TOLL_FREE, direction=Direction.INBOUND), caller="+12125550199"
    )
    excluded = replace(
        cdr(600, cid="c2", call_class=CallClass.TOLL_FREE, direction=Direction.INBOUND), caller="+18085551234"
    )
    free, charged = rate(covered, BUNDLE, None), rate(excluded, BUNDLE, None)
    assert free.amount == 0 and free.category is UsageCategory.TOLL_FREE_INBOUND
    assert charged.category is UsageCategory.TOLL_FREE_INBOUND_EXCLUDED
    assert charged.amount == Decimal("0.50")  # 10 min at the plan's MOU rate
    period = rate_period([covered, excluded], BUNDLE, None)
    batch = rate_period_batch([covered, excluded], BUNDLE, None)
    assert period.total == batch.total == Decimal("0.50")
