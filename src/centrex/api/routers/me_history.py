"""An end user's own call history and phones (issue 18 §2, "End user"): what a desk phone's call log
and its owner already know, so it needs no CPNI grant — only calls the user made or received, and
only the user's own devices (no SIP credentials). Administrators read everyone's through /cdrs and
/devices as the policy allows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import or_, select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.store.models import Device
from centrex.store.models.billing import CallDetail

router = APIRouter(prefix="/tenants/{tenant_id}/me", tags=["self service"])


class MyCallOut(Out):
    id: uuid.UUID
    start: datetime
    answer: datetime | None
    duration_ms: int
    caller: str
    callee: str
    direction: str
    disposition: str


class MyDeviceOut(Out):
    id: uuid.UUID
    sip_username: str
    description: str | None
    mac_address: str | None
    enabled: bool


@router.get("/calls", response_model=Page[MyCallOut])
def my_calls(data: TenantDep, paging: PagingDep) -> Any:
    user = data.me()  # Resource.SELF: any user of the tenant, for themselves only
    mine = or_(
        CallDetail.user_id == user.id,
        CallDetail.caller == user.extension,
        CallDetail.callee == user.extension,
    )
    stmt = (
        select(CallDetail)
        .where(CallDetail.tenant_id == data.tenant_id, mine)
        .order_by(CallDetail.start.desc(), CallDetail.id)
    )
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.get("/devices", response_model=Page[MyDeviceOut])
def my_devices(data: TenantDep, paging: PagingDep) -> Any:
    user = data.me()
    stmt = (
        select(Device)
        .where(Device.tenant_id == data.tenant_id, Device.user_id == user.id)
        .order_by(Device.sip_username)
    )
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)
