"""Bundle subscriptions on storage: ordering them (voice-bundles.txt §2.1) and keeping their term
current (§2.5), then, during the term, quantity changes (§2.3, §2.4), termination notice (§2.5) and
notice of a rate increase for the next term (§2.6).

The rules are billing/subscriptions.py's; this module records what they decide:
- An increase is prorated from its effective day to the end of that month (the whole months that
  follow are billed in advance on each invoice with the new quantity); the prorated charge waits in
  `bundle_quantity_changes` for the first invoice dated after the change.
- Each invoice bills the quantity in force on its date, so a change recorded before an invoice of an
  earlier month is run does not leak into that month.
- An increase effective on the 1st of a month whose invoice is not issued yet needs no proration:
  that invoice bills the month in advance with the new quantity.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

from centrex.billing.lines import InvoiceLine, LineKind, make_line
from centrex.billing.money import stored_amount
from centrex.billing.periods import month_start
from centrex.billing.subscriptions import (
    BundleSubscription,
    ContractRuleError,
    DecreaseException,
    change_quantity,
    give_termination_notice,
    last_notice_day,
    notify_rate_increase,
    term_bounds,
)
from centrex.store.access import TenantData
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import BundleSubscriptionRow, InvoiceRow
from centrex.store.models.billing_accounts import BundleQuantityChange
from centrex.store.policy import Action, Resource

B = Resource.BILLING


def find_subscription(data: TenantData, sub_id: uuid.UUID) -> BundleSubscriptionRow:
    try:
        return data.get(BundleSubscriptionRow, sub_id)
    except NotFound:
        raise NotFound(f"subscription {sub_id} not found", field="subscription_id") from None


def changes_of(data: TenantData, row: BundleSubscriptionRow) -> list[BundleQuantityChange]:
    stmt = data.select(BundleQuantityChange, B).where(BundleQuantityChange.subscription_id == row.id)
    return list(
        data.session.scalars(
            stmt.order_by(BundleQuantityChange.effective_on, BundleQuantityChange.created_at)
        )
    )


def quantity_on(row: BundleSubscriptionRow, changes: list[BundleQuantityChange], on: date) -> int:
    """The quantity in force on a day: the current one, unwound past the changes that come later."""
    quantity = row.quantity
    for change in reversed(changes):
        if change.effective_on > on:
            quantity = change.old_quantity
    return quantity


def subscription_of(row: BundleSubscriptionRow) -> BundleSubscription:
    return BundleSubscription(
        tenant_id=str(row.tenant_id),
        start=row.start,
        quantity=row.quantity,
        rate=stored_amount(row.rate),
        term_months=row.term_months,
        next_rate=stored_amount(row.next_rate) if row.next_rate is not None else None,
        next_rate_from=row.next_rate_from,
        terminates_on=row.terminates_on,
    )


def add_subscription(
    data: TenantData, start: date, quantity: int, rate: Decimal, term_months: int
) -> BundleSubscriptionRow:
    """Voice Services Bundles ordered on an Order Form (voice-bundles.txt §2.1); the term and the
    last day to give notice of termination (§2.5: no less than 30 days before the term ends)."""
    try:
        sub = BundleSubscription(str(data.tenant_id), start, quantity, rate, term_months)
    except ValueError as exc:
        raise Invalid(str(exc), field="quantity", rule="subscription") from None
    first, last = term_bounds(sub, start)
    return data.create(
        BundleSubscriptionRow,
        "billing.subscription.create",
        start=start,
        quantity=quantity,
        rate=rate,
        term_months=term_months,
        term_start=first,
        term_end=last,
        renewal_notice_by=last_notice_day(last),
    )


def refresh_term(data: TenantData, row: BundleSubscriptionRow, on: date) -> None:
    """voice-bundles.txt §2.5: terms renew automatically; keep the stored term current."""
    if on < row.start:
        return
    first, last = term_bounds(subscription_of(row), on)
    if (first, last) != (row.term_start, row.term_end):
        data.update(
            row,
            "billing.subscription.renew",
            {"term_start": first, "term_end": last, "renewal_notice_by": last_notice_day(last)},
        )


def _invoice_on_or_after(data: TenantData, day: date) -> InvoiceRow | None:
    stmt = data.select(InvoiceRow).where(InvoiceRow.invoice_date >= day).order_by(InvoiceRow.invoice_date)
    invoice: InvoiceRow | None = data.session.scalars(stmt).first()
    return invoice


def set_quantity(
    data: TenantData,
    row: BundleSubscriptionRow,
    new_quantity: int,
    on: date,
    exception: DecreaseException | None,
) -> BundleQuantityChange:
    """voice-bundles.txt §2.3: added bundles at the same rate and term, prorated for the rest of the
    term; §2.4: no decrease during a term except for the four listed reasons (409 naming §2.4)."""
    data.require(B, Action.UPDATE)
    if new_quantity == row.quantity:
        raise Invalid(f"the quantity is already {new_quantity}", field="quantity", rule="changed")
    if on < row.start:
        raise Invalid(f"the subscription starts {row.start}", field="effective_on", rule="in_term")
    if row.terminates_on is not None and on > row.terminates_on:
        raise Invalid(
            f"the subscription ends {row.terminates_on}", field="effective_on", rule="voice-bundles.txt §2.5"
        )
    later = [c for c in changes_of(data, row) if c.effective_on > on]
    if later:
        raise Invalid(
            f"a change is already recorded for {later[-1].effective_on}",
            field="effective_on",
            rule="in_order",
        )
    billed_after = _invoice_on_or_after(data, month_start(on))
    if billed_after is not None and billed_after.invoice_date > month_start(on):
        raise Invalid(
            f"invoice {billed_after.number} of {billed_after.invoice_date} already billed the months after "
            f"{on}; changes take effect from the current month",
            field="effective_on",
            rule="after_last_invoice",
        )
    try:
        changed, lines = change_quantity(subscription_of(row), new_quantity, on, exception)
    except ContractRuleError as exc:
        raise Conflict(str(exc), field="quantity", rule="voice-bundles.txt §2.4") from None
    line: InvoiceLine | None = lines[0] if lines else None
    if line is not None and on.day == 1 and billed_after is None:
        line = None  # the invoice of `on` is still to come and bills the month with the new quantity
    change = data.create(
        BundleQuantityChange,
        "billing.subscription.quantity",
        B,
        subscription_id=row.id,
        effective_on=on,
        old_quantity=row.quantity,
        new_quantity=changed.quantity,
        exception=exception.value if exception else None,
        prorated_amount=line.amount if line else None,
        prorated_description=line.description if line else "",
        prorated_unit_price=line.unit_price if line else None,
        period_start=line.period_start if line else None,
        period_end=line.period_end if line else None,
        actor=data.principal.label,
    )
    data.update(row, "billing.subscription.quantity", {"quantity": changed.quantity})
    return change


def termination_notice(
    data: TenantData, row: BundleSubscriptionRow, notice_on: date
) -> BundleSubscriptionRow:
    """voice-bundles.txt §2.5: notice at least 30 days before the term ends terminates on the term's
    last day; a later notice lets the term renew and terminates at the end of the renewed term."""
    data.require(B, Action.UPDATE)
    if row.terminates_on is not None:
        raise Conflict(
            f"notice was already given on {row.termination_noticed_on}; service ends {row.terminates_on}",
            field="notice_on",
            rule="voice-bundles.txt §2.5",
        )
    if notice_on < row.start:
        raise Invalid("notice cannot predate the subscription", field="notice_on", rule="in_term")
    ended = give_termination_notice(subscription_of(row), notice_on)
    first, last = term_bounds(subscription_of(row), notice_on)
    del first
    changes = {"terminates_on": ended.terminates_on, "termination_noticed_on": notice_on}
    data.update(row, "billing.subscription.termination_notice", changes)
    if ended.terminates_on != last:
        data.audit(
            "billing.subscription.renewed_by_late_notice",
            row.__tablename__,
            row.id,
            None,
            {"notice_on": notice_on.isoformat(), "term_end": last.isoformat()},
            data.tenant_id,
        )
    return row


def rate_increase_notice(
    data: TenantData, row: BundleSubscriptionRow, notice_on: date, new_rate: Decimal
) -> BundleSubscriptionRow:
    """voice-bundles.txt §2.6: an increase for the next term, noticed at least 30 days before the
    current term ends (422 naming §2.6 when later)."""
    data.require(B, Action.UPDATE)
    sub = subscription_of(row)
    if notice_on < row.start:
        raise Invalid("notice cannot predate the subscription", field="notice_on", rule="in_term")
    if new_rate <= sub.rate:
        raise Invalid(
            f"the new rate {new_rate} is not an increase over {sub.rate}", field="rate", rule="increase"
        )
    try:
        noticed = notify_rate_increase(replace(sub, next_rate=None, next_rate_from=None), notice_on, new_rate)
    except ContractRuleError as exc:
        raise Invalid(str(exc), field="notice_on", rule="voice-bundles.txt §2.6") from None
    data.update(
        row,
        "billing.subscription.rate_increase_notice",
        {
            "next_rate": noticed.next_rate,
            "next_rate_from": noticed.next_rate_from,
            "rate_increase_noticed_on": notice_on,
        },
    )
    return row


def quantity_changes(data: TenantData, row: BundleSubscriptionRow) -> list[BundleQuantityChange]:
    return changes_of(data, row)


def pending_prorations(
    data: TenantData, invoice_date: date
) -> list[tuple[InvoiceLine, BundleQuantityChange]]:
    """Prorated charges of bundles added before `invoice_date` and not yet invoiced (§2.3)."""
    stmt = data.select(BundleQuantityChange, B).where(
        BundleQuantityChange.billed_invoice_id.is_(None),
        BundleQuantityChange.prorated_amount.is_not(None),
        BundleQuantityChange.effective_on < invoice_date,
    )
    out = []
    for change in data.session.scalars(stmt.order_by(BundleQuantityChange.effective_on)):
        out.append(
            (
                make_line(
                    LineKind.NON_RECURRING,
                    change.prorated_description,
                    Decimal(change.prorated_amount or 0),
                    quantity=change.new_quantity - change.old_quantity,
                    unit_price=change.prorated_unit_price,
                    period_start=change.period_start,
                    period_end=change.period_end,
                    source="voice-bundles.txt §2.3",
                ),
                change,
            )
        )
    return out
