"""FastAPI dependencies: one transaction per request, the caller, and the tenant it may see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from centrex.store.access import OperatorData, Principal, TenantData, authenticate


def get_session(request: Request) -> Iterator[Session]:
    """Everything a request changes commits together at the end, or not at all."""
    factory = request.app.state.sessionmaker
    with factory() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    principal = None
    if scheme.lower() == "bearer" and token:
        cache = request.app.state.principals
        principal = cache.get(token)
        if principal is None:
            principal = authenticate(session, token)
            if principal is not None:
                cache.put(token, principal)
    if principal is None:
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def tenant_data(
    session: SessionDep, principal: PrincipalDep, tenant_id: Annotated[uuid.UUID, Path()]
) -> TenantData:
    """Every tenant route depends on this; another tenant's resources are simply not found."""
    return TenantData(session, principal, tenant_id)


def operator_data(session: SessionDep, principal: PrincipalDep) -> OperatorData:
    return OperatorData(session, principal)


TenantDep = Annotated[TenantData, Depends(tenant_data)]
OperatorDep = Annotated[OperatorData, Depends(operator_data)]


# Past this an offset is a mistake, not a page: it would overflow SQLite's 64-bit integers.
MAX_OFFSET = 1_000_000_000


class Paging:
    """?limit=&offset= of every list, bounded (a 422 naming the field, never a database error)."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PagingDep = Annotated[Paging, Depends(Paging)]
