"""A tenant's lifecycle rows (store/models/lifecycle.py): termination and its export window, the
voicemail retention policy, the port-out PIN. The jobs that act on them are ops/jobs/lifecycle.py.

cpaas.txt §2.3.8: after termination the customer has thirty (30) days to obtain copies of its
information (the export archive, ops/tenant_export.py), then it is deleted (the tenant-deletion job).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.ops.retention_periods import EXPORT_WINDOW
from centrex.store.credentials import hash_password, verify_password
from centrex.store.errors import Conflict
from centrex.store.models.lifecycle import TenantLifecycle


def lifecycle_of(s: Session, tenant_id: uuid.UUID, *, create: bool = False) -> TenantLifecycle | None:
    row = s.scalar(select(TenantLifecycle).where(TenantLifecycle.tenant_id == tenant_id))
    if row is None and create:
        row = TenantLifecycle(tenant_id=tenant_id)
        s.add(row)
    return row


def mark_terminated(s: Session, tenant_id: uuid.UUID, now: datetime, reason: str = "terminated") -> None:
    """The tenant's status became terminated: its export window starts now (unless it already ran)."""
    row = lifecycle_of(s, tenant_id, create=True)
    assert row is not None
    if row.terminated_at is None:
        row.terminated_at = now
        row.terminated_reason = reason


def clear_terminated(s: Session, tenant_id: uuid.UUID) -> None:
    """Reinstated before its deletion began: the window no longer runs. Once the deletion began
    (its files may be gone) the tenant cannot come back: 409."""
    row = lifecycle_of(s, tenant_id)
    if row is None or row.terminated_at is None:
        return
    if row.purge_started_at is not None:
        raise Conflict(
            "the tenant's data is being deleted; it cannot be reinstated",
            field="status",
            rule="cpaas.txt §2.3.8",
        )
    row.terminated_at = None
    row.terminated_reason = ""


def export_until(row: TenantLifecycle | None) -> datetime | None:
    """The end of the export window (cpaas.txt §2.3.8), None while the tenant is not terminated."""
    if row is None or row.terminated_at is None:
        return None
    return row.terminated_at + EXPORT_WINDOW


def set_port_out_pin(s: Session, tenant_id: uuid.UUID, pin: str | None) -> None:
    row = lifecycle_of(s, tenant_id, create=True)
    assert row is not None
    row.port_out_pin_hash = hash_password(pin) if pin else None


def port_out_pin_matches(s: Session, tenant_id: uuid.UUID, pin: str | None) -> bool:
    """True when the tenant has no port-out PIN, or ``pin`` is it (checked against its argon2 hash)."""
    row = lifecycle_of(s, tenant_id)
    if row is None or not row.port_out_pin_hash:
        return True
    return bool(pin) and verify_password(row.port_out_pin_hash, pin or "")
