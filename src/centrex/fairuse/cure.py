"""What happens to a fair-use finding over billing cycles: notice, cure, re-rate or termination.

voice-bundles.txt §3.3: "IntelePeer will monitor usage patterns and notify Customer of any usage
that appears to be Prohibited Use(s) ... if Customer does not correct the Prohibited Use by the end
of the billing cycle following the notification by IntelePeer, or if Prohibited Uses appear in any
subsequent billing cycles, IntelePeer reserves the right, in its sole discretion and without any
additional notice, to adjust the amounts invoiced to Customer for any affected billing cycles to
reflect the appropriate pricing for such Prohibited Uses or terminate the Agreement."

So, per (kind, subject):
- first seen in cycle C → ``noticed`` (the notice, with its evidence, to the tenant);
- reviewed at the end of C+1: gone → ``cured``; still there → ``rerated`` (cycles C and C+1 at the
  plan's price for that use) or ``termination`` for a use that has no price;
- after a cure, seen again in any later cycle → ``rerated`` (or ``termination``) at once, for that
  cycle, with no new notice or cure period ("appear in any subsequent billing cycles").
Aggregating other sites' traffic (voip-service-guide.txt §V.2) has no price in the plan: the account is
flagged for termination; every other use is re-rated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from centrex.billing.cdr import CallRecord
from centrex.billing.deck import RateDeck
from centrex.billing.plans import RatingPlan
from centrex.billing.rating import rate_period
from centrex.fairuse.detectors import DOMESTIC, Finding, Kind
from centrex.numbers.classes import CallClass, Direction

NO_PRICE = frozenset({Kind.AGGREGATION, Kind.CPAAS_NO_CONSENT})  # cpaas.txt §2.5: nothing to re-rate


class State(StrEnum):
    NOTICED = "noticed"
    CURED = "cured"
    RERATED = "rerated"
    TERMINATION = "termination"


@dataclass(frozen=True, slots=True)
class Case:
    kind: Kind
    subject: str
    state: State
    noticed_cycle: str  # YYYY-MM
    cycles: tuple[str, ...]  # the cycles it was seen in
    evidence: dict[str, object] = field(default_factory=dict)  # the latest


def _action(kind: Kind) -> State:
    return State.TERMINATION if kind in NO_PRICE else State.RERATED


def advance(cases: Iterable[Case], findings: Sequence[Finding], cycle: str) -> list[Case]:
    """The cases after reviewing ``cycle``'s findings (cycles reviewed in order, once each)."""
    by_key = {(c.kind, c.subject): c for c in cases}
    seen = {(f.kind, f.subject): f for f in findings}
    out: dict[tuple[Kind, str], Case] = {}
    for key, case in by_key.items():
        found = seen.get(key)
        if case.state is State.NOTICED and case.noticed_cycle != cycle:
            if found is None:
                out[key] = replace(case, state=State.CURED)
            else:
                out[key] = replace(
                    case,
                    state=_action(case.kind),
                    cycles=(*case.cycles, cycle),
                    evidence=dict(found.evidence),
                )
        elif case.state is State.CURED and found is not None:
            out[key] = replace(case, state=_action(case.kind), cycles=(cycle,), evidence=dict(found.evidence))
        else:
            out[key] = case
    for key, found in seen.items():
        if key not in out:
            out[key] = Case(found.kind, found.subject, State.NOTICED, cycle, (cycle,), dict(found.evidence))
    return list(out.values())


def records_of_use(case: Case, records: Sequence[CallRecord]) -> list[CallRecord]:
    """The calls of the prohibited use: the dialer's or the shared line's own calls, the toll-free
    calls, the domestic calls out (spread), the aggregating site's calls."""
    if case.kind in (Kind.AUTODIALER, Kind.SHARED_LINE):
        return [r for r in records if (r.user_id or r.caller) == case.subject]
    if case.kind is Kind.TOLL_FREE_SHARE:
        return [
            r for r in records if r.call_class is CallClass.TOLL_FREE and r.direction is Direction.INBOUND
        ]
    if case.kind is Kind.DESTINATION_SPREAD:
        return [r for r in records if r.direction is Direction.OUTBOUND and r.call_class in DOMESTIC]
    return [r for r in records if r.site_id == case.subject]


def rerate_amount(records: Sequence[CallRecord], plan: RatingPlan, deck: RateDeck | None) -> Decimal:
    """What these calls cost at "the appropriate pricing" (§3.3): the plan without the bundle's
    unlimited categories (their minutes at the plan's MOU rate), less what was invoiced for them."""
    priced = replace(plan, unlimited=frozenset())
    return rate_period(records, priced, deck).total - rate_period(records, plan, deck).total
