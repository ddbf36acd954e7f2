"""Paging groups (issue 17 §3): an extension that pages its members' phones with auto-answer
(pbx/paging.py). Made like hunt groups (hosted-pbx.txt MAC 5) by the office administrator, the
back-up or an operator (the hunt-group policy entry); the extension shares the tenant's plan with
users, hunt groups, queues, attendants and bridges (409 naming ``extension``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import extension_free
from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Extension, Out, Page, page_of
from centrex.store.access import TenantData, jsonable
from centrex.store.errors import Invalid
from centrex.store.models import User
from centrex.store.models.paging import PagingGroup, PagingGroupMember
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["paging groups"])
RES = Resource.HUNT_GROUP  # "policy like hunt groups": the office administrator's MACs
AUDIT = "mac.paging_group"
MAX_MEMBERS = 50  # a page is one relay sending to every phone: Polycom's group paging has 25 groups


class PagingGroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    extension: Extension
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEMBERS)


class PagingGroupPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    extension: Extension | None = None
    member_ids: list[uuid.UUID] | None = Field(
        None, max_length=MAX_MEMBERS, description="replaces the members"
    )


class PagingGroupOut(Out):
    id: uuid.UUID
    name: str
    extension: str
    member_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


def _out(data: TenantData, group: PagingGroup) -> dict[str, Any]:
    members = data.session.scalars(
        select(PagingGroupMember.user_id)
        .where(PagingGroupMember.tenant_id == data.tenant_id, PagingGroupMember.paging_group_id == group.id)
        .order_by(PagingGroupMember.position)
    ).all()
    return {
        "id": group.id,
        "name": group.name,
        "extension": group.extension,
        "member_ids": list(members),
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }


def _snap(out: dict[str, Any]) -> dict[str, Any]:
    return {k: ([str(m) for m in v] if k == "member_ids" else jsonable(v)) for k, v in out.items()}


def _set_members(data: TenantData, group: PagingGroup, member_ids: list[uuid.UUID]) -> None:
    if len(member_ids) != len(set(member_ids)):
        raise Invalid("a user is listed twice", field="member_ids", rule="unique")
    for user_id in member_ids:
        user = data.session.get(User, user_id)
        if user is None or user.tenant_id != data.tenant_id:
            raise Invalid(
                f"member {user_id} is not a user of this tenant", field="member_ids", rule="exists_in_tenant"
            )
    for old in data.session.scalars(
        select(PagingGroupMember).where(
            PagingGroupMember.tenant_id == data.tenant_id, PagingGroupMember.paging_group_id == group.id
        )
    ):
        data.session.delete(old)
    data.session.flush()
    for position, user_id in enumerate(member_ids):
        data.session.add(
            PagingGroupMember(
                tenant_id=data.tenant_id, paging_group_id=group.id, user_id=user_id, position=position
            )
        )
    data.session.flush()


@router.get("/paging-groups", response_model=Page[PagingGroupOut])
def list_paging_groups(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(PagingGroup, RES).order_by(PagingGroup.extension)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(data, g) for g in rows], total, paging.limit, paging.offset)


@router.post("/paging-groups", response_model=PagingGroupOut, status_code=201)
def create_paging_group(body: PagingGroupIn, data: TenantDep) -> Any:
    data.require(RES, Action.CREATE)
    extension_free(data, body.extension)
    group = PagingGroup(tenant_id=data.tenant_id, name=body.name, extension=body.extension)
    data.session.add(group)
    data.session.flush()
    _set_members(data, group, body.member_ids)
    out = _out(data, group)
    data.audit(AUDIT, PagingGroup.__tablename__, group.id, None, _snap(out), data.tenant_id)
    return out


@router.get("/paging-groups/{group_id}", response_model=PagingGroupOut)
def get_paging_group(group_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data, data.get(PagingGroup, group_id, RES))


@router.patch("/paging-groups/{group_id}", response_model=PagingGroupOut)
def patch_paging_group(group_id: uuid.UUID, body: PagingGroupPatch, data: TenantDep) -> Any:
    data.require(RES, Action.UPDATE)
    group = data.get(PagingGroup, group_id, RES)
    changes = body.model_dump(exclude_unset=True)
    members = changes.pop("member_ids", None)
    changes = {k: v for k, v in changes.items() if v is not None}  # null leaves a required field as it is
    if changes.get("extension") and changes["extension"] != group.extension:
        extension_free(data, changes["extension"], exclude=group.id)
    before = _out(data, group)
    for key, value in changes.items():
        setattr(group, key, value)
    if members is not None:
        _set_members(data, group, members)
    data.session.flush()
    after = _out(data, group)
    diff = {k for k in after if before[k] != after[k] and k != "updated_at"}
    if diff:
        b, a = _snap(before), _snap(after)
        data.audit(
            AUDIT,
            PagingGroup.__tablename__,
            group.id,
            {k: b[k] for k in diff},
            {k: a[k] for k in diff},
            data.tenant_id,
        )
    return after


@router.delete("/paging-groups/{group_id}", status_code=204)
def delete_paging_group(group_id: uuid.UUID, data: TenantDep) -> None:
    data.require(RES, Action.DELETE)
    group = data.get(PagingGroup, group_id, RES)
    out = _snap(_out(data, group))
    _set_members(data, group, [])
    data.session.delete(group)
    data.session.flush()
    data.audit(AUDIT, PagingGroup.__tablename__, group_id, out, None, data.tenant_id)
