"""Operators, tenants, their sites and the people the tenant designates."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid, false, true
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.models.enums import CallingScope, PricingPlan, Role, ServiceType, TenantStatus
from centrex.store.types import EnumText, UTCDateTime


class Operator(Base, Row):
    """A member of the provider's staff: sees and manages every tenant."""

    __tablename__ = "operators"
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)


class Tenant(Base, Row):
    """A business customer. Its SIP domain is the digest realm of its phones."""

    __tablename__ = "tenants"
    # Server defaults are not fetched back on INSERT (RETURNING): the dial-plan columns load when
    # read, so a tenant can be written on an older schema (the migration tests do).
    __mapper_args__ = {"eager_defaults": False}
    name: Mapped[str] = mapped_column(String(200))
    sip_domain: Mapped[str] = mapped_column(String(253), unique=True)
    status: Mapped[TenantStatus] = mapped_column(EnumText(TenantStatus), default=TenantStatus.ACTIVE)
    service_type: Mapped[ServiceType] = mapped_column(
        EnumText(ServiceType), default=ServiceType.HOSTED_CENTREX
    )
    pricing_plan: Mapped[PricingPlan] = mapped_column(EnumText(PricingPlan), default=PricingPlan.BUNDLED)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The tenant's dial plan (issue 6 point 1; numbers/dialplan.py DialPlan): extension length,
    # the outside-line prefix (none: dial out directly), 7- and 10-digit local dialling. The
    # database fills them in (server defaults) and they load only when read (deferred), so code
    # and tests that write tenants on an older schema never name them.
    dial_extension_length: Mapped[int] = mapped_column(Integer, server_default="4", deferred=True)
    dial_outside_prefix: Mapped[str | None] = mapped_column(String(1), server_default="9", deferred=True)
    dial_seven_digit: Mapped[bool] = mapped_column(Boolean, server_default=true(), deferred=True)
    dial_ten_digit: Mapped[bool] = mapped_column(Boolean, server_default=true(), deferred=True)
    # PBX settings (issue 4; migration 0014): the feature codes the tenant changed (calls/features.py
    # has the defaults; None = all defaults), whether phones of one site send media to each other
    # directly (calls not recorded, not to an app, not off-net), and how long a parked call waits
    # before it rings the phone that parked it again.
    feature_codes: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True, deferred=True)
    direct_media: Mapped[bool] = mapped_column(Boolean, server_default=false(), deferred=True)
    park_timeout_s: Mapped[int] = mapped_column(Integer, server_default="120", deferred=True)
    # The longest a call may last before the switch hangs it up (issue 13 §3; migration 0018).
    max_call_s: Mapped[int] = mapped_column(Integer, server_default="14400", deferred=True)


class Site(Base, TenantOwned):
    """A service location: its address, rate center and calling capacity (voip-service-guide.txt)."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2), default="US")
    npa_nxx: Mapped[str] = mapped_column(String(6))
    rate_center: Mapped[str | None] = mapped_column(String(100), default=None)
    bandwidth_kbps: Mapped[int] = mapped_column(Integer, default=1536)
    calling_units: Mapped[int] = mapped_column(Integer, default=1)
    metered: Mapped[bool] = mapped_column(Boolean, default=False)
    calling_scope: Mapped[CallingScope] = mapped_column(
        EnumText(CallingScope), default=CallingScope.LOCAL_AND_LD
    )


class TenantDesignation(Base, TenantOwned):
    """Who holds a designated role in a tenant: one office administrator and one back-up
    (hosted-pbx.txt, Moves, Adds, and Changes: "Customer must designate one Office Administrator and
    one Office Administrator back-up") and one CPNI administrator (voip-service-guide.txt §V.12).
    The unique key makes "one of each" a database rule."""

    __tablename__ = "tenant_designations"
    __table_args__ = (UniqueConstraint("tenant_id", "role"),)
    role: Mapped[Role] = mapped_column(EnumText(Role))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))


class CpniGrant(Base, TenantOwned):
    """A user the CPNI administrator allows to read call records (voip-service-guide.txt §V.12)."""

    __tablename__ = "cpni_grants"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    granted_by: Mapped[str] = mapped_column(String(200))
