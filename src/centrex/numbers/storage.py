"""The numbers rules applied to stored data: the rate-center table, port-in orders, port-out
standing, directory listings, caller-ID names, the DID limit and reclamation.

The rules are the pure functions of this package (ratecenters, porting, listings, cnam, limits,
reclamation); this module reads and writes rows through the access layer (store/access.py), so every
tenant query is filtered by tenant and checked against store/policy.py. Errors are store.errors with
the field and the rule; where a rule finds several problems, `ProblemList` carries every one of them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from centrex.numbers.cnam import CnamError, cnam_from_display_name, normalise_cnam
from centrex.numbers.limits import DidLimitExceeded, check_did_count, max_dids
from centrex.numbers.listings import ListingDesignation, ListingRequest, review_listing
from centrex.numbers.ratecenters import (
    RateCenter,
    RateCenterImportError,
    RateCenterTable,
    load_rate_centers_csv,
)
from centrex.numbers.reclamation import NumberUsage as UsageFacts
from centrex.numbers.reclamation import ReclamationFlag, ReclamationPolicy, reclamation_flags
from centrex.numbers.service import CallingPlan
from centrex.numbers.service import ServiceType as ContractService
from centrex.store.access import OperatorData, TenantData
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import (
    NumberKind,
    NumberStatus,
    PhoneNumber,
    ServiceType,
    Site,
    Tenant,
    TenantStatus,
)
from centrex.store.models.numbering import DirectoryListing, NumberUsage, RateCenterEntry
from centrex.store.policy import Action, Resource

__all__ = [
    "Problem",
    "ProblemList",
    "check_did_limit",
    "did_limit_status",
    "record_number_use",
]


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str
    rule: str = ""
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "rule": self.rule, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


class ProblemList(Exception):
    """Several problems found by one rule; the API answers 422 listing all of them."""

    def __init__(self, message: str, problems: Sequence[Problem], status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)
        self.status = status


def now() -> datetime:
    return datetime.now(UTC)


# --- rate centers (operator) ---------------------------------------------------------------------


def import_rate_centers(ops: OperatorData, text: str) -> int:
    """Replace the rate-center table with a CSV (numbers/ratecenters.py load_rate_centers_csv).
    A file with any bad row is refused whole, naming each row and field; nothing half-loaded."""
    ops.require_operator()
    try:
        table = load_rate_centers_csv(text)
    except RateCenterImportError as exc:
        raise ProblemList(
            f"rate-center CSV refused: {len(exc.problems)} problem(s)",
            [Problem(p.field, p.message, "rate_centers.csv", p.row) for p in exc.problems],
        ) from None
    if not table.by_npa_nxx:
        raise Invalid("the CSV has no rows", field="csv", rule="rate_centers.csv")
    ops.session.execute(delete(RateCenterEntry))
    ops.session.add_all(
        RateCenterEntry(npa_nxx=rc.npa_nxx, rate_center=rc.rate_center, lata=rc.lata, state=rc.state)
        for rc in table.by_npa_nxx.values()
    )
    ops.session.flush()
    fingerprint = hashlib.sha256(text.encode()).hexdigest()
    ops.audit(
        "rate_centers.import",
        "rate_centers",
        None,
        None,
        {"rows": len(table.by_npa_nxx), "sha256": fingerprint},
        None,
    )
    return len(table.by_npa_nxx)


def rate_center_table(session: Session) -> RateCenterTable:
    """The stored table as numbers/classify.py reads it (local calling areas are not stored yet)."""
    rows = session.scalars(select(RateCenterEntry))
    return RateCenterTable({r.npa_nxx: RateCenter(r.npa_nxx, r.rate_center, r.lata, r.state) for r in rows})


# --- directory listings --------------------------------------------------------------------------

LISTING_RULE = "voip-service-guide.txt §III.3.4.1"


def create_listing(
    data: TenantData,
    name: str,
    number: str,
    designation: ListingDesignation | None,
    legal_names: Iterable[str],
    customer_is_government: bool,
    furnished_at: datetime,
) -> DirectoryListing:
    """Review the listing (numbers/listings.py review_listing: B names, C sections, A abbreviation);
    a refused one is a `ProblemList` with every reason and its paragraph."""
    data.require(Resource.LISTING, Action.CREATE)
    owned = data.session.scalar(
        select(PhoneNumber.id).where(PhoneNumber.e164 == number, PhoneNumber.tenant_id == data.tenant_id)
    )
    if owned is None:
        raise Invalid(f"{number} is not a number of this account", field="number", rule="exists_in_tenant")
    if data.session.scalar(
        select(DirectoryListing.id).where(
            DirectoryListing.tenant_id == data.tenant_id, DirectoryListing.number == number
        )
    ):
        raise Conflict(f"{number} is already listed", field="number", rule="unique")
    review = review_listing(
        ListingRequest(
            name, designation, frozenset(n for n in legal_names if n.strip()), customer_is_government
        )
    )
    if not review.accepted or review.listing is None or review.section is None:
        raise ProblemList(
            "the listing is refused: " + "; ".join(r.message for r in review.refusals),
            [
                Problem("designation" if r.rule.endswith(" C") else "name", r.message, r.rule)
                for r in review.refusals
            ],
        )
    return data.create(
        DirectoryListing,
        "listing.create",
        Resource.LISTING,
        name=" ".join(name.split()),
        number=number,
        designation=review.section.value,
        lines=list(review.listing.lines),
        abbreviated=review.listing.abbreviated,
        furnished_at=furnished_at,
    )


# --- caller-ID name ------------------------------------------------------------------------------

CNAM_RULE = "voip-service-guide.txt §III.3.1 (caller ID name, 15 characters)"


def set_cnam(data: TenantData, number: PhoneNumber, cnam: str | None, from_display_name: bool) -> PhoneNumber:
    """Store a caller-ID name normalised by numbers/cnam.py (accents dropped, spaces collapsed, at
    most 15 printable characters with a letter); never truncated silently unless the caller asked
    for the name derived from a display name."""
    value: str | None = None
    if cnam is not None:
        try:
            value = cnam_from_display_name(cnam) if from_display_name else normalise_cnam(cnam)
        except CnamError as exc:
            raise ProblemList(str(exc), [Problem("cnam", p, CNAM_RULE) for p in exc.problems]) from None
    return data.update(number, "number.cnam", {"cnam": value}, Resource.NUMBER)


# --- DID limit -----------------------------------------------------------------------------------

_CONTRACT_SERVICE = {
    ServiceType.HOSTED_CENTREX: ContractService.HOSTED_IP_CENTREX,
    ServiceType.IP_TRUNKING: ContractService.IP_TRUNKING,
    ServiceType.INTEGRATED_ACCESS: ContractService.IP_INTEGRATED_ACCESS,
}


@dataclass(frozen=True)
class DidLimitStatus:
    service_type: ContractService
    calling_plan: CallingPlan
    calling_units: int
    assigned_dids: int
    limit: int | None  # None: the contract sets no limit for this service and plan


def did_limit_status(data: TenantData) -> DidLimitStatus:
    """What voip-service-guide.txt §V.2 allows this tenant: calling units summed over its sites;
    the plan is metered when every site is metered (§V.3.3: metered capacity is enterprise-wide),
    else the unlimited local and LD option. Counted DIDs: the tenant's DIDs routed to a target
    (toll-free numbers are not DIDs)."""
    sites = list(data.session.scalars(data.select(Site, Resource.NUMBER)))
    units = sum(s.calling_units for s in sites)
    plan = CallingPlan.METERED if sites and all(s.metered for s in sites) else CallingPlan.UNLIMITED_LOCAL_LD
    assigned = (
        data.session.scalar(
            select(func.count())
            .select_from(PhoneNumber)
            .where(
                PhoneNumber.tenant_id == data.tenant_id,
                PhoneNumber.kind == NumberKind.DID,
                PhoneNumber.status == NumberStatus.ASSIGNED,
            )
        )
        or 0
    )
    service = _CONTRACT_SERVICE[data.tenant.service_type]
    return DidLimitStatus(service, plan, units, assigned, max_dids(units, service, plan))


def check_did_limit(data: TenantData, number: PhoneNumber) -> None:
    """Refuse (409 naming §V.2) routing `number` to a target when that would put more than eight
    DIDs per simultaneous call on Hosted IP Centrex with unlimited local and LD.

    Call this before any change that makes a DID of the tenant ASSIGNED: the assignment route of
    api/routers/numbering.py does; `set_routing` in api/routers/numbers.py must too (see
    docs/contracts.md)."""
    if number.kind is not NumberKind.DID or number.status is NumberStatus.ASSIGNED:
        return  # re-routing an assigned DID adds none
    status = did_limit_status(data)
    exceeded: DidLimitExceeded | None = check_did_count(
        status.assigned_dids + 1, status.calling_units, status.service_type, status.calling_plan
    )
    if exceeded is not None:
        raise Conflict(
            str(exceeded),
            field="target_id",
            rule="voip-service-guide.txt §V.2 (8 DIDs per simultaneous call)",
        )


# --- usage and reclamation -----------------------------------------------------------------------


def touch_usage(
    session: Session,
    number_id: uuid.UUID,
    *,
    assigned_at: datetime | None = None,
    used_at: datetime | None = None,
) -> NumberUsage:
    usage = session.scalar(select(NumberUsage).where(NumberUsage.number_id == number_id))
    if usage is None:
        usage = NumberUsage(number_id=number_id)
        session.add(usage)
    if assigned_at is not None:
        usage.assigned_at = assigned_at
    if used_at is not None and (usage.last_used_at is None or used_at > usage.last_used_at):
        usage.last_used_at = used_at
    session.flush()
    return usage


def record_number_use(session: Session, e164: str, at: datetime) -> bool:
    """The switch calls this when a number carries a call (in or out); False if it is not ours."""
    number_id = session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))
    if number_id is None:
        return False
    touch_usage(session, number_id, used_at=at)
    return True


def record_assignment(session: Session, number_id: uuid.UUID, at: datetime) -> None:
    touch_usage(session, number_id, assigned_at=at)


@dataclass(frozen=True)
class ReclaimCandidate:
    number: PhoneNumber
    tenant: Tenant
    flag: ReclamationFlag


def reclamation_candidates(
    ops: OperatorData, as_of: datetime, unused_for: timedelta, notice_lead: timedelta
) -> list[ReclaimCandidate]:
    """The tenants' numbers unused for `unused_for` (cpaas.txt §2.4.5, numbers/reclamation.py).
    Idle since the last call, else since assignment; a number with no usage row counts from its
    last change (its allocation), the best the foundation recorded before this table existed."""
    ops.require_operator()
    try:
        policy = ReclamationPolicy(unused_for, notice_lead)
    except ValueError as exc:
        raise Invalid(str(exc), field="unused_days", rule="reclamation policy") from None
    stmt = (
        select(PhoneNumber, Tenant, NumberUsage)
        .join(Tenant, Tenant.id == PhoneNumber.tenant_id)
        .outerjoin(NumberUsage, NumberUsage.number_id == PhoneNumber.id)
        .where(PhoneNumber.status.in_([NumberStatus.RESERVED, NumberStatus.ASSIGNED]))
        .order_by(PhoneNumber.e164)
    )
    rows = [(n, t, u) for n, t, u in ops.session.execute(stmt)]
    facts = {
        number.e164: UsageFacts(
            number.e164,
            (usage.assigned_at if usage and usage.assigned_at else number.updated_at),
            usage.last_used_at if usage else None,
            account_suspended=tenant.status is not TenantStatus.ACTIVE,
        )
        for number, tenant, usage in rows
    }
    flags = {f.number: f for f in reclamation_flags(facts.values(), as_of, policy)}
    return [ReclaimCandidate(n, t, flags[n.e164]) for n, t, _ in rows if n.e164 in flags]


def number_of_tenant(data: TenantData, number_id: uuid.UUID) -> PhoneNumber:
    try:
        return data.get(PhoneNumber, number_id, Resource.NUMBER)
    except NotFound:
        raise NotFound(f"number {number_id} not found", field="id") from None
