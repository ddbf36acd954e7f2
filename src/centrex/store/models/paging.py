"""Paging groups (issue 17 §3): an extension that pages its members' phones at once, one-way, with
auto-answer (pbx/paging.py). Members in their order; a user deleted leaves every group."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned


class PagingGroup(Base, TenantOwned):
    __tablename__ = "paging_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "extension", name="uq_paging_groups_extension"),)
    name: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(8))


class PagingGroupMember(Base, TenantOwned):
    __tablename__ = "paging_group_members"
    __table_args__ = (UniqueConstraint("paging_group_id", "user_id", name="uq_paging_group_members_user"),)
    paging_group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("paging_groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
