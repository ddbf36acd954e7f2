"""CPNI grants, the audit log, and API tokens of a tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import same_tenant
from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.store.credentials import new_token
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import ApiToken, AuditEntry, CpniGrant, TokenKind, User
from centrex.store.policy import Action, Resource
from centrex.store.types import utcnow

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["access"])


# -- CPNI: who may read call records (voip-service-guide.txt §V.12) ---------------------------


class GrantIn(BaseModel):
    user_id: uuid.UUID


class GrantOut(Out):
    id: uuid.UUID
    user_id: uuid.UUID
    granted_by: str
    created_at: datetime


@router.get("/cpni-grants", response_model=Page[GrantOut])
def list_grants(data: TenantDep, paging: PagingDep) -> Any:
    rows, total = data.page(
        data.select(CpniGrant).order_by(CpniGrant.created_at), paging.limit, paging.offset
    )
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/cpni-grants", response_model=GrantOut, status_code=201)
def grant(body: GrantIn, data: TenantDep) -> Any:
    data.require(Resource.CPNI_GRANT, Action.CREATE)
    same_tenant(data, User, body.user_id, "user_id")
    if data.session.scalar(
        select(CpniGrant.id).where(CpniGrant.tenant_id == data.tenant_id, CpniGrant.user_id == body.user_id)
    ):
        raise Conflict("this user already may read call records", field="user_id", rule="unique")
    return data.create(CpniGrant, "cpni.grant", user_id=body.user_id, granted_by=data.principal.label)


@router.delete("/cpni-grants/{grant_id}", status_code=204)
def revoke_grant(grant_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(CpniGrant, grant_id), "cpni.revoke")


# -- audit log --------------------------------------------------------------------------------


class AuditOut(Out):
    id: uuid.UUID
    at: datetime
    actor: str
    actor_role: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("/audit", response_model=Page[AuditOut])
def audit_log(
    data: TenantDep,
    paging: PagingDep,
    action: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
) -> Any:
    stmt = data.select(AuditEntry).order_by(AuditEntry.at.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


# -- tokens -----------------------------------------------------------------------------------


class TokenIn(BaseModel):
    kind: TokenKind = Field(description="user (acts as that user) or developer (CPaaS key)")
    name: str = Field(min_length=1, max_length=100)
    user_id: uuid.UUID | None = None
    expires_at: datetime | None = None


class TokenOut(Out):
    id: uuid.UUID
    kind: TokenKind
    name: str
    user_id: uuid.UUID | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; only its SHA-256 is stored")


@router.get("/tokens", response_model=Page[TokenOut])
def list_tokens(data: TenantDep, paging: PagingDep) -> Any:
    rows, total = data.page(data.select(ApiToken).order_by(ApiToken.created_at), paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, data: TenantDep) -> Any:
    if body.kind is TokenKind.OPERATOR:
        raise Invalid(
            "operator tokens are made with `centrex token create`", field="kind", rule="tenant_kinds"
        )
    if body.kind is TokenKind.USER:
        if body.user_id is None:
            raise Invalid("user_id is required for a user token", field="user_id", rule="required")
        same_tenant(data, User, body.user_id, "user_id")
    elif body.user_id is not None:
        raise Invalid("a developer token belongs to no user", field="user_id", rule="forbidden_with_kind")
    made = new_token()
    token = data.create(
        ApiToken,
        "token.create",
        kind=body.kind,
        name=body.name,
        user_id=body.user_id,
        expires_at=body.expires_at,
        prefix=made.prefix,
        secret_hash=made.secret_hash,
    )
    return {**TokenOut.model_validate(token).model_dump(), "token": made.plaintext}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: uuid.UUID, data: TenantDep) -> None:
    token = data.get(ApiToken, token_id)
    data.require(Resource.TOKEN, Action.DELETE)
    data.update(token, "token.revoke", {"revoked_at": utcnow()}, resource=Resource.TOKEN)
