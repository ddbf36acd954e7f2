"""Per-account pacing of API-originated calls, shared by every node (issue 16 §2; migration 0042).

One row per tenant (its CPaaS account): ``next_at`` is the earliest time its next API call may leave
for the switch. A node reserves a slot by moving it ``1/cps`` ahead under a row lock
(cpaas/calls/pacing.py), so the account's rate holds across nodes sharing PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class CpaasCallPacing(Base, TenantOwned):
    __tablename__ = "cpaas_call_pacing"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_cpaas_call_pacing_tenant_id"),)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
