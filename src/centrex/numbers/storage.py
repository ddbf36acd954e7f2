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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from centrex.numbers import porting
from centrex.numbers.cnam import CnamError, cnam_from_display_name, normalise_cnam
from centrex.numbers.e164 import to_e164
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
from centrex.store.access import OperatorData, TenantData, apply_changes, snapshot
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import (
    InvoiceRow,
    NumberKind,
    NumberStatus,
    PhoneNumber,
    ServiceType,
    Site,
    Tenant,
    TenantStatus,
)
from centrex.store.models.numbering import DirectoryListing, NumberUsage, PortOrder, RateCenterEntry
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


# --- port-in orders ------------------------------------------------------------------------------

PORT_FIELDS = (
    "account_name",
    "account_street",
    "account_unit",
    "account_city",
    "account_state",
    "account_postal_code",
    "account_number",
    "numbers",
    "services",
    "contact_phone",
    "contact_email",
    "pin",
    "billing_telephone_number",
    "loa_signer",
    "loa_signed_on",
    "loa_numbers",
    "requested_foc_date",
)
_RULE_CSR = "hosted-pbx.txt §2.5"
_API_FIELD = {  # the dotted paths of numbers/porting.py → the API's flat field names
    "csr.account_name": "account_name",
    "csr.account_address": "account_address",
    "csr.account_address.street": "account_street",
    "csr.account_address.city": "account_city",
    "csr.account_address.state": "account_state",
    "csr.account_address.postal_code": "account_postal_code",
    "csr.account_number": "account_number",
    "csr.numbers": "numbers",
    "csr.services": "services",
    "csr.contact_phone": "contact_phone",
    "csr.contact_email": "contact_email",
    "loa.signer": "loa_signer",
    "loa.signed_on": "loa_signed_on",
    "loa.numbers": "loa_numbers",
}


def _api_field(path: str) -> str:
    head, bracket, index = path.partition("[")
    return _API_FIELD.get(head, head) + (bracket + index if bracket else "")


def _order_of(row: PortOrder) -> porting.PortInOrder:
    address = None
    if any((row.account_street, row.account_city, row.account_state, row.account_postal_code)):
        address = porting.PortAddress(
            row.account_street, row.account_city, row.account_state, row.account_postal_code, row.account_unit
        )
    return porting.PortInOrder(
        csr=porting.CustomerServiceRecord(
            row.account_name,
            address,
            row.account_number,
            tuple(row.numbers or ()),
            tuple(row.services or ()),
            row.contact_phone,
            row.contact_email,
        ),
        pin=row.pin,
        billing_telephone_number=row.billing_telephone_number,
        loa=porting.LetterOfAuthorization(row.loa_signer, row.loa_signed_on, tuple(row.loa_numbers or ())),
        requested_foc_date=row.requested_foc_date,
    )


def _status_of(row: PortOrder) -> porting.PortStatus:
    return porting.PortStatus(porting.PortState(row.status), row.foc_date, row.rejection_reason)


def port_order_problems(row: PortOrder, today: date) -> list[Problem]:
    """Every missing or invalid field (numbers/porting.py validate_port_in), with API field names."""
    return [
        Problem(_api_field(e.field), e.message, _RULE_CSR)
        for e in porting.validate_port_in(_order_of(row), today)
    ]


def _redacted(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """The losing carrier's PIN is never written to the audit log, only whether it is set."""
    if values is None or "pin" not in values:
        return values
    return {**values, "pin": "(set)" if values["pin"] else None}


def create_port_order(data: TenantData, values: dict[str, Any]) -> PortOrder:
    data.require(Resource.PORT_ORDER, Action.CREATE)
    row = PortOrder(tenant_id=data.tenant_id, status=porting.PortState.DRAFT.value, **values)
    data.session.add(row)
    data.session.flush()
    data.audit("port_order.create", "port_orders", row.id, None, _redacted(snapshot(row)), data.tenant_id)
    return row


def _change(
    data: TenantData, row: PortOrder, action: str, changes: dict[str, Any], resource: Resource
) -> None:
    data.require(resource, Action.UPDATE)
    diff = apply_changes(data.session, row, changes)
    if diff:
        before, after = diff
        if "pin" in changes and "pin" in after:
            before, after = {**before, "pin": "(set)"}, {**after, "pin": "(changed)"}
        data.audit(action, "port_orders", row.id, before, after, data.tenant_id)


def get_port_order(data: TenantData, order_id: uuid.UUID) -> PortOrder:
    return data.get(PortOrder, order_id, Resource.PORT_ORDER)


def _transition_conflict(exc: porting.InvalidTransition) -> Conflict:
    return Conflict(
        str(exc),
        field="status",
        rule=f"port order {exc.current.value} → {exc.wanted.value} (hosted-pbx.txt §2.5)",
    )


def edit_port_order(data: TenantData, row: PortOrder, changes: dict[str, Any]) -> PortOrder:
    """Only a draft is edited (a rejected order is revised back to draft first)."""
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    if row.status != porting.PortState.DRAFT.value:
        raise Conflict(
            f"a {row.status} port order cannot be edited; only a draft can"
            + (" (revise the rejected order first)" if row.status == "rejected" else ""),
            field="status",
            rule="port order: edit only in draft",
        )
    _change(data, row, "port_order.edit", changes, Resource.PORT_ORDER)
    return row


def submit_port_order(data: TenantData, row: PortOrder, today: date) -> PortOrder:
    """draft → submitted, only with every field of the customer service record (hosted-pbx.txt §2.5)
    and the letter of authorization: `ProblemList` names each missing or invalid field."""
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    try:
        status = porting.submit(_status_of(row), _order_of(row), today)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    except porting.PortOrderInvalid:
        problems = port_order_problems(row, today)
        raise ProblemList(
            f"the port order cannot be submitted: {len(problems)} field(s) missing or invalid", problems
        ) from None
    # A draft keeps what was typed; a submitted order holds E.164 only (validation has passed).
    e164s = {
        "numbers": [to_e164(n) for n in row.numbers or ()],
        "loa_numbers": [to_e164(n) for n in row.loa_numbers or ()],
        "billing_telephone_number": to_e164(row.billing_telephone_number),
        "contact_phone": to_e164(row.contact_phone),
    }
    numbers = e164s["numbers"]
    taken = [
        n.e164
        for n in data.session.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_(numbers)))
        if n.tenant_id is not None
    ]
    if taken:
        raise Conflict(
            "already on the service: " + ", ".join(sorted(taken)),
            field="numbers",
            rule="port order: numbers not in service",
        )
    _change(
        data,
        row,
        "port_order.submit",
        {**e164s, "status": status.state.value, "submitted_at": now()},
        Resource.PORT_ORDER,
    )
    return row


def confirm_port_foc(data: TenantData, row: PortOrder, foc_date: date) -> PortOrder:
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.confirm_foc(_status_of(row), foc_date)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    _change(
        data,
        row,
        "port_order.foc",
        {"status": status.state.value, "foc_date": foc_date},
        Resource.PORT_PROGRESS,
    )
    return row


def reject_port_order(data: TenantData, row: PortOrder, reason: str) -> PortOrder:
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.reject(_status_of(row), reason)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc), field="reason", rule="port order: rejection reason") from None
    _change(
        data,
        row,
        "port_order.reject",
        {"status": status.state.value, "foc_date": None, "rejection_reason": status.rejection_reason},
        Resource.PORT_PROGRESS,
    )
    return row


def revise_port_order(data: TenantData, row: PortOrder) -> PortOrder:
    data.require(Resource.PORT_ORDER, Action.UPDATE)
    try:
        status = porting.revise(_status_of(row))
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    _change(data, row, "port_order.revise", {"status": status.state.value}, Resource.PORT_ORDER)
    return row


def complete_port_order(data: TenantData, row: PortOrder, on: date) -> PortOrder:
    """foc → completed, not before the FOC date. The ported numbers join the tenant's inventory
    (reserved, to be routed), in the same transaction."""
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    try:
        status = porting.complete(_status_of(row), on)
    except porting.InvalidTransition as exc:
        raise _transition_conflict(exc) from None
    stamp = now()
    for raw in row.numbers or ():
        e164 = to_e164(raw)
        number = data.session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
        if number is not None and number.tenant_id not in (None, data.tenant_id):
            raise Conflict(
                f"{e164} belongs to another account",
                field="numbers",
                rule="port order: numbers not in service",
            )
        if number is None:
            number = PhoneNumber(e164=e164, kind=NumberKind.DID, status=NumberStatus.RESERVED)
            data.session.add(number)
        number.tenant_id = data.tenant_id
        if number.status in (NumberStatus.AVAILABLE, NumberStatus.PORTING, NumberStatus.AGING):
            number.status = NumberStatus.RESERVED
        data.session.flush()
        _touch_usage(data.session, number.id, assigned_at=stamp)
        data.audit("number.port_in", "numbers", number.id, None, snapshot(number), data.tenant_id)
    _change(
        data,
        row,
        "port_order.complete",
        {"status": status.state.value, "completed_at": stamp},
        Resource.PORT_PROGRESS,
    )
    return row


# --- port-out standing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    in_good_standing: bool
    reasons: tuple[str, ...]
    overdue_invoices: tuple[str, ...]


def account_standing(data: TenantData, as_of: date) -> Standing:
    """Good standing for cpaas.txt §2.4.5: the tenant is active and no invoice has an undisputed
    amount past its due date (billing/service.py account_state, read only)."""
    from centrex.billing.service import account_state

    data.require(Resource.PORT_OUT, Action.READ)
    reasons: list[str] = []
    if data.tenant.status is not TenantStatus.ACTIVE:
        reasons.append(f"the account is {data.tenant.status.value}")
    overdue: list[str] = []
    stmt = (
        data.select(InvoiceRow, Resource.PORT_OUT)
        .where(InvoiceRow.due_date < as_of)
        .order_by(InvoiceRow.sequence)
    )
    for invoice in data.session.scalars(stmt):
        state = account_state(data, invoice, as_of)
        if state.overdue:
            overdue.append(invoice.number)
            reasons.append(
                f"invoice {invoice.number} has {state.undisputed_due} undisputed due since "
                f"{invoice.due_date.isoformat()}"
            )
    return Standing(not reasons, tuple(reasons), tuple(overdue))


def port_out_check(
    data: TenantData, number_id: uuid.UUID, as_of: date, *, required_by_law: bool = False
) -> tuple[porting.PortOutDecision, Standing, PhoneNumber]:
    """May this number of the tenant be ported away? Refused (409) while the account is not in
    good standing, unless the law requires the port (cpaas.txt §2.4.5)."""
    data.require(Resource.PORT_OUT, Action.READ)
    number = data.get(PhoneNumber, number_id, Resource.PORT_OUT)
    standing = account_standing(data, as_of)
    decision = porting.port_out_decision(standing.in_good_standing, required_by_law=required_by_law)
    if not decision.allowed:
        raise Conflict(
            f"{number.e164}: {decision.reason}: " + "; ".join(standing.reasons),
            field="account",
            rule="cpaas.txt §2.4.5",
        )
    return decision, standing, number


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


def _touch_usage(
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
    _touch_usage(session, number_id, used_at=at)
    return True


def record_assignment(session: Session, number_id: uuid.UUID, at: datetime) -> None:
    _touch_usage(session, number_id, assigned_at=at)


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
