"""Admission of calls (issue 15): link capacities, a tenant's hub, blocked-call counts per site, and
the toll-fraud guard's permissions, spend limits and high-risk prefixes (migration 0019)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import Money, UTCDateTime


class LinkCapacity(Base, Row):
    """Operator's table: a link of this bandwidth (kbps) carries this many simultaneous calls
    (voip-service-guide.txt §2.2, §V.3.8). Empty: capacity/rules.py DEFAULT_LINKS."""

    __tablename__ = "link_capacities"
    bandwidth_kbps: Mapped[int] = mapped_column(Integer, unique=True)
    max_calls: Mapped[int] = mapped_column(Integer)


class CapacitySettings(Base, TenantOwned):
    """A tenant's enterprise: the hub its traffic is aggregated at, if any (§V.3.1)."""

    __tablename__ = "capacity_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    hub_site_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )


class CapacityBlock(Base, TenantOwned):
    """Calls refused at a site for a limit (capacity/rules.py Limit), counted (§V.3.11)."""

    __tablename__ = "capacity_blocks"
    __table_args__ = (UniqueConstraint("tenant_id", "site_id", "limit_kind"),)
    site_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("sites.id", ondelete="CASCADE"))
    limit_kind: Mapped[str] = mapped_column(String(16))
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    last_blocked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TollPermission(Base, TenantOwned):
    """What the toll-fraud guard lets a tenant (user_id NULL) or one user dial, and spend.
    International and premium are off until enabled for both the tenant and the user."""

    __tablename__ = "toll_permissions"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    international: Mapped[bool] = mapped_column(Boolean, default=False)
    premium: Mapped[bool] = mapped_column(Boolean, default=False)
    spend_limit: Mapped[Decimal | None] = mapped_column(Money, default=None)  # per calendar month
    max_international_calls: Mapped[int | None] = mapped_column(Integer, default=None)


class HighRiskPrefix(Base, Row):
    """Operator's list of destinations treated as premium by the fraud guard (E.164 prefixes)."""

    __tablename__ = "high_risk_prefixes"
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    rate_per_minute: Mapped[Decimal | None] = mapped_column(Money, default=None)


class SpendMeter(Base, TenantOwned):
    """What the guard metered of billable calls in a month (tenant row: user_id NULL)."""

    __tablename__ = "spend_meters"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "month"),)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM (UTC)
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class FairUseCase(Base, TenantOwned):
    """A fair-use finding as it goes through notice, cure, re-rate or termination (fairuse/cure.py,
    voice-bundles.txt §3.3); listed to the tenant and the operator."""

    __tablename__ = "fair_use_cases"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "subject"),)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    noticed_cycle: Mapped[str] = mapped_column(String(7))
    cycles: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    adjustment: Mapped[Decimal | None] = mapped_column(Money, default=None)


class FairUseReview(Base, TenantOwned):
    """A billing cycle of a tenant reviewed by the fair-use monitors (each once, in order)."""

    __tablename__ = "fair_use_reviews"
    __table_args__ = (UniqueConstraint("tenant_id", "cycle"),)
    cycle: Mapped[str] = mapped_column(String(7))
    findings: Mapped[int] = mapped_column(Integer, default=0)


class CarrierType(Base, Row):
    """The operator's NPA-NXX → carrier type table (RBOC, ILEC, CLEC, WIRELESS) for the destination
    spread monitor; empty: the fixture shipped in fairuse/carrier_types.csv."""

    __tablename__ = "carrier_types"
    npa_nxx: Mapped[str] = mapped_column(String(6), unique=True)
    carrier_type: Mapped[str] = mapped_column(String(16))
