"""Telephone numbers: the operator's pool, and each tenant's incoming call routing (MAC 9)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.checks import TARGET_MODELS
from centrex.api.deps import Listing, OperatorDep, PagingDep, TenantDep, listing
from centrex.api.fields import E164, Out, Page, page_of
from centrex.numbers import storage as number_storage
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import NumberKind, NumberStatus, NumberTarget, PhoneNumber, Tenant
from centrex.store.models.trunks import TrunkKind, TrunkRow
from centrex.store.policy import Action, Resource

router = APIRouter(tags=["numbers"])


class NumberIn(BaseModel):
    e164: E164
    kind: NumberKind = NumberKind.DID


class NumberOut(Out):
    id: uuid.UUID
    e164: str
    kind: NumberKind
    status: NumberStatus
    tenant_id: uuid.UUID | None
    target_type: NumberTarget | None
    target_id: uuid.UUID | None
    cnam: str | None


class AllocateIn(BaseModel):
    tenant_id: uuid.UUID


class RoutingIn(BaseModel):
    target_type: NumberTarget | None
    target_id: uuid.UUID | None = None


class NumberPatch(BaseModel):
    cnam: str | None = Field(
        None,
        max_length=15,
        pattern=r"^[A-Za-z0-9 .,'&\-]*$",
        description="caller-ID name, at most 15 characters",
    )


def _filtered(stmt: Any, status: NumberStatus | None, kind: NumberKind | None, prefix: str | None) -> Any:
    if status:
        stmt = stmt.where(PhoneNumber.status == status)
    if kind:
        stmt = stmt.where(PhoneNumber.kind == kind)
    if prefix:
        stmt = stmt.where(PhoneNumber.e164.startswith(prefix))
    return stmt.order_by(PhoneNumber.e164)


# -- operator: the pool --------------------------------------------------------------------


@router.get("/numbers", response_model=Page[NumberOut])
def list_pool(
    ops: OperatorDep,
    paging: PagingDep,
    status: NumberStatus | None = None,
    kind: NumberKind | None = None,
    prefix: str | None = None,
) -> Any:
    ops.require_operator()
    stmt = _filtered(select(PhoneNumber), status, kind, prefix)
    total = ops.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(ops.session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/numbers", response_model=NumberOut, status_code=201)
def add_to_pool(body: NumberIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    if ops.session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == body.e164)):
        raise Conflict(f"number {body.e164} is already in the inventory", field="e164", rule="unique")
    return ops.create(PhoneNumber, "number.create", e164=body.e164, kind=body.kind)


@router.post("/numbers/{number_id}/allocate", response_model=NumberOut)
def allocate(number_id: uuid.UUID, body: AllocateIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    number = ops.session.get(PhoneNumber, number_id)
    if number is None:
        raise NotFound(f"number {number_id} not found", field="id")
    if ops.session.get(Tenant, body.tenant_id) is None:
        raise Invalid(f"tenant {body.tenant_id} does not exist", field="tenant_id", rule="exists")
    if number.status is not NumberStatus.AVAILABLE:
        raise Conflict(
            f"number {number.e164} is {number.status.value}, not available", field="status", rule="available"
        )
    return ops.update(
        number, "number.allocate", {"tenant_id": body.tenant_id, "status": NumberStatus.RESERVED}
    )


# -- tenant: its numbers and their routing ---------------------------------------------------


NumberListing = Annotated[
    Listing,
    Depends(
        listing(
            {"e164": PhoneNumber.e164, "status": PhoneNumber.status, "kind": PhoneNumber.kind},
            (PhoneNumber.e164,),
        )
    ),
]


@router.get("/tenants/{tenant_id}/numbers", response_model=Page[NumberOut])
def list_numbers(
    data: TenantDep,
    paging: NumberListing,
    status: NumberStatus | None = None,
    kind: NumberKind | None = None,
    prefix: str | None = None,
) -> Any:
    rows, total = data.page(
        paging.apply(_filtered(data.select(PhoneNumber), status, kind, prefix)), paging.limit, paging.offset
    )
    return page_of(rows, total, paging.limit, paging.offset)


@router.get("/tenants/{tenant_id}/numbers/{number_id}", response_model=NumberOut)
def get_number(number_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(PhoneNumber, number_id)


@router.patch("/tenants/{tenant_id}/numbers/{number_id}", response_model=NumberOut)
def patch_number(number_id: uuid.UUID, body: NumberPatch, data: TenantDep) -> Any:
    number = data.get(PhoneNumber, number_id)
    return data.update(number, "number.cnam", body.model_dump(exclude_unset=True))


@router.put("/tenants/{tenant_id}/numbers/{number_id}/routing", response_model=NumberOut)
def set_routing(number_id: uuid.UUID, body: RoutingIn, data: TenantDep) -> Any:
    """MAC 9: incoming call routing. The target must be a row of this tenant: a user, a hunt group,
    or a pbx trunk of the tenant (IP trunking, voip-service-guide.txt §I.4: the DID rings the
    customer's own PBX). Routing a DID that was not routed yet is held to the §V.2 DID limit."""
    data.require(Resource.NUMBER, Action.UPDATE)
    number = data.get(PhoneNumber, number_id)
    if body.target_type is None:
        changes: dict[str, Any] = {"target_type": None, "target_id": None, "status": NumberStatus.RESERVED}
    else:
        if body.target_id is None:
            raise Invalid("target_id is required with target_type", field="target_id", rule="required")
        if body.target_type is NumberTarget.TRUNK:
            # Only a pbx trunk of this tenant: a carrier's, a peer's or another tenant's trunk
            # looks like any other target that is not this tenant's.
            trunk = data.session.get(TrunkRow, body.target_id)
            if trunk is None or trunk.tenant_id != data.tenant_id or trunk.kind is not TrunkKind.PBX:
                raise Invalid(
                    f"target_id {body.target_id} is not a pbx trunk of this tenant",
                    field="target_id",
                    rule="exists_in_tenant",
                )
        else:
            model = TARGET_MODELS.get(body.target_type)
            if model is None:
                raise Invalid(
                    f"routing to {body.target_type.value} is not available yet",
                    field="target_type",
                    rule="supported_target",
                )
            target: Any = data.session.get(model, body.target_id)
            if target is None or target.tenant_id != data.tenant_id:
                raise Invalid(
                    f"target_id {body.target_id} is not a {body.target_type.value} of this tenant",
                    field="target_id",
                    rule="exists_in_tenant",
                )
        number_storage.check_did_limit(data, number)
        changes = {
            "target_type": body.target_type,
            "target_id": body.target_id,
            "status": NumberStatus.ASSIGNED,
        }
    was_routed = number.target_type is not None
    out = data.update(number, "mac.incoming_call_routing", changes)
    if body.target_type is not None and not was_routed:
        number_storage.record_assignment(data.session, number.id, number_storage.now())  # reclamation clock
    return out
