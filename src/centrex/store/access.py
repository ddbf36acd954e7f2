"""The data-access layer: the one place where tenancy and roles are enforced.

Routes never build queries of their own for tenant data: they ask a `TenantData` (bound to the
caller and one tenant) to list, get, create, update or delete. It filters every query by tenant,
checks the policy table, turns another tenant's row into NotFound, and writes the audit entry in the
same transaction as the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Connection, Integer, Select, bindparam, func, inspect, select
from sqlalchemy.orm import Session

from centrex.store.credentials import split_token, token_matches
from centrex.store.errors import Forbidden, NotFound
from centrex.store.models import (
    ApiToken,
    AuditEntry,
    BillingPlan,
    BillingPlanFeature,
    BundleSubscriptionRow,
    CallDetail,
    CallRestrictionClass,
    CpniGrant,
    CreditNoteRow,
    Device,
    DeviceButton,
    DirectoryEntry,
    DisputeRow,
    HuntGroup,
    HuntGroupMember,
    InvoiceLineRow,
    InvoiceRow,
    Mailbox,
    Operator,
    OutageRow,
    PaymentRow,
    PhoneNumber,
    RatingRun,
    Role,
    Site,
    Tenant,
    TenantDesignation,
    TokenKind,
    User,
)
from centrex.store.models.base import Base
from centrex.store.policy import Action, Resource, may

M = TypeVar("M", bound=Base)

# Which policy entry guards which table.
RESOURCE_OF: dict[type[Base], Resource] = {
    Site: Resource.SITE,
    User: Resource.USER,
    Device: Resource.DEVICE,
    DeviceButton: Resource.DEVICE,
    Mailbox: Resource.MAILBOX,
    PhoneNumber: Resource.NUMBER,
    HuntGroup: Resource.HUNT_GROUP,
    HuntGroupMember: Resource.HUNT_GROUP,
    CallRestrictionClass: Resource.RESTRICTION_CLASS,
    DirectoryEntry: Resource.DIRECTORY,
    TenantDesignation: Resource.DESIGNATION,
    CpniGrant: Resource.CPNI_GRANT,
    ApiToken: Resource.TOKEN,
    AuditEntry: Resource.AUDIT,
    CallDetail: Resource.CDR,
    BillingPlan: Resource.BILLING,
    BillingPlanFeature: Resource.BILLING,
    BundleSubscriptionRow: Resource.BILLING,
    RatingRun: Resource.BILLING,
    InvoiceRow: Resource.BILLING,
    InvoiceLineRow: Resource.BILLING,
    CreditNoteRow: Resource.BILLING,
    PaymentRow: Resource.BILLING,
    OutageRow: Resource.BILLING,
    DisputeRow: Resource.DISPUTE,
}

SECRET_COLUMNS = frozenset({"password_hash", "ha1_md5", "ha1_sha256", "pin_hash", "secret_hash"})


@dataclass(frozen=True)
class Principal:
    """Who is calling. For a user token the roles follow the tenant's current designations."""

    kind: TokenKind
    token_id: uuid.UUID
    roles: frozenset[Role]
    label: str
    tenant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    operator_id: uuid.UUID | None = None
    cpni_granted: bool = False

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles

    @property
    def primary_role(self) -> str:
        for role in (Role.OPERATOR, Role.OFFICE_ADMIN, Role.BACKUP_ADMIN, Role.CPNI_ADMIN, Role.DEVELOPER):
            if role in self.roles:
                return role.value
        return Role.END_USER.value


def authenticate(session: Session, plaintext: str, now: datetime | None = None) -> Principal | None:
    """The principal behind a bearer token, or None for any token that is not valid now."""
    prefix = split_token(plaintext)
    if prefix is None:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not token_matches(plaintext, token.secret_hash):
        return None
    now = now or datetime.now(UTC)
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.kind is TokenKind.OPERATOR:
        op = session.get(Operator, token.operator_id)
        return None if op is None else operator_principal(op, token.id)
    tenant = session.get(Tenant, token.tenant_id)
    if tenant is None:
        return None
    if token.kind is TokenKind.DEVELOPER:
        return Principal(
            TokenKind.DEVELOPER,
            token.id,
            frozenset({Role.DEVELOPER}),
            f"developer:{token.name}",
            tenant_id=tenant.id,
        )
    user = session.get(User, token.user_id)
    if user is None or user.tenant_id != tenant.id:
        return None
    return user_principal(session, tenant, user, token.id)


def operator_principal(op: Operator, token_id: uuid.UUID) -> Principal:
    """An operator's principal: the same for a bearer token and a portal session (api/deps.py)."""
    return Principal(
        TokenKind.OPERATOR, token_id, frozenset({Role.OPERATOR}), f"operator:{op.email}", operator_id=op.id
    )


def user_principal(session: Session, tenant: Tenant, user: User, token_id: uuid.UUID) -> Principal:
    """A user's principal, roles from the tenant's current designations: the same for a bearer
    token and a portal session (api/deps.py)."""
    designated = session.scalars(
        select(TenantDesignation.role).where(
            TenantDesignation.tenant_id == tenant.id, TenantDesignation.user_id == user.id
        )
    ).all()
    granted = session.scalar(
        select(func.count())
        .select_from(CpniGrant)
        .where(CpniGrant.tenant_id == tenant.id, CpniGrant.user_id == user.id)
    )
    return Principal(
        TokenKind.USER,
        token_id,
        frozenset({Role.END_USER, *designated}),
        f"user:{user.extension}@{tenant.sip_domain}",
        tenant_id=tenant.id,
        user_id=user.id,
        cpni_granted=bool(granted),
    )


def snapshot(obj: Base) -> dict[str, Any]:
    """A JSON-able picture of a row for the audit log; secrets show only whether they are set."""
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if attr.key in SECRET_COLUMNS:
            out[attr.key] = "(set)" if value else None
        else:
            out[attr.key] = jsonable(value)
    return out


def apply_changes(
    session: Session, obj: Base, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Set the fields, flush, and return (before, after) of what really changed, or None.

    Secrets are compared by value but shown only as "(set)" / "(changed)", so rotating a password is
    audited without the audit log ever holding it."""
    raw_before = {k: getattr(obj, k) for k in changes}
    before = snapshot(obj)
    for key, value in changes.items():
        setattr(obj, key, value)
    session.flush()
    after = snapshot(obj)
    changed = {k for k in after if before.get(k) != after.get(k) and k != "updated_at"}
    for key in SECRET_COLUMNS & changes.keys():
        if raw_before[key] != getattr(obj, key):
            changed.add(key)
            after[key] = "(changed)" if getattr(obj, key) else None
    if not changed:
        return None
    return {k: before[k] for k in changed}, {k: after[k] for k in changed}


def jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class AccessBase:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def require(self, resource: Resource, action: Action) -> None:
        if not may(self.principal.roles, resource, action, cpni_granted=self.principal.cpni_granted):
            raise Forbidden(
                f"role {self.principal.primary_role!r} may not {action.value} {resource.value}",
                rule=f"{resource.value}:{action.value}",
            )

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: Any,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        tenant_id: uuid.UUID | None,
    ) -> None:
        self.session.add(
            AuditEntry(
                tenant_id=tenant_id,
                actor=self.principal.label,
                actor_role=self.principal.primary_role,
                action=action,
                entity=entity,
                entity_id=None if entity_id is None else str(entity_id),
                before=before,
                after=after,
            )
        )


_ROW_BY_ID: dict[tuple[type[Any], tuple[str, ...]], Select[Any]] = {}


def _row_by_id(model: type[Any], names: tuple[str, ...]) -> Select[Any]:
    """`SELECT <names> FROM <model> WHERE id = :id AND tenant_id = :tenant`, built once per shape."""
    stmt = _ROW_BY_ID.get((model, names))
    if stmt is None:
        table = model.__table__
        stmt = select(*(table.c[name] for name in names)).where(
            table.c.id == bindparam("id"), table.c.tenant_id == bindparam("tenant")
        )
        _ROW_BY_ID[(model, names)] = stmt
    return stmt


_BOUND: dict[tuple[type[Any], Any], Select[Any]] = {}
_KEPT: set[int] = set()  # ids of _BOUND's statements (kept for the life of the process)
BOUND_SHAPES = 512  # statements kept; a shape past it is built for its request alone


def _count_of(stmt: Select[Any]) -> Select[Any]:
    """`SELECT count(*)` of `stmt`'s rows: its own FROM and WHERE with count(*) for columns when
    that counts the same rows (cheaper to build than the general form, a count over the statement
    as a subquery, which anything grouped, distinct or limited still gets)."""
    if stmt._distinct or stmt._group_by_clauses or stmt._having_criteria or stmt._limit_clause is not None:
        return select(func.count()).select_from(stmt.order_by(None).subquery())
    if stmt._offset_clause is not None or stmt._setup_joins or stmt._fetch_clause is not None:
        return select(func.count()).select_from(stmt.order_by(None).subquery())
    return stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)


# A bound statement's page (limit and offset as parameters) and count, made once: the same
# statement objects every time, so SQLAlchemy's cache key of each is worked out once, not per
# request (issue 14). By the statement's id, the statement kept so the id stays its own.
_PAGED: dict[int, tuple[Select[Any], Select[Any], Select[Any]]] = {}


def _paged(stmt: Select[Any]) -> tuple[Select[Any], Select[Any]]:
    known = _PAGED.get(id(stmt))
    if known is not None and known[0] is stmt:
        return known[1], known[2]
    limit, offset = bindparam("page_limit", type_=Integer()), bindparam("page_offset", type_=Integer())
    paged = stmt.limit(limit).offset(offset)
    count = _count_of(stmt)
    if id(stmt) in _KEPT:  # one of bound_select's kept statements (not a one-off past its limit)
        _PAGED[id(stmt)] = (stmt, paged, count)
    return paged, count


class TenantData(AccessBase):
    """All reads and writes of one tenant's data by one principal."""

    def __init__(self, session: Session, principal: Principal, tenant_id: uuid.UUID) -> None:
        super().__init__(session, principal)
        tenant = session.get(Tenant, tenant_id)
        # Another tenant is indistinguishable from no tenant.
        if tenant is None or (not principal.is_operator and principal.tenant_id != tenant_id):
            raise NotFound("tenant not found", field="tenant_id")
        self.tenant = tenant
        self.tenant_id = tenant_id

    # -- reads -------------------------------------------------------------------------------
    def select(self, model: type[M], resource: Resource | None = None) -> Select[Any]:
        self.require(resource or RESOURCE_OF[model], Action.READ)
        return select(model).where(model.tenant_id == self.tenant_id)  # type: ignore[attr-defined]

    def bound_select(
        self,
        model: type[M],
        shape: Any,
        build: Callable[[Select[Any]], Select[Any]],
        resource: Resource | None = None,
    ) -> tuple[Select[Any], dict[str, Any]]:
        """`select`, built once per `shape` and reused: the tenant is a bound parameter
        (`:tenant`, given in the returned parameters), `build` adds what the request's shape
        needs, with bindparam()s for its values. The same policy check on every call; a busy
        search then costs no statement building (~10 % of a CDR search, issue 14)."""
        self.require(resource or RESOURCE_OF[model], Action.READ)
        key = (model, shape)
        stmt = _BOUND.get(key)
        if stmt is None:
            stmt = build(select(model).where(model.tenant_id == bindparam("tenant")))  # type: ignore[attr-defined]
            if len(_BOUND) < BOUND_SHAPES:
                _BOUND[key] = stmt
                _KEPT.add(id(stmt))
        return stmt, {"tenant": self.tenant_id}

    def get(self, model: type[M], obj_id: uuid.UUID, resource: Resource | None = None) -> M:
        self.require(resource or RESOURCE_OF[model], Action.READ)
        obj = self.session.get(model, obj_id)
        if obj is None or getattr(obj, "tenant_id", None) != self.tenant_id:
            raise NotFound(f"{model.__tablename__.rstrip('s')} {obj_id} not found", field="id")
        return obj

    def get_row(
        self, model: type[M], obj_id: uuid.UUID, names: tuple[str, ...], resource: Resource | None = None
    ) -> dict[str, Any]:
        """`get` read as a plain row of the columns `names`, for an answer that needs no ORM object
        (the same check and the same 404; a third of the CPU of loading the object)."""
        self.require(resource or RESOURCE_OF[model], Action.READ)
        stmt = _row_by_id(model, names)
        row = self._rows_connection().execute(stmt, {"id": obj_id, "tenant": self.tenant_id}).first()
        if row is None:
            raise NotFound(f"{model.__tablename__.rstrip('s')} {obj_id} not found", field="id")
        return dict(zip(row._fields, row, strict=True))

    def _rows_connection(self) -> Connection:
        """The session's own connection (its transaction) for a read of plain rows: the same SQL
        without the ORM's result machinery (~30 µs a query, issue 14). What the session has
        pending is flushed first, as its own autoflush would."""
        if self.session.autoflush:
            self.session.flush()  # returns at once when nothing is pending
        return self.session.connection()

    def page(
        self,
        stmt: Select[Any],
        limit: int,
        offset: int,
        rows: bool = False,
        params: dict[str, Any] | None = None,
    ) -> tuple[list[Any], int]:
        """One page of `stmt`'s first column (`rows`: its whole rows) and the number of rows in all
        pages.

        A page that is not full is the last one, so its total is known without a count query
        (a window count(*) OVER () was tried and is 20x slower when many rows match: every match
        is read, docs/performance.md "API")."""
        if params is not None:  # a bound statement (bound_select): its page and count are too
            paged, count = _paged(stmt)
            params = {**params, "page_limit": limit, "page_offset": offset}
        else:
            paged, count = stmt.limit(limit).offset(offset), None
        if rows:  # plain rows: read on the session's connection, no ORM result machinery
            conn = self._rows_connection()
            found = list(conn.execute(paged, params).all())
        else:
            found = list(self.session.scalars(paged, params).all())
        if 0 < len(found) < limit or (offset == 0 and not found):
            return found, offset + len(found)
        if count is None:
            count = _count_of(stmt)
        if rows:
            return found, conn.scalar(count, params) or 0
        return found, self.session.scalar(count, params) or 0

    # -- writes ------------------------------------------------------------------------------
    def create(self, model: type[M], action: str, resource: Resource | None = None, **values: Any) -> M:
        self.require(resource or RESOURCE_OF[model], Action.CREATE)
        obj = model(tenant_id=self.tenant_id, **values)
        self.session.add(obj)
        self.session.flush()
        self.audit(action, model.__tablename__, obj.id, None, snapshot(obj), self.tenant_id)
        return obj

    def add_parts(self, model: type[M], rows: list[dict[str, Any]], resource: Resource | None = None) -> None:
        """Insert the parts of a document just created with `create` (an invoice's lines, a batch of
        call records): policy-checked and tenant-scoped like `create`, without one audit entry per
        part — the parent's entry (or the caller's summary entry) records the change."""
        self.require(resource or RESOURCE_OF[model], Action.CREATE)
        if rows:
            self.session.add_all(model(**{**row, "tenant_id": self.tenant_id}) for row in rows)
            self.session.flush()

    def update(self, obj: M, action: str, changes: dict[str, Any], resource: Resource | None = None) -> M:
        self.require(resource or RESOURCE_OF[type(obj)], Action.UPDATE)
        self._own(obj)
        diff = apply_changes(self.session, obj, changes)
        if diff:
            self.audit(action, type(obj).__tablename__, obj.id, *diff, self.tenant_id)
        return obj

    def delete(self, obj: M, action: str, resource: Resource | None = None) -> None:
        self.require(resource or RESOURCE_OF[type(obj)], Action.DELETE)
        self._own(obj)
        self.audit(
            action,
            type(obj).__tablename__,
            obj.id,
            snapshot(obj),
            None,
            self.tenant_id,
        )
        self.session.delete(obj)
        self.session.flush()

    def _own(self, obj: Base) -> None:
        if getattr(obj, "tenant_id", None) != self.tenant_id:
            raise NotFound("not found", field="id")

    # -- the caller's own user ---------------------------------------------------------------
    def me(self) -> User:
        self.require(Resource.SELF, Action.READ)
        if self.principal.user_id is None:
            raise NotFound("this token belongs to no user", field="token")
        user = self.session.get(User, self.principal.user_id)
        if user is None or user.tenant_id != self.tenant_id:
            raise NotFound("user not found", field="token")
        return user


class OperatorData(AccessBase):
    """Operator-wide data: tenants and the number pool. Every method checks the operator role."""

    def require_operator(self) -> None:
        if not self.principal.is_operator:
            # Not 403: non-operators should not learn that operator routes exist in any useful way.
            raise NotFound("not found")

    def create(self, model: type[M], action: str, **values: Any) -> M:
        self.require_operator()
        obj = model(**values)
        self.session.add(obj)
        self.session.flush()
        self.audit(
            action,
            model.__tablename__,
            obj.id,
            None,
            snapshot(obj),
            getattr(obj, "tenant_id", None) or (obj.id if isinstance(obj, Tenant) else None),
        )
        return obj

    def update(self, obj: M, action: str, changes: dict[str, Any]) -> M:
        self.require_operator()
        diff = apply_changes(self.session, obj, changes)
        if diff:
            tenant_id = obj.id if isinstance(obj, Tenant) else getattr(obj, "tenant_id", None)
            self.audit(action, type(obj).__tablename__, obj.id, *diff, tenant_id)
        return obj
