"""Users and the moves, adds and changes made to them (hosted-pbx.txt, Moves, Adds, and Changes).

Each MAC is its own operation with its own audit action, so the audit log reads as the MAC list:
station name change (2), ring-to / forwarding change (3), call restriction change (4), password
reset (7), voicemail programming change (8).
"""

from __future__ import annotations

import secrets
import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, EmailStr, Field
from sqlalchemy import Select, bindparam, or_

from centrex.api.checks import extension_free, same_tenant, site_ref
from centrex.api.deps import Direction, PagingDep, TenantDep, like_pattern
from centrex.api.fields import Destination, Extension, Out, Page, out_columns, page_columns
from centrex.store.credentials import hash_password
from centrex.store.models import CallRestrictionClass, Mailbox, User

router = APIRouter(prefix="/tenants/{tenant_id}/users", tags=["users"])


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    extension: Extension
    email: EmailStr | None = None
    site_id: uuid.UUID | None = None
    restriction_class_id: uuid.UUID | None = None
    directory_listed: bool = True


class UserPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    extension: Extension | None = None
    email: EmailStr | None = None
    site_id: uuid.UUID | None = None
    directory_listed: bool | None = None


class ForwardingIn(BaseModel):
    forward_always: Destination | None = None
    forward_busy: Destination | None = None
    forward_no_answer: Destination | None = None
    forward_no_answer_seconds: int | None = Field(None, ge=5, le=120)
    do_not_disturb: bool | None = None


class ForwardingOut(Out):
    forward_always: str | None
    forward_busy: str | None
    forward_no_answer: str | None
    forward_no_answer_seconds: int
    do_not_disturb: bool


class RestrictionIn(BaseModel):
    restriction_class_id: uuid.UUID | None


class UserOut(Out):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    email: str | None
    site_id: uuid.UUID | None
    restriction_class_id: uuid.UUID | None
    forward_always: str | None
    forward_busy: str | None
    forward_no_answer: str | None
    forward_no_answer_seconds: int
    do_not_disturb: bool
    directory_listed: bool


USER_OUT_FIELDS = tuple(UserOut.model_fields)


class PasswordReset(BaseModel):
    temporary_password: str


class VoicemailIn(BaseModel):
    enabled: bool | None = None
    pin: str | None = Field(None, pattern=r"^[0-9]{4,10}$", description="4 to 10 digits")
    email_notify: bool | None = None
    attach_audio: bool | None = None
    max_message_seconds: int | None = Field(None, ge=10, le=600)
    rings_before_voicemail: int | None = Field(None, ge=1, le=12)


class VoicemailOut(Out):
    enabled: bool
    pin_set: bool
    email_notify: bool
    attach_audio: bool
    max_message_seconds: int
    rings_before_voicemail: int


class UserOrder(StrEnum):
    EXTENSION = "extension"
    NAME = "name"
    EMAIL = "email"


@router.get("", response_model=Page[UserOut])
def list_users(
    data: TenantDep,
    paging: PagingDep,
    extension: Annotated[str | None, Query(max_length=32)] = None,
    name: Annotated[str | None, Query(max_length=200, description="substring of the name")] = None,
    site_id: uuid.UUID | None = None,
    search: Annotated[
        str | None, Query(max_length=200, description="substring of the name, extension or e-mail")
    ] = None,
    order: UserOrder = UserOrder.EXTENSION,
    direction: Direction = Direction.ASC,
) -> Any:
    # Built once per shape of the query (which filters, which order) and reused with its values:
    # a busy list costs no statement building (issue 14, store/access.py bound_select).
    shape = ("users", order, direction, bool(extension), bool(name), bool(search), site_id is not None)

    def build(stmt: Select[Any]) -> Select[Any]:
        stmt = stmt.with_only_columns(*out_columns(User, UserOut))
        column = getattr(User, order.value)
        stmt = stmt.order_by(column.desc() if direction is Direction.DESC else column.asc(), User.id)
        if extension:
            stmt = stmt.where(User.extension == bindparam("extension"))
        if name:
            stmt = stmt.where(User.name.ilike(bindparam("name"), escape="\\"))
        if search:
            pattern: Any = bindparam("search")
            stmt = stmt.where(
                or_(*(c.ilike(pattern, escape="\\") for c in (User.name, User.extension, User.email)))
            )
        if site_id:
            stmt = stmt.where(User.site_id == bindparam("site_id"))
        return stmt

    stmt, params = data.bound_select(User, shape, build)
    values = {"extension": extension, "site_id": site_id}
    values |= {"name": name and like_pattern(name), "search": search and like_pattern(search)}
    params.update((k, v) for k, v in values.items() if v)
    return page_columns(data, stmt, UserOut, paging.limit, paging.offset, params)


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, data: TenantDep) -> Any:
    extension_free(data, body.extension)
    site_ref(data, body.site_id)
    same_tenant(data, CallRestrictionClass, body.restriction_class_id, "restriction_class_id")
    user = data.create(User, "user.create", **body.model_dump())
    data.create(Mailbox, "mailbox.create", user_id=user.id)
    return user


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get_row(User, user_id, USER_OUT_FIELDS)


@router.patch("/{user_id}", response_model=UserOut)
def patch_user(user_id: uuid.UUID, body: UserPatch, data: TenantDep) -> Any:
    """Only the fields sent change. A new name is MAC 2, the station name change."""
    user = data.get(User, user_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("extension"):
        extension_free(data, changes["extension"], exclude=user.id)
    if "site_id" in changes:
        site_ref(data, changes["site_id"])
    for required in ("name", "extension"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    action = "mac.station_name" if "name" in changes and changes["name"] != user.name else "user.update"
    return data.update(user, action, changes)


@router.delete("/{user_id}", status_code=204)
def delete_user(user_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(User, user_id), "user.delete")


@router.get("/{user_id}/forwarding", response_model=ForwardingOut)
def get_forwarding(user_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(User, user_id)


@router.patch("/{user_id}/forwarding", response_model=ForwardingOut)
def set_forwarding(user_id: uuid.UUID, body: ForwardingIn, data: TenantDep) -> Any:
    """MAC 3: telephone set coverage / "ring to" change (call forwarding, busy, no answer)."""
    user = data.get(User, user_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("forward_no_answer_seconds", 0) is None:
        changes.pop("forward_no_answer_seconds")
    if changes.get("do_not_disturb", False) is None:
        changes.pop("do_not_disturb")
    return data.update(user, "mac.ring_to", changes)


@router.put("/{user_id}/restriction", response_model=UserOut)
def set_restriction(user_id: uuid.UUID, body: RestrictionIn, data: TenantDep) -> Any:
    """MAC 4: call restriction change."""
    user = data.get(User, user_id)
    same_tenant(data, CallRestrictionClass, body.restriction_class_id, "restriction_class_id")
    return data.update(user, "mac.call_restriction", {"restriction_class_id": body.restriction_class_id})


@router.post("/{user_id}/password-reset", response_model=PasswordReset)
def reset_password(user_id: uuid.UUID, data: TenantDep) -> Any:
    """MAC 7: password reset. The temporary password is shown once; only its argon2 hash is kept."""
    user = data.get(User, user_id)
    temporary = secrets.token_urlsafe(12)
    data.update(user, "mac.password_reset", {"password_hash": hash_password(temporary)})
    return {"temporary_password": temporary}


def _mailbox(data: TenantDep, user: User) -> Mailbox:
    box: Mailbox | None = data.session.scalar(data.select(Mailbox).where(Mailbox.user_id == user.id))
    return box if box is not None else data.create(Mailbox, "mailbox.create", user_id=user.id)


def _vm_out(box: Mailbox) -> dict[str, Any]:
    return {
        "enabled": box.enabled,
        "pin_set": bool(box.pin_hash),
        "email_notify": box.email_notify,
        "attach_audio": box.attach_audio,
        "max_message_seconds": box.max_message_seconds,
        "rings_before_voicemail": box.rings_before_voicemail,
    }


@router.get("/{user_id}/voicemail", response_model=VoicemailOut)
def get_voicemail(user_id: uuid.UUID, data: TenantDep) -> Any:
    return _vm_out(_mailbox(data, data.get(User, user_id)))


@router.patch("/{user_id}/voicemail", response_model=VoicemailOut)
def set_voicemail(user_id: uuid.UUID, body: VoicemailIn, data: TenantDep) -> Any:
    """MAC 8: voicemail programming change."""
    box = _mailbox(data, data.get(User, user_id))
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "pin" in changes:
        changes["pin_hash"] = hash_password(changes.pop("pin"))
    return _vm_out(data.update(box, "mac.voicemail", changes))
