"""Numbers of issue 6 on the API: the operator's rate-center table and reclamation list; each
tenant's port-in orders, port-out check, directory listings, caller-ID names, DID limit and the
number assignment that enforces it. The rules are in numbers/; numbers/storage.py applies them.

Where a rule finds several problems (a port order missing three fields, a listing refused for two
reasons, a CSV with bad rows), the 422 body lists every one in `errors`, each with its field and rule.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, PagingDep, SessionDep, TenantDep
from centrex.api.fields import E164, Out, Page, page_of
from centrex.api.routers.numbers import NumberOut, RoutingIn, set_routing
from centrex.numbers import port_storage, storage
from centrex.numbers.listings import ListingDesignation
from centrex.numbers.storage import ProblemList
from centrex.ops.lifecycle import port_out_pin_matches
from centrex.store.errors import Conflict, Invalid
from centrex.store.models.numbering import DirectoryListing, PortOrder, RateCenterEntry
from centrex.store.policy import Action, Resource

MAX_CSV_BYTES = 32 * 1024 * 1024


class ProblemRoute(APIRoute):
    """Turns a `ProblemList` into a 4xx listing every problem, after rolling back the request's
    transaction (the app's handlers only know single-field errors, and answering here means the
    session dependency would otherwise commit what was flushed). Routers using this route class
    also depend on `remember_session`, which puts the request's session where this finds it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ProblemList as exc:
                session = getattr(request.state, "centrex_session", None)
                if session is not None:
                    session.rollback()  # all of the change or none of it
                return problem_response(exc)

        return run


async def remember_session(request: Request, session: SessionDep) -> None:
    """The request's session (the same one TenantDep and OperatorDep use: dependencies are cached
    per request), kept for `ProblemRoute` to roll back."""
    request.state.centrex_session = session


def problem_response(exc: ProblemList) -> JSONResponse:
    errors = [p.as_dict() for p in exc.problems]
    body: dict[str, Any] = {"error": "validation_error", "message": exc.message, "errors": errors}
    if errors:
        body["field"], body["rule"] = errors[0]["field"], errors[0]["rule"]
    return JSONResponse(status_code=exc.status, content=body)


router = APIRouter(tags=["numbers"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])


async def csv_text(request: Request) -> str:
    """A CSV upload: `Content-Type: text/csv`, or JSON `{"csv": "..."}`."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Invalid(f"an upload is at most {MAX_CSV_BYTES} bytes", field="csv", rule="size")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            return str(json.loads(raw)["csv"])
        except (ValueError, KeyError, TypeError):
            raise Invalid('JSON body must be {"csv": "..."}', field="body", rule="json") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV must be UTF-8", field="csv", rule="utf-8") from None


class ImportOut(BaseModel):
    rows: int


# --- rate centers (operator) ---------------------------------------------------------------------


class RateCenterOut(Out):
    npa_nxx: str
    rate_center: str
    lata: str
    state: str


@router.post("/rate-centers", response_model=ImportOut, status_code=201)
async def import_rate_centers(request: Request, ops: OperatorDep) -> Any:
    """Replace the rate-center table: CSV `npa,nxx,rate_center,lata,state` (or `npa_nxx,...`).
    A file with a bad row is refused whole; each problem names its row and field."""
    ops.require_operator()
    text = await csv_text(request)
    return ImportOut(rows=storage.import_rate_centers(ops, text))


@router.get("/rate-centers", response_model=Page[RateCenterOut])
def list_rate_centers(
    ops: OperatorDep,
    paging: PagingDep,
    state: Annotated[str | None, Query(max_length=2)] = None,
    prefix: Annotated[str | None, Query(pattern=r"^[0-9]{1,6}$")] = None,
) -> Any:
    ops.require_operator()
    stmt = select(RateCenterEntry).order_by(RateCenterEntry.npa_nxx)
    if state:
        stmt = stmt.where(RateCenterEntry.state == state.upper())
    if prefix:
        stmt = stmt.where(RateCenterEntry.npa_nxx.startswith(prefix))
    total = ops.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(ops.session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


# --- reclamation (operator) ----------------------------------------------------------------------


class ReclamationOut(BaseModel):
    number_id: uuid.UUID
    e164: str
    tenant_id: uuid.UUID
    tenant_name: str
    idle_since: datetime
    days_unused: int
    notice_required: bool
    notice_on: date | None
    earliest_reclaim_at: datetime
    reason: str


@router.get("/numbers/reclamation", response_model=list[ReclamationOut])
def reclamation(
    ops: OperatorDep,
    unused_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    notice_days: Annotated[int, Query(ge=0, le=365)] = 30,
) -> Any:
    """Numbers unused for `unused_days` (default 90), with the notice cpaas.txt §2.4.5 owes: a
    written notice now and reclamation `notice_days` later, or none for a suspended account."""
    ops.require_operator()
    at = storage.now()
    out = []
    for c in storage.reclamation_candidates(
        ops, at, timedelta(days=unused_days), timedelta(days=notice_days)
    ):
        out.append(
            ReclamationOut(
                number_id=c.number.id,
                e164=c.number.e164,
                tenant_id=c.tenant.id,
                tenant_name=c.tenant.name,
                idle_since=c.flag.idle_since,
                days_unused=(at - c.flag.idle_since).days,
                notice_required=c.flag.notice_required,
                notice_on=at.date() if c.flag.notice_required else None,
                earliest_reclaim_at=c.flag.earliest_reclaim_at,
                reason=c.flag.reason,
            )
        )
    return out


# --- port-in orders ------------------------------------------------------------------------------

Text200 = Annotated[str, Field(max_length=200)]


class PortOrderIn(BaseModel):
    """hosted-pbx.txt §2.5: the customer service record (a. account name, b. address, c. account
    number, d. numbers, services, contact), plus the PIN and billing telephone number the losing
    carrier checks and the letter of authorization. A draft may be incomplete; submit needs all."""

    account_name: Text200 = ""
    account_street: Text200 = ""
    account_unit: Annotated[str, Field(max_length=50)] = ""
    account_city: Annotated[str, Field(max_length=100)] = ""
    account_state: Annotated[str, Field(max_length=2)] = ""
    account_postal_code: Annotated[str, Field(max_length=10)] = ""
    account_number: Annotated[str, Field(max_length=64)] = ""
    numbers: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=1000)] = []
    services: Annotated[list[Text200], Field(max_length=100)] = []
    contact_phone: Annotated[str, Field(max_length=32)] = ""
    contact_email: Annotated[str, Field(max_length=254)] = ""
    pin: Annotated[str, Field(max_length=15)] = ""
    billing_telephone_number: Annotated[str, Field(max_length=32)] = ""
    loa_signer: Text200 = ""
    loa_signed_on: date | None = None
    loa_numbers: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=1000)] = []
    requested_foc_date: date | None = None


class PortPatch(PortOrderIn):
    pass


class ProblemOut(BaseModel):
    field: str
    rule: str
    message: str


class PortOrderOut(Out):
    id: uuid.UUID
    status: str
    account_name: str
    account_street: str
    account_unit: str
    account_city: str
    account_state: str
    account_postal_code: str
    account_number: str
    numbers: list[str]
    services: list[str]
    contact_phone: str
    contact_email: str
    pin_set: bool
    billing_telephone_number: str
    loa_signer: str
    loa_signed_on: date | None
    loa_numbers: list[str]
    requested_foc_date: date | None
    foc_date: date | None
    rejection_reason: str
    submitted_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    problems: list[ProblemOut] = []


def _order_out(row: PortOrder) -> PortOrderOut:
    fields = {k: getattr(row, k) for k in PortOrderOut.model_fields if hasattr(row, k) and k != "problems"}
    problems = (
        [ProblemOut(**p.as_dict()) for p in port_storage.port_order_problems(row, storage.now().date())]
        if row.status == "draft"
        else []
    )
    return PortOrderOut(**fields, pin_set=bool(row.pin), problems=problems)


class FocIn(BaseModel):
    foc_date: date


class CompleteIn(BaseModel):
    completed_on: date | None = None


class RejectIn(BaseModel):
    reason: Annotated[str, Field(max_length=2000)]


@router.post("/tenants/{tenant_id}/port-orders", response_model=PortOrderOut, status_code=201)
def create_port_order(body: PortOrderIn, data: TenantDep) -> Any:
    """A draft port-in order. The answer lists in `problems` every field still missing or invalid
    for submission, so the administrator can complete it in one go."""
    return _order_out(port_storage.create_port_order(data, body.model_dump()))


@router.get("/tenants/{tenant_id}/port-orders", response_model=Page[PortOrderOut])
def list_port_orders(data: TenantDep, paging: PagingDep, status: str | None = None) -> Any:
    stmt = data.select(PortOrder, Resource.PORT_ORDER).order_by(PortOrder.created_at)
    if status:
        stmt = stmt.where(PortOrder.status == status)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_order_out(r) for r in rows], total, paging.limit, paging.offset)


@router.get("/tenants/{tenant_id}/port-orders/{order_id}", response_model=PortOrderOut)
def get_port_order(order_id: uuid.UUID, data: TenantDep) -> Any:
    return _order_out(port_storage.get_port_order(data, order_id))


@router.patch("/tenants/{tenant_id}/port-orders/{order_id}", response_model=PortOrderOut)
def edit_port_order(order_id: uuid.UUID, body: PortPatch, data: TenantDep) -> Any:
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.edit_port_order(data, row, body.model_dump(exclude_unset=True)))


@router.post("/tenants/{tenant_id}/port-orders/{order_id}/submit", response_model=PortOrderOut)
def submit_port_order(order_id: uuid.UUID, data: TenantDep) -> Any:
    """draft → submitted; 422 listing every missing or invalid field, 409 from any other state."""
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.submit_port_order(data, row, storage.now().date()))


@router.post("/tenants/{tenant_id}/port-orders/{order_id}/foc", response_model=PortOrderOut)
def confirm_foc(order_id: uuid.UUID, body: FocIn, data: TenantDep) -> Any:
    """The losing carrier's firm order commitment (operator); 409 unless submitted (or moving a FOC)."""
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.confirm_port_foc(data, row, body.foc_date))


@router.post("/tenants/{tenant_id}/port-orders/{order_id}/complete", response_model=PortOrderOut)
def complete_port(order_id: uuid.UUID, body: CompleteIn, data: TenantDep) -> Any:
    """foc → completed on or after the FOC date (operator); the numbers join the tenant's inventory."""
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.complete_port_order(data, row, body.completed_on or storage.now().date()))


@router.post("/tenants/{tenant_id}/port-orders/{order_id}/reject", response_model=PortOrderOut)
def reject_port(order_id: uuid.UUID, body: RejectIn, data: TenantDep) -> Any:
    data.require(Resource.PORT_PROGRESS, Action.UPDATE)
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.reject_port_order(data, row, body.reason))


@router.post("/tenants/{tenant_id}/port-orders/{order_id}/revise", response_model=PortOrderOut)
def revise_port(order_id: uuid.UUID, data: TenantDep) -> Any:
    """rejected → draft, to correct and resubmit."""
    row = port_storage.get_port_order(data, order_id)
    return _order_out(port_storage.revise_port_order(data, row))


@router.delete("/tenants/{tenant_id}/port-orders/{order_id}", status_code=204)
def delete_port_order(order_id: uuid.UUID, data: TenantDep) -> Response:
    """Only a draft is withdrawn by deleting it; a submitted order is the carrier's to answer."""
    row = port_storage.get_port_order(data, order_id)
    if row.status != "draft":
        raise Conflict(
            f"a {row.status} port order cannot be deleted",
            field="status",
            rule="port order: delete only in draft",
        )
    data.delete(row, "port_order.delete", Resource.PORT_ORDER)
    return Response(status_code=204)


# --- port-out ------------------------------------------------------------------------------------


class PortOutIn(BaseModel):
    port_on: date | None = Field(
        None, description="the requested port date (default today): invoices past due by then count"
    )
    required_by_law: bool = False
    pin: str | None = Field(
        None, max_length=10, description="the tenant's port-out PIN, as the gaining carrier quotes it"
    )


class PortOutOut(BaseModel):
    allowed: bool
    reason: str
    e164: str


@router.post("/tenants/{tenant_id}/numbers/{number_id}/port-out-check", response_model=PortOutOut)
def port_out_check(number_id: uuid.UUID, body: PortOutIn, data: TenantDep) -> Any:
    """May this number be ported away (now, or on the requested `port_on` date)? 409 naming
    cpaas.txt §2.4.5 while the account is not in good standing: suspended, or an undisputed amount
    past its due date (by the port date, with the payments known now). Only an operator may record
    that the law requires the port."""
    data.require(Resource.PORT_OUT, Action.READ)
    if body.required_by_law and not data.principal.is_operator:
        raise Invalid(
            "only the provider records that a port-out is required by law",
            field="required_by_law",
            rule="cpaas.txt §2.4.5",
        )
    today = storage.now().date()
    if body.port_on is not None and body.port_on < today:
        raise Invalid("the requested port date is in the past", field="port_on", rule="not_past")
    decision, _, number = port_storage.port_out_check(
        data, number_id, body.port_on or today, required_by_law=body.required_by_law
    )
    if not body.required_by_law and not port_out_pin_matches(data.session, data.tenant_id, body.pin):
        # The tenant's PIN protects its numbers from being ported away (checked against its hash).
        raise Conflict(
            f"{number.e164}: the port-out PIN is missing or wrong", field="pin", rule="port_out_pin"
        )
    return PortOutOut(allowed=decision.allowed, reason=decision.reason, e164=number.e164)


# --- directory listings --------------------------------------------------------------------------


class ListingIn(BaseModel):
    name: Annotated[str, Field(max_length=200)]
    number: E164
    designation: ListingDesignation | None = None
    legal_names: Annotated[list[Text200], Field(max_length=10)] = []
    customer_is_government: bool = False


class ListingOut(Out):
    id: uuid.UUID
    name: str
    number: str
    designation: str
    lines: list[str]
    abbreviated: bool
    furnished_at: datetime


@router.post("/tenants/{tenant_id}/listings", response_model=ListingOut, status_code=201)
def create_listing(body: ListingIn, data: TenantDep) -> Any:
    """voip-service-guide.txt §III.3.4.1: refused names (obscene, misleading, advertising, not the
    legal name, too elaborate) and wrong sections are 422 with each reason and its paragraph; a long
    name is abbreviated (A). Only the provider may say the customer is a government."""
    if body.customer_is_government and not data.principal.is_operator:
        raise Invalid(
            "only the provider records that a customer is a government body",
            field="customer_is_government",
            rule="voip-service-guide.txt §III.3.4.1 C",
        )
    return storage.create_listing(
        data,
        body.name,
        body.number,
        body.designation,
        body.legal_names,
        body.customer_is_government,
        storage.now(),
    )


@router.get("/tenants/{tenant_id}/listings", response_model=Page[ListingOut])
def list_listings(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(DirectoryListing, Resource.LISTING).order_by(DirectoryListing.name)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.get("/tenants/{tenant_id}/listings/{listing_id}", response_model=ListingOut)
def get_listing(listing_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(DirectoryListing, listing_id, Resource.LISTING)


@router.delete("/tenants/{tenant_id}/listings/{listing_id}", status_code=204)
def delete_listing(listing_id: uuid.UUID, data: TenantDep) -> Response:
    row = data.get(DirectoryListing, listing_id, Resource.LISTING)
    data.delete(row, "listing.delete", Resource.LISTING)
    return Response(status_code=204)


# --- caller-ID name, DID limit, assignment -------------------------------------------------------


class CnamIn(BaseModel):
    cnam: Annotated[str | None, Field(max_length=200)]
    from_display_name: bool = False


@router.put("/tenants/{tenant_id}/numbers/{number_id}/cnam", response_model=NumberOut)
def set_cnam(number_id: uuid.UUID, body: CnamIn, data: TenantDep) -> Any:
    """Caller-ID name (voip-service-guide.txt §III.3.1): accents dropped and spaces collapsed, at
    most 15 printable characters with a letter; 422 with every problem. With `from_display_name`
    a longer name is cut at a word boundary instead of refused."""
    number = storage.number_of_tenant(data, number_id)
    return storage.set_cnam(data, number, body.cnam, body.from_display_name)


class DidLimitOut(BaseModel):
    service_type: str
    calling_plan: str
    calling_units: int
    assigned_dids: int
    limit: int | None
    rule: str = "voip-service-guide.txt §V.2"


@router.get("/tenants/{tenant_id}/did-limit", response_model=DidLimitOut)
def did_limit(data: TenantDep) -> Any:
    s = storage.did_limit_status(data)
    return DidLimitOut(
        service_type=s.service_type.value,
        calling_plan=s.calling_plan.value,
        calling_units=s.calling_units,
        assigned_dids=s.assigned_dids,
        limit=s.limit,
    )


@router.put("/tenants/{tenant_id}/numbers/{number_id}/assignment", response_model=NumberOut)
def assign_number(number_id: uuid.UUID, body: RoutingIn, data: TenantDep) -> Any:
    """MAC 9 incoming call routing with the §V.2 DID limit: 409 when routing one more DID would put
    more than eight DIDs per simultaneous call on Hosted IP Centrex with unlimited calling."""
    data.require(Resource.NUMBER, Action.UPDATE)
    number = storage.number_of_tenant(data, number_id)
    if body.target_type is not None:
        storage.check_did_limit(data, number)
    was_assigned = number.target_type is not None
    out = set_routing(number_id, body, data)
    if body.target_type is not None and not was_assigned:
        storage.record_assignment(data.session, number.id, storage.now())
    return out
