"""Verified caller IDs (issue 17 §5): numbers a tenant does not hold from us but may send as its
caller ID, because the provider verified the tenant controls them (a letter of authorization or a
call-back code). Calls with them are attested B (routing/caller_policy.py)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned


class VerifiedCallerId(Base, TenantOwned):
    __tablename__ = "verified_caller_ids"
    __table_args__ = (UniqueConstraint("tenant_id", "e164"),)
    e164: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100), default="")
    # How the provider verified it (free text: "LOA 2026-12-01", "call-back code").
    verified_by: Mapped[str] = mapped_column(String(200), default="")
