"""FastAPI dependencies: one transaction per request, the caller, and the tenant it may see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated, Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Path, Query, Request
from sqlalchemy import Select, or_
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from centrex.api.portal import session_principal
from centrex.store.access import AccessBase, OperatorData, Principal, TenantData, authenticate
from centrex.store.errors import Invalid, NotFound
from centrex.store.models import Tenant
from centrex.store.sessions import COOKIE as SESSION_COOKIE

# The request's session, for the route that runs its endpoint and commit in one thread hop
# (api/dispatch.py one_hop). Set by get_session in the request's own task.
current_session: ContextVar[Session | None] = ContextVar("centrex_api_session", default=None)


# The end of a request (commit or rollback, and the connection back to the pool) runs on a
# thread of its own limiter, never waiting for one of the 40 shared tokens: a request holding a
# connection can always give it back (api/admission.py has the whole argument; as fastapi's own
# contextmanager_in_threadpool does for sync generator dependencies).
def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Everything a request changes commits together at the end, or not at all.

    Opened on the event loop (a Session takes no connection until its first query), so a request
    spends no worker thread on it; closed on a thread of its own (_finish)."""
    session = request.app.state.sessionmaker()
    token = current_session.set(session)
    try:
        yield session
    except BaseException:
        await anyio.to_thread.run_sync(_finish, session, False, limiter=CapacityLimiter(1))
        raise
    finally:
        current_session.reset(token)
    if session.info.pop("committed", False) and not session.in_transaction():
        session.close()  # committed with the endpoint (one_hop): no connection, no I/O left
        return
    await anyio.to_thread.run_sync(_finish, session, True, limiter=CapacityLimiter(1))


# scope="function": the commit ends before the response is sent, so a 2xx means stored (the
# default, "request", would commit after the client already had its answer).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    principal = None
    if scheme.lower() == "bearer" and token:
        cache = request.app.state.principals
        principal = cache.get(token)  # on the event loop: a known caller costs no thread
        if principal is None:
            principal = await run_in_threadpool(authenticate, session, token)
            if principal is not None:
                cache.put(token, principal)
    elif not header and (cookie := request.cookies.get(SESSION_COOKIE)):
        # The portal's session cookie: the same Principal, plus a CSRF check (api/portal.py).
        principal = await session_principal(request, session, cookie)
    if principal is None:
        raise HTTPException(
            401,
            "a valid bearer token (or portal session) is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class KnownTenantData(TenantData):
    """TenantData for a tenant this process has just seen exist (PrincipalCache.tenant_known):
    the caller's right to it is checked at once, the Tenant row is read only if a route asks."""

    def __init__(self, session: Session, principal: Principal, tenant_id: uuid.UUID) -> None:
        AccessBase.__init__(self, session, principal)
        if not principal.is_operator and principal.tenant_id != tenant_id:
            raise NotFound("tenant not found", field="tenant_id")
        self.tenant_id = tenant_id
        self._tenant: Tenant | None = None

    @property
    def tenant(self) -> Tenant:  # type: ignore[override]
        if self._tenant is None:
            tenant = self.session.get(Tenant, self.tenant_id)
            if tenant is None:  # removed by another process within the cache's few seconds
                raise NotFound("tenant not found", field="tenant_id")
            self._tenant = tenant
        return self._tenant


async def tenant_data(
    request: Request, session: SessionDep, principal: PrincipalDep, tenant_id: Annotated[uuid.UUID, Path()]
) -> TenantData:
    """Every tenant route depends on this; another tenant's resources are simply not found.

    Async: a tenant seen a moment ago costs no query and no worker thread."""
    cache = request.app.state.principals
    if cache.tenant_known(tenant_id):
        return KnownTenantData(session, principal, tenant_id)
    data = await run_in_threadpool(TenantData, session, principal, tenant_id)
    cache.remember_tenant(tenant_id)
    return data


async def operator_data(session: SessionDep, principal: PrincipalDep) -> OperatorData:
    return OperatorData(session, principal)  # no query: async, no worker thread


TenantDep = Annotated[TenantData, Depends(tenant_data)]
OperatorDep = Annotated[OperatorData, Depends(operator_data)]


# Past this an offset is a mistake, not a page: it would overflow SQLite's 64-bit integers.
MAX_OFFSET = 1_000_000_000


class Paging:
    """?limit=&offset= of every list, bounded (a 422 naming the field, never a database error)."""

    def __init__(self, limit: int = 50, offset: int = 0) -> None:
        self.limit = limit
        self.offset = offset


async def paging(
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)  # async: no worker thread for what needs none


PagingDep = Annotated[Paging, Depends(paging)]


class Direction(StrEnum):
    """?direction= of a list's ?order= (as Wazo's API has them)."""

    ASC = "asc"
    DESC = "desc"


def like_pattern(text: str) -> str:
    """`%text%` for LIKE with the caller's own % and _ taken literally (escape character "\\")."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Listing(Paging):
    """?limit&offset, plus ?sort=field,-field and ?search= of a list (as Wazo's `order`/`direction`
    and `search`, in the `sort` form of JSON:API): sorting only by the fields the endpoint allows,
    searching a case-insensitive substring of the columns it names."""

    def __init__(
        self,
        limit: int,
        offset: int,
        sort: list[tuple[Any, bool]],
        search: str | None,
        searchable: tuple[Any, ...],
    ) -> None:
        super().__init__(limit, offset)
        self.sort = sort  # (column, descending), in the order asked
        self.search = search
        self.searchable = searchable

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """`stmt` searched and sorted as asked; its own order stays as the tie-break."""
        if self.search and self.searchable:
            pattern = like_pattern(self.search)
            stmt = stmt.where(or_(*(c.ilike(pattern, escape="\\") for c in self.searchable)))
        if self.sort:
            asked = [c.desc() if desc else c.asc() for c, desc in self.sort]
            stmt = stmt.order_by(None).order_by(*asked, *stmt._order_by_clauses)
        return stmt


def _parse_sort(text: str | None, sortable: Mapping[str, Any]) -> list[tuple[Any, bool]]:
    out: list[tuple[Any, bool]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        name = part.lstrip("+-")
        if name not in sortable:
            raise Invalid(
                f"cannot sort by {name!r}; sortable fields: {', '.join(sortable)}",
                field="sort",
                rule="sortable",
            )
        out.append((sortable[name], desc))
    return out


def listing(sortable: Mapping[str, Any], searchable: tuple[Any, ...] = ()) -> Callable[..., Any]:
    """The list dependency of an endpoint, used as `Annotated[Listing, Depends(listing(...))]`:
    `sortable` maps the field names a caller may sort by to
    their columns; `searchable` are the columns ?search= looks in (none: no ?search)."""
    sort_doc = f"comma-separated fields to sort by, '-' for descending: {', '.join(sortable)}"
    search_doc = "case-insensitive substring of " + ", ".join(getattr(c, "key", str(c)) for c in searchable)

    async def with_search(
        limit: int = 50, offset: int = 0, sort: str | None = None, search: str | None = None
    ) -> Listing:
        return Listing(limit, offset, _parse_sort(sort, sortable), search, searchable)

    async def without_search(limit: int = 50, offset: int = 0, sort: str | None = None) -> Listing:
        return Listing(limit, offset, _parse_sort(sort, sortable), None, ())

    # The parameters' documented types, as objects: this module's string annotations could not see
    # the texts above.
    params: dict[str, Any] = {
        "limit": Annotated[int, Query(ge=1, le=500, description="items per page")],
        "offset": Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")],
        "sort": Annotated[str | None, Query(max_length=200, description=sort_doc)],
        "search": Annotated[str | None, Query(max_length=200, description=search_doc)],
        "return": Listing,
    }
    with_search.__annotations__ = params
    without_search.__annotations__ = {k: v for k, v in params.items() if k != "search"}
    return with_search if searchable else without_search
