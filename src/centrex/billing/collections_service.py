"""Collections on storage: the tenant's billing account (credit limit, USF traffic study), the credit
limit check when usage is rated or invoiced, notices of non-payment, and the collections job that
suspends and reinstates tenants.

- cpaas.txt §4.2: the credit limit of the credit review. Passing it raises a flag on the account
  (`over_limit_since`) and records a notice — the tenant is not suspended for it; coming back under
  clears the flag.
- cpaas.txt §3.4: suspension may follow a failure "to make undisputed payments within five (5)
  business days of written notice of non-payment" (billing/collections.py suspension_allowed_from).
  The job suspends (Tenant.status = suspended, audited) from that day while undisputed amounts of
  the noticed invoices are unpaid, and reinstates the tenant when they are paid (or disputed).
  Emergency calls keep working while suspended: the call path reads the status, never this module.
- Business days are Monday to Friday less the holidays of the operator's calendar
  (CENTREX_BUSINESS_CALENDAR, billing/periods.py business_calendar): by default the Federal Reserve's
  bank holidays, the days a payment cannot settle; "none" counts every weekday. The calendar is read
  when a notice is recorded and its `suspend_from` stored, so a change applies to later notices only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.billing.account_state import account_state
from centrex.billing.collections import check_credit, suspension_allowed_from
from centrex.billing.money import ZERO, to_cents
from centrex.billing.periods import BusinessCalendar, business_calendar
from centrex.config import load_settings
from centrex.numbers.classes import CallClass
from centrex.store.access import OperatorData, Principal, TenantData
from centrex.store.errors import Invalid
from centrex.store.models import InvoiceRow, Tenant
from centrex.store.models.billing_accounts import BillingAccount, CollectionNotice, NoticeKind
from centrex.store.models.enums import TenantStatus
from centrex.store.policy import Action, Resource

B = Resource.BILLING
# A billable call class: the credit check asks whether such a call would still be admitted.
_BILLABLE = CallClass.LD_INTERSTATE


def account_of(data: TenantData) -> BillingAccount | None:
    account: BillingAccount | None = data.session.scalar(data.select(BillingAccount, B))
    return account


def set_account(data: TenantData, values: dict[str, Any]) -> BillingAccount:
    share = values.get("interstate_share")
    if share is not None and not Decimal(0) <= share <= Decimal(1):
        raise Invalid(
            "interstate_share is a fraction between 0 and 1", field="interstate_share", rule="range"
        )
    if share is not None and not values.get("traffic_study"):
        raise Invalid(
            "an interstate share other than the 64.9% safe harbor needs the traffic study it comes from",
            field="traffic_study",
            rule="usf.traffic_study",
        )
    account = account_of(data)
    if account is None:
        return data.create(BillingAccount, "billing.account.create", B, **values)
    return data.update(account, "billing.account.update", values, B)


def open_balance(data: TenantData, as_of: date) -> Decimal:
    """What the tenant owes on its issued invoices as of a day (credits and payments deducted)."""
    invoices = data.session.scalars(data.select(InvoiceRow).where(InvoiceRow.invoice_date <= as_of))
    return sum((account_state(data, row, as_of).balance for row in invoices), ZERO)


@dataclass(frozen=True)
class CreditStatus:
    credit_limit: Decimal | None
    exposure: Decimal
    over_limit: bool
    over_limit_since: date | None
    reason: str


def check_credit_limit(data: TenantData, as_of: date, unbilled: Decimal = ZERO) -> CreditStatus:
    """cpaas.txt §4.2 at a rating or invoice run: exposure = open balance + usage not yet invoiced.
    Over the limit: flag the account and record a notice (once); back under: clear the flag."""
    account = account_of(data)
    if account is None or account.credit_limit is None:
        # no limit: nothing to check (and no balance to add up on every invoice run)
        return CreditStatus(None, to_cents(unbilled), False, None, "no credit limit set")
    exposure = to_cents(open_balance(data, as_of) + unbilled)
    limit = to_cents(Decimal(account.credit_limit))
    decision = check_credit(exposure - unbilled, to_cents(unbilled), limit, _BILLABLE)
    if not decision.allowed and account.over_limit_since is None:
        data.update(account, "billing.credit_limit.exceeded", {"over_limit_since": as_of}, B)
        data.create(
            CollectionNotice,
            "billing.notice.credit_limit",
            B,
            kind=NoticeKind.CREDIT_LIMIT,
            noticed_on=as_of,
            amount=exposure,
            detail=f"cpaas.txt §4.2: {decision.reason}",
            recorded_by=data.principal.label,
        )
    elif decision.allowed and account.over_limit_since is not None:
        data.update(account, "billing.credit_limit.cleared", {"over_limit_since": None}, B)
    return CreditStatus(limit, exposure, not decision.allowed, account.over_limit_since, decision.reason)


def _undisputed_unpaid(data: TenantData, invoice_ids: list[str], as_of: date) -> Decimal:
    total = ZERO
    for ref in invoice_ids:
        row = data.session.get(InvoiceRow, uuid.UUID(ref))
        if row is not None and row.tenant_id == data.tenant_id:
            total += account_state(data, row, as_of).undisputed_due
    return to_cents(total)


def overdue_invoices(data: TenantData, as_of: date) -> list[tuple[InvoiceRow, Decimal]]:
    out = []
    for row in data.session.scalars(data.select(InvoiceRow).order_by(InvoiceRow.sequence)):
        state = account_state(data, row, as_of)
        if state.overdue:
            out.append((row, state.undisputed_due))
    return out


def notices_of(data: TenantData) -> list[CollectionNotice]:
    stmt = data.select(CollectionNotice, B).order_by(CollectionNotice.noticed_on, CollectionNotice.created_at)
    return list(data.session.scalars(stmt))


def open_non_payment_notice(data: TenantData) -> CollectionNotice | None:
    stmt = data.select(CollectionNotice, B).where(
        CollectionNotice.kind == NoticeKind.NON_PAYMENT, CollectionNotice.resolved_on.is_(None)
    )
    notice: CollectionNotice | None = data.session.scalars(stmt.order_by(CollectionNotice.noticed_on)).first()
    return notice


def configured_calendar() -> BusinessCalendar:
    """The operator's business-day calendar, from the settings (CENTREX_BUSINESS_CALENDAR)."""
    return business_calendar(load_settings().business_calendar)


def record_non_payment_notice(
    data: TenantData, noticed_on: date, detail: str = "", *, calendar: BusinessCalendar | None = None
) -> CollectionNotice:
    """cpaas.txt §3.4: written notice of non-payment of the undisputed amounts overdue on `noticed_on`;
    suspension is possible from the day after five business days of `calendar` (default: the
    configured one)."""
    data.require(B, Action.CREATE)
    current = open_non_payment_notice(data)
    if current is not None:
        from centrex.store.errors import Conflict

        raise Conflict(
            f"a notice of non-payment of {current.noticed_on} is still open",
            field="noticed_on",
            rule="one_open",
        )
    overdue = [(row, due) for row, due in overdue_invoices(data, noticed_on) if due > 0]
    if not overdue:
        raise Invalid(
            f"no undisputed amount is overdue on {noticed_on}", field="noticed_on", rule="cpaas.txt §3.4"
        )
    amount = to_cents(sum((due for _, due in overdue), ZERO))
    numbers = ", ".join(row.number for row, _ in overdue)
    return data.create(
        CollectionNotice,
        "billing.notice.non_payment",
        B,
        kind=NoticeKind.NON_PAYMENT,
        noticed_on=noticed_on,
        amount=amount,
        detail=detail or f"undisputed amounts unpaid on {numbers}",
        invoice_ids=[str(row.id) for row, _ in overdue],
        suspend_from=suspension_allowed_from(noticed_on, calendar or configured_calendar()),
        recorded_by=data.principal.label,
    )


@dataclass(frozen=True)
class CollectionAction:
    tenant_id: uuid.UUID
    tenant: str
    action: str  # notice / suspend / reinstate / waiting
    amount: Decimal
    notice_id: uuid.UUID | None
    detail: str


def _set_status(data: TenantData, status: TenantStatus, action: str) -> None:
    ops = OperatorData(data.session, data.principal)
    suspended_at = datetime.now(UTC) if status is TenantStatus.SUSPENDED else None
    ops.update(data.tenant, action, {"status": status, "suspended_at": suspended_at})


def collect_tenant(
    data: TenantData, as_of: date, *, notify: bool = True, calendar: BusinessCalendar | None = None
) -> list[CollectionAction]:
    """One tenant's collections on a day: settle or act on its open notice of non-payment, and (with
    `notify`) record a notice when undisputed amounts are overdue and none is open."""
    data.require(B, Action.UPDATE)
    tenant = data.tenant
    out: list[CollectionAction] = []

    def act(action: str, amount: Decimal, notice: CollectionNotice | None, detail: str) -> None:
        out.append(
            CollectionAction(tenant.id, tenant.name, action, amount, notice.id if notice else None, detail)
        )

    notice = open_non_payment_notice(data)
    if notice is not None and notice.noticed_on <= as_of:
        unpaid = _undisputed_unpaid(data, list(notice.invoice_ids), as_of)
        if unpaid <= 0:
            data.update(notice, "billing.notice.resolved", {"resolved_on": as_of}, B)
            if notice.suspended_on is not None and tenant.status is TenantStatus.SUSPENDED:
                _set_status(data, TenantStatus.ACTIVE, "billing.collections.reinstate")
                act("reinstate", ZERO, notice, "undisputed amounts paid: service reinstated")
            else:
                act("resolved", ZERO, notice, "undisputed amounts paid within the cure period")
            notice = None
        elif notice.suspend_from is not None and as_of >= notice.suspend_from:
            if notice.suspended_on is None and tenant.status is TenantStatus.ACTIVE:
                _set_status(data, TenantStatus.SUSPENDED, "billing.collections.suspend")
                data.update(notice, "billing.notice.suspended", {"suspended_on": as_of}, B)
                act(
                    "suspend",
                    unpaid,
                    notice,
                    f"cpaas.txt §3.4: {unpaid} undisputed unpaid 5 business days after the notice of "
                    f"{notice.noticed_on}",
                )
            else:
                act("suspended", unpaid, notice, "still suspended: undisputed amounts unpaid")
        else:
            act("waiting", unpaid, notice, f"suspension possible from {notice.suspend_from}")
    if notice is None and notify and tenant.status is TenantStatus.ACTIVE:
        overdue = [due for _, due in overdue_invoices(data, as_of) if due > 0]
        if overdue:
            made = record_non_payment_notice(data, as_of, calendar=calendar)
            act(
                "notice",
                Decimal(made.amount),
                made,
                f"notice of non-payment; suspension possible from {made.suspend_from}",
            )
    return out


def reinstate_if_paid(data: TenantData, as_of: date) -> bool:
    """After a payment: reinstate a tenant that the collections job suspended, once the undisputed
    amounts of its notice are paid. Nothing else (no new notice, no suspension)."""
    notice = open_non_payment_notice(data)
    if notice is None or notice.suspended_on is None or data.tenant.status is not TenantStatus.SUSPENDED:
        return False
    return any(
        a.action == "reinstate" for a in collect_tenant(data, max(as_of, notice.noticed_on), notify=False)
    )


def run_collections(
    session: Session,
    principal: Principal,
    as_of: date,
    *,
    notify: bool = True,
    tenant_id: uuid.UUID | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[CollectionAction]:
    """The collections job over every tenant with issued invoices (or one tenant)."""
    OperatorData(session, principal).require_operator()
    calendar = calendar or configured_calendar()  # read once for the whole run
    stmt = select(Tenant.id).where(Tenant.id.in_(select(InvoiceRow.tenant_id))).order_by(Tenant.name)
    if tenant_id is not None:
        stmt = stmt.where(Tenant.id == tenant_id)
    out: list[CollectionAction] = []
    for tid in list(session.scalars(stmt)):
        out += collect_tenant(TenantData(session, principal, tid), as_of, notify=notify, calendar=calendar)
    return out
