"""SQLAlchemy models of Centrex. Import from here: every model is registered on Base.metadata.

Every module of this package is imported below, so a new family of tables is one new module here;
the names listed are the ones other packages import.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from centrex.store.models.bans import BanAllowRow, BanRow, ServiceKey
from centrex.store.models.base import Base
from centrex.store.models.billing import (
    BillingPlan,
    BillingPlanFeature,
    BundleSubscriptionRow,
    CallDetail,
    CreditNoteRow,
    DisputeRow,
    DisputeStatus,
    DocumentCounter,
    InvoiceLineRow,
    InvoiceRow,
    OutageRow,
    PaymentMethod,
    PaymentRow,
    RateDeck,
    RateDeckRow,
    RateDeckVersion,
    RatingPurpose,
    RatingRun,
)
from centrex.store.models.calls import ActiveCall, CdrLeg, CdrOutcome, Registration, SwitchNode
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
from centrex.store.models.idempotency import IdempotencyRecord
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
    "ActiveCall",
    "ApiToken",
    "AuditEntry",
    "BanAllowRow",
    "BanRow",
    "Base",
    "BillingPlan",
    "BillingPlanFeature",
    "BundleSubscriptionRow",
    "ButtonKind",
    "CallDetail",
    "CallRestrictionClass",
    "CallingScope",
    "CdrLeg",
    "CdrOutcome",
    "CpniGrant",
    "CreditNoteRow",
    "Device",
    "DeviceButton",
    "DirectoryEntry",
    "DisputeRow",
    "DisputeStatus",
    "DocumentCounter",
    "HuntGroup",
    "HuntGroupMember",
    "HuntStrategy",
    "IdempotencyRecord",
    "InvoiceLineRow",
    "InvoiceRow",
    "Mailbox",
    "NumberKind",
    "NumberStatus",
    "NumberTarget",
    "Operator",
    "OutageRow",
    "PaymentMethod",
    "PaymentRow",
    "PhoneNumber",
    "PricingPlan",
    "RateDeck",
    "RateDeckRow",
    "RateDeckVersion",
    "RatingPurpose",
    "RatingRun",
    "Registration",
    "Role",
    "ServiceKey",
    "ServiceType",
    "Site",
    "SwitchNode",
    "Tenant",
    "TenantDesignation",
    "TenantStatus",
    "TokenKind",
    "User",
]

for _info in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_info.name}")
