"""A tenant's lifecycle and data policy (issue 19 parts 3 and 6): how long its voicemail is kept, when
it was terminated (the 30-day export window of cpaas.txt §2.3.8 runs from then), when the deletion of
its data began, and the PIN that protects its numbers from being ported away (argon2 hash).

One row per tenant, made when first needed; no row means the defaults (voicemail kept until its owner
deletes it, not terminated, no port-out PIN). ops/lifecycle.py reads and writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class TenantLifecycle(Base, TenantOwned):
    __tablename__ = "tenant_lifecycle"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    # Days a voicemail message is kept from when it was left; None: until its owner deletes it.
    voicemail_retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    # Set when the tenant's status becomes terminated (cleared if it is reinstated).
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Why: "terminated" by an operator, or "inactive" (cpaas.txt §3.2, the inactive-accounts job).
    terminated_reason: Mapped[str] = mapped_column(String(32), default="")
    # The tombstone of the tenant-deletion job: set (and committed) before any file or row goes.
    purge_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The tenant's port-out PIN (argon2): a gaining carrier must quote it to port a number away.
    port_out_pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
