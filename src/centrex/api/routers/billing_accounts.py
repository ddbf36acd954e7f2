"""A tenant's billing terms beyond the invoice: bundle subscription changes during the term
(voice-bundles.txt §2.3-§2.6), the billing account (credit limit cpaas.txt §4.2, USF traffic study),
tax exemption certificates (cpaas.txt §4.7), notices of collections (§3.4) and the tenant's
collections run. Read: the tenant's staff; write: the operator (policy `billing`)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.api.fields import Out
from centrex.billing import collections_service as collections
from centrex.billing import days
from centrex.billing import subscription_service as subs
from centrex.billing import tax_service as taxes
from centrex.billing.subscriptions import DecreaseException
from centrex.billing.taxes import TaxKind
from centrex.store.errors import Invalid
from centrex.store.models.billing_accounts import NoticeKind
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["billing"])

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Jurisdiction = Annotated[str, Field(pattern=r"^(\*|US|[A-Z]{2}(-[A-Z0-9]{1,20}){1,2})$")]


# --- subscriptions during the term --------------------------------------------------------------


class QuantityIn(BaseModel):
    quantity: int = Field(ge=0)
    effective_on: date | None = Field(None, description="default today")
    exception: DecreaseException | None = Field(
        None, description="voice-bundles.txt §2.4 (i)-(iv): the only reasons a quantity may decrease"
    )


class QuantityChangeOut(Out):
    id: uuid.UUID
    subscription_id: uuid.UUID
    effective_on: date
    old_quantity: int
    new_quantity: int
    exception: str | None
    prorated_amount: Decimal | None
    prorated_description: str
    period_start: date | None
    period_end: date | None
    billed_invoice_id: uuid.UUID | None
    actor: str


class NoticeIn(BaseModel):
    notice_on: date | None = Field(None, description="the day the written notice was given (default today)")


class RateIncreaseIn(NoticeIn):
    rate: Money


class SubscriptionTermOut(Out):
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
    termination_noticed_on: date | None
    rate_increase_noticed_on: date | None


@router.post(
    "/tenants/{tenant_id}/billing/subscriptions/{subscription_id}/quantity",
    response_model=QuantityChangeOut,
    status_code=201,
)
def change_quantity(subscription_id: uuid.UUID, body: QuantityIn, data: TenantDep) -> Any:
    """voice-bundles.txt §2.3: more bundles, prorated to the end of the month then billed monthly to
    the end of the term; §2.4: a decrease is 409 unless one of its exceptions is named."""
    row = subs.find_subscription(data, subscription_id)
    return subs.set_quantity(data, row, body.quantity, body.effective_on or days.today(), body.exception)


@router.get(
    "/tenants/{tenant_id}/billing/subscriptions/{subscription_id}/changes",
    response_model=list[QuantityChangeOut],
)
def list_quantity_changes(subscription_id: uuid.UUID, data: TenantDep) -> Any:
    return subs.quantity_changes(data, subs.find_subscription(data, subscription_id))


@router.post(
    "/tenants/{tenant_id}/billing/subscriptions/{subscription_id}/termination-notice",
    response_model=SubscriptionTermOut,
)
def termination_notice(subscription_id: uuid.UUID, body: NoticeIn, data: TenantDep) -> Any:
    """voice-bundles.txt §2.5: effective on the term's last day if given 30 days before it ends;
    later, the term renews and ends a term later (`terminates_on` says which)."""
    row = subs.find_subscription(data, subscription_id)
    return subs.termination_notice(data, row, body.notice_on or days.today())


@router.post(
    "/tenants/{tenant_id}/billing/subscriptions/{subscription_id}/rate-increase-notice",
    response_model=SubscriptionTermOut,
)
def rate_increase_notice(subscription_id: uuid.UUID, body: RateIncreaseIn, data: TenantDep) -> Any:
    """voice-bundles.txt §2.6: the new rate applies from the next term; 422 when noticed later than
    30 days before the current term ends."""
    row = subs.find_subscription(data, subscription_id)
    return subs.rate_increase_notice(data, row, body.notice_on or days.today(), body.rate)


# --- the billing account ------------------------------------------------------------------------


class AccountIn(BaseModel):
    credit_limit: Money | None = Field(None, description="cpaas.txt §4.2; none: no limit")
    interstate_share: Decimal | None = Field(
        None, ge=0, le=1, max_digits=7, decimal_places=6, description="a traffic study's figure; none: 64.9%"
    )
    traffic_study: str = Field("", max_length=300)


class AccountOut(BaseModel):
    credit_limit: Decimal | None
    interstate_share: Decimal
    interstate_share_basis: str
    traffic_study: str
    over_limit_since: date | None
    exposure: Decimal
    open_balance: Decimal
    status: str


def _account_out(data: Any) -> AccountOut:
    account = collections.account_of(data)
    balance = collections.open_balance(data, days.today())
    share = account.interstate_share if account is not None else None
    return AccountOut(
        credit_limit=account.credit_limit if account else None,
        interstate_share=Decimal(share) if share is not None else Decimal("0.649"),
        interstate_share_basis="traffic study" if share is not None else "VoIP safe harbor (FCC 06-94)",
        traffic_study=account.traffic_study if account else "",
        over_limit_since=account.over_limit_since if account else None,
        exposure=balance,
        open_balance=balance,
        status=data.tenant.status.value,
    )


@router.get("/tenants/{tenant_id}/billing/account", response_model=AccountOut)
def get_account(data: TenantDep) -> Any:
    data.require(Resource.BILLING, Action.READ)
    return _account_out(data)


@router.put("/tenants/{tenant_id}/billing/account", response_model=AccountOut)
def put_account(body: AccountIn, data: TenantDep) -> Any:
    data.require(Resource.BILLING, Action.UPDATE)
    collections.set_account(data, body.model_dump())
    return _account_out(data)


# --- tax exemption certificates -----------------------------------------------------------------


class CertificateIn(BaseModel):
    number: str = Field(min_length=1, max_length=100)
    jurisdiction: Jurisdiction
    valid_from: date
    expires_on: date | None = None
    exempt_kinds: list[TaxKind] | None = Field(None, description="default: state, local, e911")


class CertificateOut(Out):
    id: uuid.UUID
    number: str
    jurisdiction: str
    valid_from: date
    expires_on: date | None
    exempt_kinds: list[str]


@router.get("/tenants/{tenant_id}/billing/tax-exemptions", response_model=list[CertificateOut])
def list_certificates(data: TenantDep) -> Any:
    return taxes.certificates_of(data)


@router.post("/tenants/{tenant_id}/billing/tax-exemptions", response_model=CertificateOut, status_code=201)
def add_certificate(body: CertificateIn, data: TenantDep) -> Any:
    """cpaas.txt (US addendum to §4.7): exemption needs a certificate on file."""
    return taxes.add_certificate(
        data, body.number, body.jurisdiction, body.valid_from, body.expires_on, body.exempt_kinds
    )


@router.delete("/tenants/{tenant_id}/billing/tax-exemptions/{certificate_id}", status_code=204)
def delete_certificate(certificate_id: uuid.UUID, data: TenantDep) -> None:
    row = taxes.find_certificate(data, certificate_id)
    data.delete(row, "billing.tax_exemption.delete", Resource.BILLING)


# --- notices and collections --------------------------------------------------------------------


class NoticeOut(Out):
    id: uuid.UUID
    kind: NoticeKind
    noticed_on: date
    amount: Decimal
    detail: str
    invoice_ids: list[str]
    suspend_from: date | None
    suspended_on: date | None
    resolved_on: date | None
    recorded_by: str


class NonPaymentIn(BaseModel):
    noticed_on: date | None = Field(None, description="the day the written notice was sent (default today)")
    detail: str = Field("", max_length=1000)


@router.get("/tenants/{tenant_id}/billing/notices", response_model=list[NoticeOut])
def list_notices(data: TenantDep) -> Any:
    return collections.notices_of(data)


@router.post("/tenants/{tenant_id}/billing/notices", response_model=NoticeOut, status_code=201)
def notice_of_non_payment(body: NonPaymentIn, data: TenantDep) -> Any:
    """cpaas.txt §3.4: written notice of non-payment of the undisputed amounts overdue; suspension is
    possible 5 business days later (`suspend_from`)."""
    return collections.record_non_payment_notice(data, body.noticed_on or days.today(), body.detail)


class CollectionActionOut(BaseModel):
    tenant_id: uuid.UUID
    tenant: str
    action: str
    amount: Decimal
    notice_id: uuid.UUID | None
    detail: str


EARLIEST_AS_OF = date(2000, 1, 1)


@router.post("/tenants/{tenant_id}/billing/collections", response_model=list[CollectionActionOut])
def collect(
    data: TenantDep,
    as_of: Annotated[date | None, Query(description="the day to act as of (default today)")] = None,
    notify: bool = True,
) -> Any:
    """The collections job for this tenant: notice, suspension after the cure period, reinstatement
    when paid (cpaas.txt §3.4)."""
    today = days.today()
    if as_of is not None and not EARLIEST_AS_OF <= as_of <= today + timedelta(days=366):
        # Late charges compound monthly: centuries ahead they overflow any amount (a 422, not a 500).
        raise Invalid(
            f"as_of must be between {EARLIEST_AS_OF} and a year from today", field="as_of", rule="date_range"
        )
    return collections.collect_tenant(data, as_of or today, notify=notify)
