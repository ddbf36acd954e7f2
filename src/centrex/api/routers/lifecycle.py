"""A tenant's lifecycle (issue 19 parts 3 and 6): its voicemail retention policy, its termination and
30-day export window (cpaas.txt §2.3.8) with the archive of its data, and its port-out PIN.

The archive and the policy are the operator's and the tenant's office and back-up administrators'
(the contract's "Customer"); the PIN is only ever set, never shown (argon2 hash).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.ops.lifecycle import export_until, lifecycle_of, set_port_out_pin
from centrex.ops.tenant_export import write_archive
from centrex.store.errors import Conflict, Forbidden
from centrex.store.models import TenantStatus
from centrex.store.policy import ADMINS
from centrex.store.types import utcnow

router = APIRouter(tags=["lifecycle"])


def _require_admin(data: TenantDep) -> None:
    if not (data.principal.is_operator or data.principal.roles & ADMINS):
        raise Forbidden(
            "only the operator or the tenant's office or back-up administrator", rule="tenant_lifecycle"
        )


class LifecycleOut(BaseModel):
    tenant_id: uuid.UUID
    status: TenantStatus
    voicemail_retention_days: int | None = Field(
        description="days a voicemail message is kept; null: until its owner deletes it"
    )
    terminated_at: datetime | None
    export_until: datetime | None = Field(description="end of the 30-day export window (cpaas.txt §2.3.8)")
    deletion_started: bool
    port_out_pin_set: bool


class LifecyclePatch(BaseModel):
    voicemail_retention_days: int | None = Field(None, ge=1, le=3650)


def _out(data: TenantDep) -> LifecycleOut:
    row = lifecycle_of(data.session, data.tenant_id)
    return LifecycleOut(
        tenant_id=data.tenant_id,
        status=data.tenant.status,
        voicemail_retention_days=row.voicemail_retention_days if row else None,
        terminated_at=row.terminated_at if row else None,
        export_until=export_until(row),
        deletion_started=bool(row and row.purge_started_at),
        port_out_pin_set=bool(row and row.port_out_pin_hash),
    )


@router.get("/tenants/{tenant_id}/lifecycle", response_model=LifecycleOut)
def get_lifecycle(data: TenantDep) -> Any:
    _require_admin(data)
    return _out(data)


@router.patch("/tenants/{tenant_id}/lifecycle", response_model=LifecycleOut)
def patch_lifecycle(body: LifecyclePatch, data: TenantDep) -> Any:
    """The tenant's voicemail policy: messages older than this many days are deleted by the daily
    voicemail-retention job (null: kept until their owner deletes them)."""
    _require_admin(data)
    row = lifecycle_of(data.session, data.tenant_id, create=True)
    assert row is not None
    if "voicemail_retention_days" in body.model_fields_set:
        before = row.voicemail_retention_days
        row.voicemail_retention_days = body.voicemail_retention_days
        data.audit(
            "tenant.voicemail_policy",
            "tenant_lifecycle",
            data.tenant_id,
            {"voicemail_retention_days": before},
            {"voicemail_retention_days": body.voicemail_retention_days},
            data.tenant_id,
        )
    data.session.flush()
    return _out(data)


class PinIn(BaseModel):
    pin: str = Field(pattern=r"^[0-9]{4,10}$", description="4 to 10 digits; kept as an argon2 hash")


@router.put("/tenants/{tenant_id}/port-out-pin", status_code=204)
def put_port_out_pin(body: PinIn, data: TenantDep) -> Response:
    """The PIN a gaining carrier must quote to port one of the tenant's numbers away
    (``port-out-check`` with ``pin``). Only its hash is kept; it is never shown."""
    _require_admin(data)
    had = bool((row := lifecycle_of(data.session, data.tenant_id)) and row.port_out_pin_hash)
    set_port_out_pin(data.session, data.tenant_id, body.pin)
    data.audit(
        "tenant.port_out_pin",
        "tenant_lifecycle",
        data.tenant_id,
        {"pin": "(set)" if had else None},
        {"pin": "(changed)" if had else "(set)"},
        data.tenant_id,
    )
    return Response(status_code=204)


@router.delete("/tenants/{tenant_id}/port-out-pin", status_code=204)
def delete_port_out_pin(data: TenantDep) -> Response:
    _require_admin(data)
    set_port_out_pin(data.session, data.tenant_id, None)
    data.audit("tenant.port_out_pin", "tenant_lifecycle", data.tenant_id, None, {"pin": None}, data.tenant_id)
    return Response(status_code=204)


@router.get(
    "/tenants/{tenant_id}/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "the tenant's data (a zip)"}},
)
def export_tenant(data: TenantDep, background: BackgroundTasks) -> Any:
    """A downloadable archive of the tenant's data (ops/tenant_export.py): every row of its tables
    as JSON (CDRs also as CSV), and its voicemail and recordings. Available while the tenant is
    active and for 30 days after termination (cpaas.txt §2.3.8), until its deletion begins."""
    _require_admin(data)
    row = lifecycle_of(data.session, data.tenant_id)
    if row is not None and row.purge_started_at is not None:
        raise Conflict("the tenant's data is being deleted", rule="cpaas.txt §2.3.8")
    until = export_until(row)
    if until is not None and until < utcnow():
        raise Conflict(
            f"the export window closed at {until.isoformat()} (30 days after termination)",
            rule="cpaas.txt §2.3.8",
        )
    fd, name = tempfile.mkstemp(prefix="centrex-export-", suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        write_archive(data.session, data.tenant_id, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    background.add_task(path.unlink, missing_ok=True)
    stamp = utcnow().strftime("%Y%m%d")
    return FileResponse(path, media_type="application/zip", filename=f"tenant-{data.tenant_id}-{stamp}.zip")
