"""A tenant's billing: plan, subscriptions, call records, rating runs, invoices (JSON and PDF),
credit notes, payments, disputes and outages. The rules are in billing/; its *_service.py modules
apply them to stored data. Amounts are strings in JSON (decimal, never float)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.billing import (
    cdr_service,
    days,
    invoice_service,
    outage_service,
    payment_service,
    plan_service,
    rating_service,
    subscription_service,
)
from centrex.billing.account_state import account_state
from centrex.billing.invoice import CreditNote, credit_note_to_dict, invoice_to_dict
from centrex.billing.lines import LineKind, make_line
from centrex.billing.money import stored_cents
from centrex.billing.pdf import render_invoice_pdf
from centrex.billing.plans import Feature
from centrex.store.models import (
    BundleSubscriptionRow,
    CreditNoteRow,
    DisputeRow,
    DisputeStatus,
    InvoiceRow,
    OutageRow,
    PaymentMethod,
    PaymentRow,
    RatingPurpose,
    RatingRun,
)

router = APIRouter(tags=["billing"])

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2, description="in dollars, at cents")]
Period = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="a month, YYYY-MM")]


# --- plan ----------------------------------------------------------------------------------------


class FeatureIn(BaseModel):
    feature: Feature
    monthly_price: Money
    quantity: int = Field(0, ge=0)


class PlanIn(BaseModel):
    """hosted-pbx.txt 1.a (seats), 1.b (features), usage 1 (allotment), 1.a (overage MOU rate),
    1.b (minimum and increment), 1.c (directory assistance), 1.d (conference)."""

    code: str = Field(min_length=1, max_length=64)
    deck_name: str | None = Field(None, max_length=100)
    increment_minimum_s: int = Field(60, ge=0)
    increment_step_s: int = Field(60, ge=1)
    pool_minutes: int = Field(0, ge=0)
    overage_per_minute: Money = Decimal(0)
    local_per_minute: Money = Decimal(0)
    directory_assistance_per_call: Money = Decimal(0)
    conference_per_minute: Money = Decimal(0)
    seat_monthly: Money = Decimal(0)
    seats: int = Field(0, ge=0)
    features: list[FeatureIn] = []
    tax_jurisdictions: list[Annotated[str, Field(pattern=r"^(\*|[A-Z]{2}(-[A-Z0-9]{1,20}){0,2})$")]] = []
    tax_lines: int | None = Field(None, ge=0)
    platform_fee_monthly: Money | None = Field(None, description="cpaas.txt §4.3 CPaaS Monthly Platform Fee")
    platform_fee_accepted_on: date | None = Field(None, description="the day the CPaaS terms were accepted")


class FeatureOut(Out):
    feature: str
    monthly_price: Decimal
    quantity: int


class PlanOut(Out):
    id: uuid.UUID
    code: str
    deck_name: str | None
    increment_minimum_s: int
    increment_step_s: int
    pool_minutes: int
    overage_per_minute: Decimal
    local_per_minute: Decimal
    directory_assistance_per_call: Decimal
    conference_per_minute: Decimal
    seat_monthly: Decimal
    seats: int
    features: list[FeatureOut]
    tax_jurisdictions: list[str]
    tax_lines: int | None
    platform_fee_monthly: Decimal | None = None
    platform_fee_accepted_on: date | None = None


def _plan_out(data: Any, plan: Any) -> PlanOut:
    values = {k: getattr(plan, k) for k in PlanOut.model_fields if k != "features"}
    return PlanOut(
        **values, features=[FeatureOut.model_validate(f) for f in plan_service.plan_features(data, plan)]
    )


@router.get("/tenants/{tenant_id}/billing/plan", response_model=PlanOut)
def get_plan(data: TenantDep) -> Any:
    return _plan_out(data, plan_service.require_plan(data))


@router.put("/tenants/{tenant_id}/billing/plan", response_model=PlanOut)
def put_plan(body: PlanIn, data: TenantDep) -> Any:
    values = body.model_dump(exclude={"features"})
    features = [
        {"feature": f.feature.value, "monthly_price": f.monthly_price, "quantity": f.quantity}
        for f in body.features
    ]
    return _plan_out(data, plan_service.set_plan(data, values, features))


# --- subscriptions -------------------------------------------------------------------------------


class SubscriptionIn(BaseModel):
    start: date
    quantity: int = Field(ge=1)
    rate: Money
    term_months: int = Field(12, ge=1, le=120)


class SubscriptionOut(Out):
    id: uuid.UUID
    start: date
    quantity: int
    rate: Decimal
    term_months: int
    term_start: date
    term_end: date
    renewal_notice_by: date
    next_rate: Decimal | None
    next_rate_from: date | None
    terminates_on: date | None
    termination_noticed_on: date | None = None
    rate_increase_noticed_on: date | None = None


@router.get("/tenants/{tenant_id}/billing/subscriptions", response_model=list[SubscriptionOut])
def list_subscriptions(data: TenantDep) -> Any:
    return list(
        data.session.scalars(data.select(BundleSubscriptionRow).order_by(BundleSubscriptionRow.start))
    )


@router.post("/tenants/{tenant_id}/billing/subscriptions", response_model=SubscriptionOut, status_code=201)
def add_subscription(body: SubscriptionIn, data: TenantDep) -> Any:
    return subscription_service.add_subscription(data, body.start, body.quantity, body.rate, body.term_months)


# --- call records --------------------------------------------------------------------------------


class CdrIn(BaseModel):
    id: str = Field(min_length=1, max_length=100)
    caller: str = Field(min_length=1, max_length=32)
    callee: str = Field(min_length=1, max_length=32)
    call_class: str
    direction: str
    start: AwareDatetime
    duration_ms: int = Field(ge=0)
    disposition: str = "answered"
    is_intra_enterprise: bool = False
    dialled: str = ""


class CdrBatchIn(BaseModel):
    cdrs: list[CdrIn] = Field(max_length=100_000)


class CdrBatchOut(BaseModel):
    received: int
    stored: int
    duplicates: int


@router.post("/tenants/{tenant_id}/billing/cdrs", response_model=CdrBatchOut, status_code=201)
def upload_cdrs(body: CdrBatchIn, data: TenantDep) -> Any:
    """Store finished calls for rating (the switch writes them itself; this is for imports).
    A call whose id is already stored is skipped, so an upload can be replayed."""
    stored, duplicates = cdr_service.store_cdrs(data, [c.model_dump() for c in body.cdrs])
    return CdrBatchOut(received=len(body.cdrs), stored=stored, duplicates=duplicates)


# --- rating runs ---------------------------------------------------------------------------------


class RateIn(BaseModel):
    period: Period


class RatingRunOut(Out):
    id: uuid.UUID
    period_start: date
    purpose: RatingPurpose
    plan_code: str
    deck_ref: str
    deck_version_id: uuid.UUID | None
    fingerprint: str
    cdr_count: int
    unrated_count: int
    pool_used_s: int
    total: Decimal
    actor: str
    created_at: datetime


@router.post("/tenants/{tenant_id}/billing/rating-runs", response_model=RatingRunOut, status_code=201)
def rate(body: RateIn, data: TenantDep) -> Any:
    """Rate (or re-rate) a month: the same CDRs, plan and deck give the same total and fingerprint;
    every run is kept as an audit row."""
    run, _ = rating_service.rate_month(data, days.parse_period(body.period))
    return run


@router.get("/tenants/{tenant_id}/billing/rating-runs", response_model=Page[RatingRunOut])
def list_rating_runs(data: TenantDep, paging: PagingDep, period: Period | None = None) -> Any:
    stmt = data.select(RatingRun)
    if period:
        stmt = stmt.where(RatingRun.period_start == days.parse_period(period))
    rows, total = data.page(stmt.order_by(RatingRun.created_at, RatingRun.id), paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


# --- invoices ------------------------------------------------------------------------------------


class InvoiceRunIn(BaseModel):
    period: Period = Field(description="the usage month to close; the invoice is dated the 1st of the next")


class InvoiceSummary(Out):
    id: uuid.UUID
    number: str
    sequence: int
    invoice_date: date
    due_date: date
    total: Decimal


def _money(value: Decimal) -> str:
    return str(stored_cents(value))


def _invoice_json(data: Any, row: InvoiceRow, as_of: date | None = None) -> dict[str, Any]:
    body = invoice_to_dict(invoice_service.invoice_document(data, row))
    state = account_state(data, row, as_of or days.today())
    body.update(
        id=str(row.id),
        sequence=row.sequence,
        status="issued",
        issued_by=row.issued_by,
        rating_run_id=str(row.rating_run_id) if row.rating_run_id else None,
        account={
            "as_of": state.as_of.isoformat(),
            "credited": _money(state.credited),
            "paid": _money(state.paid),
            "disputed": _money(state.disputed),
            "balance": _money(state.balance),
            "undisputed_due": _money(state.undisputed_due),
            "overdue": state.overdue,
            "late_charge": _money(state.late_charge),
            "late_charge_rule": "cpaas.txt §4.5: 1.5% per month, compounded monthly",
            "dispute_deadline": state.dispute_deadline.isoformat(),
        },
    )
    return body


@router.post("/tenants/{tenant_id}/billing/invoices", status_code=201)
def run_period(body: InvoiceRunIn, data: TenantDep) -> Any:
    """Close a month: rate its usage and issue the invoice of the 1st of the next month."""
    row = invoice_service.issue_invoice(data, days.parse_period(body.period))
    return _invoice_json(data, row)


@router.get("/tenants/{tenant_id}/billing/invoices", response_model=Page[InvoiceSummary])
def list_invoices(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(InvoiceRow).order_by(InvoiceRow.invoice_date.desc(), InvoiceRow.sequence.desc())
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.get(
    "/tenants/{tenant_id}/billing/invoices/{invoice_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the invoice as PDF"}},
)
def invoice_pdf(invoice_id: uuid.UUID, data: TenantDep) -> Response:
    row = invoice_service.find_invoice(data, invoice_id)
    pdf = render_invoice_pdf(invoice_service.invoice_document(data, row))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'},
    )


@router.get("/tenants/{tenant_id}/billing/invoices/{invoice_id}")
def get_invoice(
    invoice_id: uuid.UUID,
    data: TenantDep,
    as_of: Annotated[
        date | None, Query(description="state of the account on this day (default today)")
    ] = None,
) -> Any:
    return _invoice_json(data, invoice_service.find_invoice(data, invoice_id), as_of)


@router.patch("/tenants/{tenant_id}/billing/invoices/{invoice_id}")
def patch_invoice(invoice_id: uuid.UUID, data: TenantDep) -> Any:
    """Refused: an issued invoice is never modified (409, rule invoice.immutable); use a credit note."""
    invoice_service.refuse_invoice_edit(invoice_service.find_invoice(data, invoice_id))


# --- credit notes --------------------------------------------------------------------------------


class CreditNoteIn(BaseModel):
    amount: Amount
    reason: str = Field(min_length=1, max_length=300)


@router.post("/tenants/{tenant_id}/billing/invoices/{invoice_id}/credit-notes", status_code=201)
def issue_credit_note(invoice_id: uuid.UUID, body: CreditNoteIn, data: TenantDep) -> Any:
    row = invoice_service.find_invoice(data, invoice_id)
    note = invoice_service.credit_invoice(data, row, body.amount, body.reason)
    return _credit_note_json(data, note)


def _credit_note_json(data: Any, note: CreditNoteRow) -> dict[str, Any]:
    invoice = data.get(InvoiceRow, note.invoice_id)
    doc = CreditNote(
        number=note.number,
        invoice_number=invoice.number,
        tenant_id=str(note.tenant_id),
        issued_on=note.issued_on,
        reason=note.reason,
        lines=(
            make_line(
                LineKind.CREDIT,
                note.reason,
                -Decimal(note.amount),
                source=f"credit against invoice {invoice.number}",
            ),
        ),
    )
    return {"id": str(note.id), "invoice_id": str(note.invoice_id), **credit_note_to_dict(doc)}


@router.get("/tenants/{tenant_id}/billing/credit-notes")
def list_credit_notes(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(CreditNoteRow).order_by(CreditNoteRow.issued_on, CreditNoteRow.number)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_credit_note_json(data, n) for n in rows], total, paging.limit, paging.offset)


# --- payments ------------------------------------------------------------------------------------


class PaymentIn(BaseModel):
    amount: Amount
    method: PaymentMethod
    received_on: date | None = None
    reference: str = Field("", max_length=100)


class PaymentOut(Out):
    id: uuid.UUID
    invoice_id: uuid.UUID
    amount: Decimal
    method: PaymentMethod
    received_on: date
    reference: str
    recorded_by: str


@router.post(
    "/tenants/{tenant_id}/billing/invoices/{invoice_id}/payments", response_model=PaymentOut, status_code=201
)
def record_payment(invoice_id: uuid.UUID, body: PaymentIn, data: TenantDep) -> Any:
    row = invoice_service.find_invoice(data, invoice_id)
    payment = payment_service.record_payment(
        data, row, body.amount, body.method, body.received_on or days.today(), body.reference
    )
    # cpaas.txt §3.4: a tenant suspended for non-payment is reinstated as soon as it has paid, not at
    # the next collections run
    from centrex.billing.collections_service import reinstate_if_paid

    reinstate_if_paid(data, payment.received_on)
    return payment


@router.get("/tenants/{tenant_id}/billing/payments", response_model=Page[PaymentOut])
def list_payments(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(PaymentRow).order_by(PaymentRow.received_on, PaymentRow.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


# --- disputes ------------------------------------------------------------------------------------


class DisputeIn(BaseModel):
    amount: Amount
    detail: str = Field(min_length=1, max_length=2000)
    noticed_on: date | None = Field(None, description="operator only: the day a written notice arrived")


class DisputeOut(Out):
    id: uuid.UUID
    invoice_id: uuid.UUID
    amount: Decimal
    noticed_on: date
    detail: str
    status: DisputeStatus
    filed_by: str


@router.post(
    "/tenants/{tenant_id}/billing/invoices/{invoice_id}/disputes", response_model=DisputeOut, status_code=201
)
def file_dispute(invoice_id: uuid.UUID, body: DisputeIn, data: TenantDep) -> Any:
    """cpaas.txt §4.6: within 60 days of the invoice date; later the invoice is deemed accepted (422)."""
    row = invoice_service.find_invoice(data, invoice_id)
    return payment_service.file_dispute_notice(data, row, body.amount, body.detail, body.noticed_on)


@router.get("/tenants/{tenant_id}/billing/disputes", response_model=Page[DisputeOut])
def list_disputes(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(DisputeRow).order_by(DisputeRow.noticed_on, DisputeRow.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


# --- outages -------------------------------------------------------------------------------------


class OutageIn(BaseModel):
    start: AwareDatetime
    end: AwareDatetime
    provider_fault: bool
    description: str = Field("", max_length=500)


class OutageOut(Out):
    id: uuid.UUID
    start: datetime
    end: datetime
    provider_fault: bool
    description: str
    credited_invoice_id: uuid.UUID | None
    qualifying_days: list[date] = []


def _outage_out(row: OutageRow) -> OutageOut:
    out = OutageOut.model_validate(row)
    out.qualifying_days = outage_service.outage_qualifying_days(row)
    return out


@router.post("/tenants/{tenant_id}/billing/outages", response_model=OutageOut, status_code=201)
def record_outage(body: OutageIn, data: TenantDep) -> Any:
    """hosted-pbx.txt liability 1: a qualifying outage is credited on the next invoice."""
    return _outage_out(
        outage_service.record_outage(data, body.start, body.end, body.provider_fault, body.description)
    )


@router.get("/tenants/{tenant_id}/billing/outages", response_model=list[OutageOut])
def list_outages(data: TenantDep) -> Any:
    return [_outage_out(r) for r in data.session.scalars(data.select(OutageRow).order_by(OutageRow.start))]
