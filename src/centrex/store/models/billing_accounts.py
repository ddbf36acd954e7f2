"""Billing beyond the invoice: the operator's tax and surcharge table, tenants' exemption
certificates and account settings (credit limit, USF traffic study), notices of collections, and the
quantity changes of bundle subscriptions.

The rules are in billing/ (taxes.py, collections.py, subscriptions.py); billing/tax_service.py,
collections_service.py and subscription_service.py apply them to these rows.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import EnumText, Money


class TaxBasis(StrEnum):
    """How an entry of the tax table applies (billing/taxes.py)."""

    USF_FACTOR = "usf_factor"  # federal USF: base x interstate share x factor
    PERCENT = "percent"  # state and local taxes, percentage carrier surcharges: base x rate
    PER_LINE = "per_line"  # E911 fees, per-line carrier surcharges: lines x amount


class TaxRateRow(Base, Row):
    """One entry of the operator's tax and surcharge table (cpaas.txt §4.7, §4.8), in force from
    `effective_from` (inclusive) to `effective_to` (exclusive). `kind` is billing.taxes.TaxKind;
    `jurisdiction` is "US", "US-TX", "US-TX-DALLAS" or "*" (every customer)."""

    __tablename__ = "tax_rates"
    __table_args__ = (Index("ix_tax_rates_kind_from", "kind", "effective_from"),)
    kind: Mapped[str] = mapped_column(String(32))
    basis: Mapped[TaxBasis] = mapped_column(EnumText(TaxBasis))
    jurisdiction: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    rate: Mapped[Decimal] = mapped_column(Money())
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, default=None)
    source: Mapped[str] = mapped_column(String(200), default="")


class TaxExemptionCertificateRow(Base, TenantOwned):
    """A tax exemption certificate on file (cpaas.txt, US addendum to §4.7): it exempts the tenant
    from the kinds it lists in its own jurisdiction (and the places within it) until it expires."""

    __tablename__ = "tax_exemption_certificates"
    __table_args__ = (UniqueConstraint("tenant_id", "number", "jurisdiction"),)
    number: Mapped[str] = mapped_column(String(100))
    jurisdiction: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)  # last day it is valid
    exempt_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)


class BillingAccount(Base, TenantOwned):
    """A tenant's account settings: the credit limit of the credit review (cpaas.txt §4.2), the
    interstate share of its USF traffic study (else the 64.9% safe harbor), and the flag raised when
    its exposure passed the limit (`over_limit_since`; cleared when it is back under)."""

    __tablename__ = "billing_accounts"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    over_limit_since: Mapped[date | None] = mapped_column(Date, default=None)
    interstate_share: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    traffic_study: Mapped[str] = mapped_column(String(300), default="")


class NoticeKind(StrEnum):
    CREDIT_LIMIT = "credit_limit"  # cpaas.txt §4.2: exposure passed the credit limit
    NON_PAYMENT = "non_payment"  # cpaas.txt §3.4: written notice of non-payment


class CollectionNotice(Base, TenantOwned):
    """A notice sent to the customer. For non-payment: the undisputed amount unpaid, the day
    suspension becomes possible (5 business days later), and when the job suspended and reinstated."""

    __tablename__ = "collection_notices"
    kind: Mapped[NoticeKind] = mapped_column(EnumText(NoticeKind))
    noticed_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    detail: Mapped[str] = mapped_column(String(1000), default="")
    invoice_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    suspend_from: Mapped[date | None] = mapped_column(Date, default=None)
    suspended_on: Mapped[date | None] = mapped_column(Date, default=None)
    resolved_on: Mapped[date | None] = mapped_column(Date, default=None)
    recorded_by: Mapped[str] = mapped_column(String(200))


class BundleQuantityChange(Base, TenantOwned):
    """A change of the quantity of a bundle subscription (voice-bundles.txt §2.3, §2.4), effective on
    `effective_on`. An increase carries its prorated charge for the rest of that month, billed on the
    first invoice after it (`billed_invoice_id`)."""

    __tablename__ = "bundle_quantity_changes"
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bundle_subscriptions.id", ondelete="CASCADE")
    )
    effective_on: Mapped[date] = mapped_column(Date)
    old_quantity: Mapped[int] = mapped_column(Integer)
    new_quantity: Mapped[int] = mapped_column(Integer)
    exception: Mapped[str | None] = mapped_column(String(64), default=None)  # §2.4 (i)-(iv)
    prorated_amount: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    prorated_description: Mapped[str] = mapped_column(String(300), default="")
    prorated_unit_price: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    period_start: Mapped[date | None] = mapped_column(Date, default=None)
    period_end: Mapped[date | None] = mapped_column(Date, default=None)
    billed_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="SET NULL"), default=None
    )
    actor: Mapped[str] = mapped_column(String(200))
