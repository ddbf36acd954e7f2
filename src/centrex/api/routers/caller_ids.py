"""Verified caller IDs (issue 17 §5; docs/switch.md "Caller identity and STIR/SHAKEN"): numbers a
tenant may send as its caller ID without holding them from us. The provider verifies the tenant
controls the number (a letter of authorization, a call-back code) and records it, so only an
operator adds or removes one; the tenant's staff read them (Resource.NUMBER's policy)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import E164, Out, Page, page_of
from centrex.store.models.caller_ids import VerifiedCallerId
from centrex.store.policy import Resource

router = APIRouter(prefix="/tenants/{tenant_id}/verified-caller-ids", tags=["numbers"])


class CallerIdIn(BaseModel):
    e164: E164
    label: str = Field("", max_length=100)
    verified_by: str = Field(min_length=1, max_length=200, description="how the provider verified it")


class CallerIdOut(Out):
    id: uuid.UUID
    e164: str
    label: str
    verified_by: str


@router.get("", response_model=Page[CallerIdOut])
def list_caller_ids(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(VerifiedCallerId, Resource.NUMBER).order_by(VerifiedCallerId.e164)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("", response_model=CallerIdOut, status_code=201)
def add_caller_id(body: CallerIdIn, data: TenantDep) -> Any:
    return data.create(VerifiedCallerId, "caller_id.verified", Resource.NUMBER, **body.model_dump())


@router.delete("/{caller_id}", status_code=204)
def remove_caller_id(caller_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(VerifiedCallerId, caller_id, Resource.NUMBER), "caller_id.removed", Resource.NUMBER)
