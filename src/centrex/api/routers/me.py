"""An end user's own settings: what the phone's owner may change without the administrator."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.api.fields import Destination, Out
from centrex.store.credentials import hash_password, verify_password
from centrex.store.errors import Invalid
from centrex.store.models import Mailbox
from centrex.store.policy import Resource

router = APIRouter(prefix="/tenants/{tenant_id}/me", tags=["self service"])


class MeOut(Out):
    id: uuid.UUID
    name: str
    extension: str
    email: str | None
    forward_always: str | None
    forward_busy: str | None
    forward_no_answer: str | None
    forward_no_answer_seconds: int
    do_not_disturb: bool


class MePatch(BaseModel):
    forward_always: Destination | None = None
    forward_busy: Destination | None = None
    forward_no_answer: Destination | None = None
    forward_no_answer_seconds: int | None = Field(None, ge=5, le=120)
    do_not_disturb: bool | None = None
    voicemail_pin: str | None = Field(None, pattern=r"^[0-9]{4,10}$")


class PasswordChange(BaseModel):
    current_password: str | None = None
    new_password: str = Field(min_length=10, max_length=200)


@router.get("", response_model=MeOut)
def me(data: TenantDep) -> Any:
    return data.me()


@router.patch("", response_model=MeOut)
def update_me(body: MePatch, data: TenantDep) -> Any:
    user = data.me()
    changes = body.model_dump(exclude_unset=True)
    pin = changes.pop("voicemail_pin", None)
    for key in ("forward_no_answer_seconds", "do_not_disturb"):
        if key in changes and changes[key] is None:
            changes.pop(key)
    data.update(user, "self.settings", changes, resource=Resource.SELF)
    if pin is not None:
        box = data.session.query(Mailbox).filter_by(tenant_id=data.tenant_id, user_id=user.id).one_or_none()
        if box is not None:
            data.update(box, "self.voicemail_pin", {"pin_hash": hash_password(pin)}, resource=Resource.SELF)
    return user


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, data: TenantDep) -> None:
    user = data.me()
    if user.password_hash and not verify_password(user.password_hash, body.current_password or ""):
        raise Invalid("current_password does not match", field="current_password", rule="matches")
    data.update(
        user, "self.password", {"password_hash": hash_password(body.new_password)}, resource=Resource.SELF
    )
