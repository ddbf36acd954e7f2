"""Conference bridges (issue 4 point 6): a tenant's meeting rooms, made like the MACs by its office
administrator, back-up or the operator, and who is in a room now.

PINs are write-only: a body sets them (4 to 10 digits, null removes), a response says only whether
one is set, and the audit log shows "(set)"/"(changed)", never a hash. A bridge's number shares the
tenant's extension plan with users and hunt groups (409 naming ``extension``). Participants are
live state of the app server, read through ``app.state.conference_participants`` (set by whoever
assembles the service; without it every room looks empty).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import extension_free
from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Extension, Out, Page, page_of
from centrex.store.access import TenantData, snapshot
from centrex.store.credentials import hash_password
from centrex.store.errors import Conflict
from centrex.store.models.conferences import ConferenceBridge
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["conferences"])

RES = Resource.CONFERENCE
AUDIT = "mac.conference_bridge"
Pin = Annotated[str, Field(pattern=r"^[0-9]{4,10}$", description="4 to 10 digits; write-only")]
# pin_hash is a secret column of the access layer already; the moderator's is made one here.
_HIDDEN = ("pin_hash", "moderator_pin_hash")


class BridgeIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    extension: Extension
    pin: Pin | None = None
    moderator_pin: Pin | None = None
    max_parties: int = Field(10, ge=2, le=50, description="parties in the room at once")
    announce: bool = Field(True, description="a tone to everyone when someone joins or leaves")


class BridgePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    extension: Extension | None = None
    pin: Pin | None = Field(None, description="null removes the PIN")
    moderator_pin: Pin | None = Field(None, description="null removes the moderator PIN")
    max_parties: int | None = Field(None, ge=2, le=50)
    announce: bool | None = None


class BridgeOut(Out):
    id: uuid.UUID
    name: str
    extension: str
    has_pin: bool
    has_moderator_pin: bool
    max_parties: int
    announce: bool
    app: str = Field(description="the app server user part the bridge's extension routes to")
    created_at: datetime
    updated_at: datetime


class ParticipantOut(BaseModel):
    id: uuid.UUID
    caller: str
    caller_name: str
    user_id: uuid.UUID | None
    moderator: bool
    joined_at: datetime


class ParticipantsOut(BaseModel):
    bridge_id: uuid.UUID
    count: int
    max_parties: int
    items: list[ParticipantOut]


def _out(row: ConferenceBridge) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "extension": row.extension,
        "has_pin": bool(row.pin_hash),
        "has_moderator_pin": bool(row.moderator_pin_hash),
        "max_parties": row.max_parties,
        "announce": row.announce,
        "app": f"conf.{row.id}",
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _snap(row: ConferenceBridge) -> dict[str, Any]:
    out = snapshot(row)
    for key in _HIDDEN:
        out[key] = "(set)" if getattr(row, key) else None
    return out


def _number_free(data: TenantData, extension: str, exclude: uuid.UUID | None = None) -> None:
    extension_free(data, extension, exclude)
    found = data.session.scalar(
        select(ConferenceBridge.id).where(
            ConferenceBridge.tenant_id == data.tenant_id, ConferenceBridge.extension == extension
        )
    )
    if found is not None and found != exclude:
        raise Conflict(f"extension {extension} is already in use", field="extension", rule="unique")


@router.get("/conferences", response_model=Page[BridgeOut])
def list_bridges(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(ConferenceBridge, RES).order_by(ConferenceBridge.extension)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(r) for r in rows], total, paging.limit, paging.offset)


@router.post("/conferences", response_model=BridgeOut, status_code=201)
def create_bridge(body: BridgeIn, data: TenantDep) -> Any:
    data.require(RES, Action.CREATE)
    _number_free(data, body.extension)
    row = ConferenceBridge(
        tenant_id=data.tenant_id,
        name=body.name,
        extension=body.extension,
        pin_hash=hash_password(body.pin) if body.pin else None,
        moderator_pin_hash=hash_password(body.moderator_pin) if body.moderator_pin else None,
        max_parties=body.max_parties,
        announce=body.announce,
    )
    data.session.add(row)
    data.session.flush()
    data.audit(AUDIT, ConferenceBridge.__tablename__, row.id, None, _snap(row), data.tenant_id)
    return _out(row)


@router.get("/conferences/{bridge_id}", response_model=BridgeOut)
def get_bridge(bridge_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data.get(ConferenceBridge, bridge_id, RES))


@router.patch("/conferences/{bridge_id}", response_model=BridgeOut)
def patch_bridge(bridge_id: uuid.UUID, body: BridgePatch, data: TenantDep) -> Any:
    data.require(RES, Action.UPDATE)
    row = data.get(ConferenceBridge, bridge_id, RES)
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "extension", "max_parties", "announce"):
        if required in changes and changes[required] is None:
            changes.pop(required)  # null leaves a field that cannot be empty as it is
    if changes.get("extension") and changes["extension"] != row.extension:
        _number_free(data, changes["extension"], exclude=row.id)
    before = _snap(row)
    changed_secret: set[str] = set()
    for field, column in (("pin", "pin_hash"), ("moderator_pin", "moderator_pin_hash")):
        if field in changes:
            value = changes.pop(field)
            setattr(row, column, hash_password(value) if value else None)
            changed_secret.add(column)
    for key, value in changes.items():
        setattr(row, key, value)
    data.session.flush()
    after = _snap(row)
    diff = {k for k in after if before[k] != after[k] and k != "updated_at"} | changed_secret
    if diff:
        after_shown = {k: ("(changed)" if k in changed_secret and after[k] else after[k]) for k in diff}
        data.audit(
            AUDIT,
            ConferenceBridge.__tablename__,
            row.id,
            {k: before[k] for k in diff},
            after_shown,
            data.tenant_id,
        )
    return _out(row)


@router.delete("/conferences/{bridge_id}", status_code=204)
def delete_bridge(bridge_id: uuid.UUID, data: TenantDep) -> None:
    data.require(RES, Action.DELETE)
    row = data.get(ConferenceBridge, bridge_id, RES)
    data.audit(AUDIT, ConferenceBridge.__tablename__, row.id, _snap(row), None, data.tenant_id)
    data.session.delete(row)
    data.session.flush()


@router.get("/conferences/{bridge_id}/participants", response_model=ParticipantsOut)
def list_participants(bridge_id: uuid.UUID, data: TenantDep, request: Request) -> Any:
    """Who is in the room now (the app server's live view; empty when nobody is)."""
    row = data.get(ConferenceBridge, bridge_id, RES)
    source: Callable[[uuid.UUID, uuid.UUID], list[Any]] | None = getattr(
        request.app.state, "conference_participants", None
    )
    people = source(data.tenant_id, row.id) if source is not None else []
    items = [
        ParticipantOut(
            id=p.id,
            caller=p.caller,
            caller_name=p.caller_name,
            user_id=p.user_id,
            moderator=p.moderator,
            joined_at=p.joined_at,
        )
        for p in people
    ]
    return ParticipantsOut(bridge_id=row.id, count=len(items), max_parties=row.max_parties, items=items)
