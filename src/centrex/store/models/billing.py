"""Billing on storage: rate decks, plans, subscriptions, CDRs, rating runs, invoices, credit notes,
payments, disputes and outages.

store/ imports nothing from the service packages, so the enumerations that billing/ and numbers/
own (feature, call class, direction, disposition, line kind) are stored as their string values and
turned back into enums by billing/'s *_service.py modules.

Money is `store/types.py: Money` (`decimal.Decimal` in Python, never float): NUMERIC(18, 6) on
PostgreSQL and exact decimal text on SQLite (migration 0004); invoice amounts are stored as they
were rounded to cents by billing/lines.py. The rules themselves live in billing/ (pure
functions); these tables hold what they were applied to and what they produced. An issued invoice and
its lines are never updated: corrections are credit notes (billing/invoice.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import EnumText, Money, UTCDateTime

MONEY = Money()
QUANTITY = Money()


class PaymentMethod(StrEnum):
    """cpaas.txt §4.4: "by ACH electronic funds transfer, wire transfer, credit card, check, or PayPal"."""

    ACH = "ach"
    WIRE = "wire"
    CARD = "card"
    CHECK = "check"
    PAYPAL = "paypal"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class RatingPurpose(StrEnum):
    RATE = "rate"  # a rating (or re-rating) asked for by an operator
    INVOICE = "invoice"  # the rating behind an issued invoice


# --- rate decks (operator-wide) -----------------------------------------------------------------


class RateDeck(Base, Row):
    """A named deck; each import is a new immutable version (billing/deck.py)."""

    __tablename__ = "rate_decks"
    name: Mapped[str] = mapped_column(String(100), unique=True)


class RateDeckVersion(Base, Row):
    __tablename__ = "rate_deck_versions"
    __table_args__ = (UniqueConstraint("deck_id", "version"),)
    deck_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("rate_decks.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(200))


class RateDeckRow(Base):
    """One deck row: prefix, destination, rate per minute, connection fee, minimum and increment,
    effective from (inclusive) and to (exclusive) — hosted-pbx.txt usage 1 "then-current rates"."""

    __tablename__ = "rate_deck_rows"
    __table_args__ = (Index("ix_rate_deck_rows_version_prefix", "version_id", "prefix"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("rate_deck_versions.id", ondelete="CASCADE")
    )
    prefix: Mapped[str] = mapped_column(String(15))
    destination: Mapped[str] = mapped_column(String(200), default="")
    rate_per_minute: Mapped[Decimal] = mapped_column(MONEY)
    connection_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    minimum_s: Mapped[int] = mapped_column(Integer, default=60)
    increment_s: Mapped[int] = mapped_column(Integer, default=60)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    line: Mapped[int] = mapped_column(Integer, default=0)


# --- plans and subscriptions (per tenant) ---------------------------------------------------------


class BillingPlan(Base, TenantOwned):
    """A tenant's plan: how usage is rated (billing/plans.py RatingPlan) and its recurring prices
    (PriceList). One per tenant."""

    __tablename__ = "billing_plans"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    code: Mapped[str] = mapped_column(String(64))
    deck_name: Mapped[str | None] = mapped_column(String(100), default=None)
    increment_minimum_s: Mapped[int] = mapped_column(Integer, default=60)  # hosted-pbx.txt usage 1.b
    increment_step_s: Mapped[int] = mapped_column(Integer, default=60)
    pool_minutes: Mapped[int] = mapped_column(Integer, default=0)  # hosted-pbx.txt usage 1
    overage_per_minute: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))  # usage 1.a
    local_per_minute: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    directory_assistance_per_call: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))  # 1.c
    conference_per_minute: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))  # 1.d
    seat_monthly: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))  # hosted-pbx.txt 1.a
    seats: Mapped[int] = mapped_column(Integer, default=0)
    tax_jurisdictions: Mapped[list[str]] = mapped_column(JSON, default=list)
    tax_lines: Mapped[int | None] = mapped_column(Integer, default=None)
    # cpaas.txt §4.3: the CPaaS Monthly Platform Fee, from the day the Order Form was accepted
    platform_fee_monthly: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    platform_fee_accepted_on: Mapped[date | None] = mapped_column(Date, default=None)


class BillingPlanFeature(Base, TenantOwned):
    """hosted-pbx.txt 1.b: feature enhancements, each its own line item with its own price."""

    __tablename__ = "billing_plan_features"
    __table_args__ = (UniqueConstraint("plan_id", "feature"),)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("billing_plans.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(32))  # billing.plans.Feature
    monthly_price: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[int] = mapped_column(Integer, default=0)


class BundleSubscriptionRow(Base, TenantOwned):
    """Voice Services Bundles on an Order Form (voice-bundles.txt §2.1-§2.6). The current term and
    the last day to give notice (§2.5) are kept up to date by each billing run."""

    __tablename__ = "bundle_subscriptions"
    start: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    rate: Mapped[Decimal] = mapped_column(MONEY)
    term_months: Mapped[int] = mapped_column(Integer, default=12)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    renewal_notice_by: Mapped[date] = mapped_column(Date)
    next_rate: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    next_rate_from: Mapped[date | None] = mapped_column(Date, default=None)
    terminates_on: Mapped[date | None] = mapped_column(Date, default=None)
    termination_noticed_on: Mapped[date | None] = mapped_column(Date, default=None)  # §2.5
    rate_increase_noticed_on: Mapped[date | None] = mapped_column(Date, default=None)  # §2.6


# --- call records as billing sees them -------------------------------------------------------------


class CallDetail(Base, TenantOwned):
    """A finished call (billing/cdr.py CallRecord). Written once, never edited; the SIP side will
    write here when a call ends. `call_id` is the producer's id, unique per tenant, so a replayed
    upload does not store a call twice."""

    __tablename__ = "cdrs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "call_id"),
        Index("ix_cdrs_tenant_start", "tenant_id", "start"),
    )
    call_id: Mapped[str] = mapped_column(String(100))
    caller: Mapped[str] = mapped_column(String(32))
    callee: Mapped[str] = mapped_column(String(32))
    dialled: Mapped[str] = mapped_column(String(64), default="")
    call_class: Mapped[str] = mapped_column(String(32))  # numbers.classes.CallClass
    direction: Mapped[str] = mapped_column(String(32))  # numbers.classes.Direction
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    disposition: Mapped[str] = mapped_column(String(32), default="answered")  # billing.cdr.Disposition
    is_intra_enterprise: Mapped[bool] = mapped_column(Boolean, default=False)
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class RatingRun(Base, TenantOwned):
    """The audit trail of rating: which month, against which plan and deck version, by whom, and the
    fingerprint of the result (billing/rating.py fingerprint_charges). Re-rating adds a row."""

    __tablename__ = "rating_runs"
    period_start: Mapped[date] = mapped_column(Date, index=True)
    purpose: Mapped[RatingPurpose] = mapped_column(EnumText(RatingPurpose))
    plan_code: Mapped[str] = mapped_column(String(64))
    deck_version_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("rate_deck_versions.id", ondelete="SET NULL"), default=None
    )
    deck_ref: Mapped[str] = mapped_column(String(120), default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    cdr_count: Mapped[int] = mapped_column(Integer)
    unrated_count: Mapped[int] = mapped_column(Integer)
    pool_used_s: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(MONEY)
    actor: Mapped[str] = mapped_column(String(200))


# --- invoices and what follows them ----------------------------------------------------------------


class DocumentCounter(Base):
    """Gap-free document numbers: one row per series, incremented inside the transaction that
    issues the document, so a rolled-back issue gives its number back and no two issues share one."""

    __tablename__ = "document_counters"
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


class InvoiceRow(Base, TenantOwned):
    """An issued invoice (voice-bundles.txt §2.2, cpaas.txt §4.3-§4.4). Never updated after issue."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("tenant_id", "invoice_date"),)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    usage_start: Mapped[date] = mapped_column(Date)
    usage_end: Mapped[date] = mapped_column(Date)
    customer_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    taxes_and_surcharges: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    usage_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    rating_run_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("rating_runs.id", ondelete="SET NULL"), default=None
    )
    issued_by: Mapped[str] = mapped_column(String(200))


class InvoiceLineRow(Base, TenantOwned):
    """One line of an issued invoice, with the ids of the CDRs behind a usage line."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # billing.lines.LineKind
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    period_start: Mapped[date | None] = mapped_column(Date, default=None)
    period_end: Mapped[date | None] = mapped_column(Date, default=None)
    cdr_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(200), default="")
    # a late-charge line: the earlier invoice it is charged on (cpaas.txt §4.5)
    late_for_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="SET NULL"), default=None
    )


class CreditNoteRow(Base, TenantOwned):
    """A correction to an issued invoice, as its own document (billing/invoice.py issue_credit_note)."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("invoice_id", "sequence"),)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(MONEY)  # positive: what is credited
    issued_by: Mapped[str] = mapped_column(String(200))


class PaymentRow(Base, TenantOwned):
    __tablename__ = "payments"
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[PaymentMethod] = mapped_column(EnumText(PaymentMethod))
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by: Mapped[str] = mapped_column(String(200))


class DisputeRow(Base, TenantOwned):
    """A Dispute Notice accepted within the Dispute Period (cpaas.txt §4.6)."""

    __tablename__ = "disputes"
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    noticed_on: Mapped[date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(String(2000))
    status: Mapped[DisputeStatus] = mapped_column(EnumText(DisputeStatus), default=DisputeStatus.OPEN)
    filed_by: Mapped[str] = mapped_column(String(200))


class OutageRow(Base, TenantOwned):
    """An outage of the tenant's service; a qualifying one is credited on the next invoice
    (hosted-pbx.txt liability 1), which `credited_invoice_id` then names."""

    __tablename__ = "outages"
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    provider_fault: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(String(500), default="")
    credited_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("invoices.id", ondelete="SET NULL"), default=None
    )
