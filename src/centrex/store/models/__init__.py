"""SQLAlchemy models of Centrex. Import from here: every model is registered on Base.metadata."""

from centrex.store.models.base import Base
from centrex.store.models.enums import (
    ButtonKind,
    CallingScope,
    HuntStrategy,
    NumberKind,
    NumberStatus,
    NumberTarget,
    PricingPlan,
    Role,
    ServiceType,
    TenantStatus,
    TokenKind,
)
from centrex.store.models.people import Device, DeviceButton, Mailbox, User
from centrex.store.models.routing import (
    CallRestrictionClass,
    DirectoryEntry,
    HuntGroup,
    HuntGroupMember,
    PhoneNumber,
)
from centrex.store.models.security import ApiToken, AuditEntry
from centrex.store.models.tenancy import CpniGrant, Operator, Site, Tenant, TenantDesignation

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "ButtonKind",
    "CallRestrictionClass",
    "CallingScope",
    "CpniGrant",
    "Device",
    "DeviceButton",
    "DirectoryEntry",
    "HuntGroup",
    "HuntGroupMember",
    "HuntStrategy",
    "Mailbox",
    "NumberKind",
    "NumberStatus",
    "NumberTarget",
    "Operator",
    "PhoneNumber",
    "PricingPlan",
    "Role",
    "ServiceType",
    "Site",
    "Tenant",
    "TenantDesignation",
    "TenantStatus",
    "TokenKind",
    "User",
]
