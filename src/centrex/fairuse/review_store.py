"""A tenant's billing cycle reviewed by the fair-use monitors, and its cases kept in the store.

Each cycle of a tenant is reviewed once and in order (a review of an earlier or the same cycle is
a 409): the monitors (fairuse/detectors.py) run over the cycle's CDRs, the cases advance
(fairuse/cure.py: notice, cure, re-rate or termination), and a case that turns to ``rerated``
gets the adjustment of its affected cycles — the use's calls at the plan's own prices instead of the
bundle's unlimited (voice-bundles.txt §3.3).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select

from centrex.billing.cdr import CallRecord
from centrex.billing.cdr_service import records_of_month
from centrex.billing.deck_service import deck_for_plan
from centrex.billing.periods import next_month_start
from centrex.billing.plan_service import plan_of, rating_plan
from centrex.billing.rating_service import bundle_in_force
from centrex.fairuse.cpaas_traffic import cpaas_spans, voice_bundle_records
from centrex.fairuse.cpaas_use import findings as cpaas_findings
from centrex.fairuse.cure import Case, State, advance, records_of_use, rerate_amount
from centrex.fairuse.detectors import CARRIER_TYPES_FIXTURE, Kind, load_carrier_types, review
from centrex.store.access import TenantData
from centrex.store.errors import Conflict
from centrex.store.models import Site
from centrex.store.models.admission import CarrierType, FairUseCase, FairUseReview
from centrex.store.policy import Action, Resource


def carrier_types(data: TenantData) -> dict[str, str]:
    rows = data.session.scalars(select(CarrierType))
    table = {r.npa_nxx: r.carrier_type for r in rows}
    return table or load_carrier_types(CARRIER_TYPES_FIXTURE)


def _case(row: FairUseCase) -> Case:
    return Case(
        Kind(row.kind),
        row.subject,
        State(row.state),
        row.noticed_cycle,
        tuple(row.cycles),
        dict(row.evidence),
    )


def _month(cycle: str) -> date:
    year, month = cycle.split("-")
    return date(int(year), int(month), 1)


def bundle_calls(data: TenantData, month: date) -> list[CallRecord]:
    """The month's calls the voice bundles' Fair Usage Policy judges: not campaigns' nor any other
    CPaaS call, which cpaas.txt bills and judges (fairuse/cpaas_traffic.py)."""
    start = datetime.combine(month, time(), tzinfo=UTC)
    end = datetime.combine(next_month_start(month), time(), tzinfo=UTC)
    spans = cpaas_spans(data.session, data.tenant_id, start, end)
    return voice_bundle_records(records_of_month(data, month), spans)


def adjustment(data: TenantData, case: Case) -> Decimal:
    """The re-rated amount over the case's affected cycles (0 without a billing plan)."""
    plan = plan_of(data)
    if plan is None:
        return Decimal("0")
    deck, _ = deck_for_plan(data.session, plan)
    total = Decimal("0")
    for cycle in case.cycles:
        month = _month(cycle)
        rating = rating_plan(plan, bundle_in_force(data, month))
        calls = bundle_calls(data, month)  # CPaaS is not a bundle's use
        total += rerate_amount(records_of_use(case, calls), rating, deck)
    return total


def _bounds(cycle: str) -> tuple[datetime, datetime]:
    first = _month(cycle)
    return datetime.combine(first, time(), UTC), datetime.combine(next_month_start(first), time(), UTC)


def review_cycle(data: TenantData, cycle: str) -> list[FairUseCase]:
    data.require(Resource.BILLING, Action.CREATE)
    last = data.session.scalar(
        data.select(FairUseReview, Resource.BILLING).order_by(FairUseReview.cycle.desc()).limit(1)
    )
    if last is not None and last.cycle >= cycle:
        raise Conflict(
            f"cycle {cycle} is not after the last reviewed cycle {last.cycle}", field="cycle", rule="in_order"
        )
    sites = {str(s.id): s.npa_nxx for s in data.session.scalars(data.select(Site, Resource.BILLING))}
    # Campaigns and other CPaaS calls are billed and judged under cpaas.txt, not the bundles' Fair
    # Usage Policy (fairuse/cpaas_traffic.py): only people's calls are reviewed here.
    findings = review(bundle_calls(data, _month(cycle)), carrier_types(data), sites)
    findings += cpaas_findings(data.session, data.tenant_id, *_bounds(cycle))  # cpaas.txt §2.5
    rows = {(r.kind, r.subject): r for r in data.session.scalars(data.select(FairUseCase, Resource.BILLING))}
    for case in advance([_case(r) for r in rows.values()], findings, cycle):
        row = rows.get((case.kind.value, case.subject))
        if row is None:
            row = FairUseCase(tenant_id=data.tenant_id, kind=case.kind.value, subject=case.subject)
            data.session.add(row)
        became_rerated = case.state is State.RERATED and row.state != State.RERATED.value
        row.state, row.noticed_cycle = case.state.value, case.noticed_cycle
        row.cycles, row.evidence = list(case.cycles), dict(case.evidence)
        if became_rerated:
            row.adjustment = adjustment(data, case)
    data.session.add(FairUseReview(tenant_id=data.tenant_id, cycle=cycle, findings=len(findings)))
    data.audit(
        "fair_use.review",
        "fair_use_reviews",
        None,
        None,
        {"cycle": cycle, "findings": len(findings)},
        data.tenant_id,
    )
    data.session.flush()
    return list(data.session.scalars(data.select(FairUseCase, Resource.BILLING).order_by(FairUseCase.kind)))
