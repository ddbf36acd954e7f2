"""Hunt groups (hosted-pbx.txt MAC 5) and call restriction classes (MAC 4)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import extension_free
from centrex.api.deps import Listing, PagingDep, TenantDep, listing
from centrex.api.fields import Destination, Extension, Out, Page, page_of
from centrex.store.access import jsonable
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import CallRestrictionClass, HuntGroup, HuntGroupMember, HuntStrategy, User
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["hunt groups", "call restrictions"])


class HuntGroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    extension: Extension
    strategy: HuntStrategy = HuntStrategy.SIMULTANEOUS
    ring_seconds: int = Field(20, ge=5, le=300)
    no_answer_destination: Destination | None = None
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class HuntGroupPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    extension: Extension | None = None
    strategy: HuntStrategy | None = None
    ring_seconds: int | None = Field(None, ge=5, le=300)
    no_answer_destination: Destination | None = None
    member_ids: list[uuid.UUID] | None = Field(
        None, max_length=200, description="replaces the members, in order"
    )


class HuntGroupOut(Out):
    id: uuid.UUID
    name: str
    extension: str
    strategy: HuntStrategy
    ring_seconds: int
    no_answer_destination: str | None
    member_ids: list[uuid.UUID]


def _out(data: TenantDep, group: HuntGroup) -> dict[str, Any]:
    members = data.session.scalars(
        select(HuntGroupMember.user_id)
        .where(HuntGroupMember.hunt_group_id == group.id)
        .order_by(HuntGroupMember.position)
    ).all()
    return {
        **{
            c: getattr(group, c)
            for c in ("id", "name", "extension", "strategy", "ring_seconds", "no_answer_destination")
        },
        "member_ids": list(members),
    }


def _set_members(data: TenantDep, group: HuntGroup, member_ids: list[uuid.UUID]) -> None:
    if len(member_ids) != len(set(member_ids)):
        raise Invalid("a user is listed twice", field="member_ids", rule="unique")
    for user_id in member_ids:
        user = data.session.get(User, user_id)
        if user is None or user.tenant_id != data.tenant_id:
            raise Invalid(
                f"member {user_id} is not a user of this tenant", field="member_ids", rule="exists_in_tenant"
            )
    for old in data.session.scalars(select(HuntGroupMember).where(HuntGroupMember.hunt_group_id == group.id)):
        data.session.delete(old)
    data.session.flush()
    for position, user_id in enumerate(member_ids):
        data.session.add(
            HuntGroupMember(
                tenant_id=data.tenant_id, hunt_group_id=group.id, user_id=user_id, position=position
            )
        )
    data.session.flush()


GroupListing = Annotated[
    Listing,
    Depends(
        listing(
            {"name": HuntGroup.name, "extension": HuntGroup.extension, "created_at": HuntGroup.created_at},
            (HuntGroup.name, HuntGroup.extension),
        )
    ),
]


@router.get("/hunt-groups", response_model=Page[HuntGroupOut])
def list_hunt_groups(data: TenantDep, paging: GroupListing) -> Any:
    stmt = paging.apply(data.select(HuntGroup).order_by(HuntGroup.extension))
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(data, g) for g in rows], total, paging.limit, paging.offset)


@router.post("/hunt-groups", response_model=HuntGroupOut, status_code=201)
def create_hunt_group(body: HuntGroupIn, data: TenantDep) -> Any:
    extension_free(data, body.extension)
    group = data.create(HuntGroup, "mac.hunt_group", **body.model_dump(exclude={"member_ids"}))
    _set_members(data, group, body.member_ids)
    return _out(data, group)


@router.get("/hunt-groups/{group_id}", response_model=HuntGroupOut)
def get_hunt_group(group_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data, data.get(HuntGroup, group_id))


@router.patch("/hunt-groups/{group_id}", response_model=HuntGroupOut)
def patch_hunt_group(group_id: uuid.UUID, body: HuntGroupPatch, data: TenantDep) -> Any:
    """MAC 5: hunt group change. Members and settings change in one transaction, audited as one."""
    data.require(Resource.HUNT_GROUP, Action.UPDATE)
    group = data.get(HuntGroup, group_id)
    changes = body.model_dump(exclude_unset=True)
    members = changes.pop("member_ids", None)
    for required in ("name", "extension", "strategy", "ring_seconds"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    if changes.get("extension"):
        extension_free(data, changes["extension"], exclude=group.id)
    before = _out(data, group)
    for key, value in changes.items():
        setattr(group, key, value)
    if members is not None:
        _set_members(data, group, members)
    data.session.flush()
    after = _out(data, group)
    diff = {k for k in after if before[k] != after[k]}
    if diff:
        data.audit(
            "mac.hunt_group",
            "hunt_groups",
            group.id,
            {k: jsonable(before[k]) if k != "member_ids" else [str(m) for m in before[k]] for k in diff},
            {k: jsonable(after[k]) if k != "member_ids" else [str(m) for m in after[k]] for k in diff},
            data.tenant_id,
        )
    return after


@router.delete("/hunt-groups/{group_id}", status_code=204)
def delete_hunt_group(group_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(HuntGroup, group_id), "mac.hunt_group")


# -- call restriction classes -------------------------------------------------------------


class RestrictionClassIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    allow_local: bool = True
    allow_long_distance: bool = True
    allow_international: bool = False
    allow_toll_free: bool = True
    allow_directory_assistance: bool = True
    allow_premium: bool = False


class RestrictionClassPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    allow_local: bool | None = None
    allow_long_distance: bool | None = None
    allow_international: bool | None = None
    allow_toll_free: bool | None = None
    allow_directory_assistance: bool | None = None
    allow_premium: bool | None = None


class RestrictionClassOut(Out):
    id: uuid.UUID
    name: str
    allow_local: bool
    allow_long_distance: bool
    allow_international: bool
    allow_toll_free: bool
    allow_directory_assistance: bool
    allow_premium: bool


@router.get("/call-restrictions", response_model=Page[RestrictionClassOut])
def list_restrictions(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(CallRestrictionClass).order_by(CallRestrictionClass.name)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/call-restrictions", response_model=RestrictionClassOut, status_code=201)
def create_restriction(body: RestrictionClassIn, data: TenantDep) -> Any:
    if data.session.scalar(
        select(CallRestrictionClass.id).where(
            CallRestrictionClass.tenant_id == data.tenant_id, CallRestrictionClass.name == body.name
        )
    ):
        raise Conflict(f"a restriction class named {body.name!r} exists", field="name", rule="unique")
    return data.create(CallRestrictionClass, "mac.call_restriction", **body.model_dump())


@router.patch("/call-restrictions/{class_id}", response_model=RestrictionClassOut)
def patch_restriction(class_id: uuid.UUID, body: RestrictionClassPatch, data: TenantDep) -> Any:
    obj = data.get(CallRestrictionClass, class_id)
    return data.update(obj, "mac.call_restriction", body.model_dump(exclude_unset=True, exclude_none=True))


@router.delete("/call-restrictions/{class_id}", status_code=204)
def delete_restriction(class_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(CallRestrictionClass, class_id), "mac.call_restriction")
