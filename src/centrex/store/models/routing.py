"""Numbers, hunt groups, call restriction classes and the company directory."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.models.enums import HuntStrategy, NumberKind, NumberStatus, NumberTarget
from centrex.store.types import EnumText


class PhoneNumber(Base, Row):
    """A DID or toll-free number in E.164. Without a tenant it is in the operator's pool."""

    __tablename__ = "numbers"
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[NumberKind] = mapped_column(EnumText(NumberKind), default=NumberKind.DID)
    status: Mapped[NumberStatus] = mapped_column(EnumText(NumberStatus), default=NumberStatus.AVAILABLE)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="SET NULL"), index=True, default=None
    )
    # Incoming call routing (hosted-pbx.txt MAC 9): which kind of thing, and which one.
    target_type: Mapped[NumberTarget | None] = mapped_column(EnumText(NumberTarget), default=None)
    target_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    cnam: Mapped[str | None] = mapped_column(String(15), default=None)


class CallRestrictionClass(Base, TenantOwned):
    """What a user may dial (hosted-pbx.txt MAC 4). 911 is not a column: it is never restricted."""

    __tablename__ = "call_restriction_classes"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    name: Mapped[str] = mapped_column(String(100))
    allow_local: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_long_distance: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_international: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_toll_free: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_directory_assistance: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_premium: Mapped[bool] = mapped_column(Boolean, default=False)


class HuntGroup(Base, TenantOwned):
    """hosted-pbx.txt MAC 5, hunt group change."""

    __tablename__ = "hunt_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "extension"),)
    name: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(8))
    strategy: Mapped[HuntStrategy] = mapped_column(EnumText(HuntStrategy), default=HuntStrategy.SIMULTANEOUS)
    ring_seconds: Mapped[int] = mapped_column(Integer, default=20)
    no_answer_destination: Mapped[str | None] = mapped_column(String(32), default=None)


class HuntGroupMember(Base, TenantOwned):
    __tablename__ = "hunt_group_members"
    __table_args__ = (UniqueConstraint("hunt_group_id", "user_id"),)
    hunt_group_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("hunt_groups.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class DirectoryEntry(Base, TenantOwned):
    """An entry of the company directory (hosted-pbx.txt MAC 6) beyond the listed users."""

    __tablename__ = "directory_entries"
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(100), default=None)
