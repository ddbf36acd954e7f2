"""The accounts that log in to the portal (users and operators): finding them by e-mail without
telling whether one exists, what /auth/me shows of them, and the audit entries of log-ins.

Passwords are argon2 hashes (store/credentials.py). An e-mail with no account is checked against a
dummy hash of the same cost, so a wrong address and a wrong password take the same time and get the
same 401.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.store.access import Principal
from centrex.store.credentials import hash_password, verify_password
from centrex.store.models import AuditEntry, Operator, Role, Tenant, TenantDesignation, TokenKind, User
from centrex.store.models.sessions import TotpFactor
from centrex.store.sessions import Account

_DUMMY_HASH = hash_password("centrex: no such account")
ADMIN_ROLES = frozenset({Role.OPERATOR, Role.OFFICE_ADMIN, Role.BACKUP_ADMIN})


def candidates(session: Session, email: str, tenant: str | None = None) -> list[User | Operator]:
    """Every account whose e-mail is `email` (any case); `tenant` (a SIP domain) narrows users."""
    address = email.strip().lower()
    if not address:
        return []
    users = select(User).where(func.lower(User.email) == address)
    if tenant:
        users = users.join(Tenant, Tenant.id == User.tenant_id).where(Tenant.sip_domain == tenant.lower())
    found: list[User | Operator] = list(session.scalars(users))
    if not tenant:
        found.extend(session.scalars(select(Operator).where(func.lower(Operator.email) == address)))
    return found


def verify(session: Session, email: str, password: str, tenant: str | None = None) -> list[User | Operator]:
    """The accounts `email` and `password` open (usually one; none when either is wrong)."""
    found = candidates(session, email, tenant)
    if not found:
        verify_password(_DUMMY_HASH, password)  # the same work as a wrong password
        return []
    return [row for row in found if verify_password(row.password_hash, password)]


def is_admin(session: Session, account: Account) -> bool:
    """An operator, office administrator or back-up: TOTP is theirs to keep (issue 18 §1)."""
    if account.kind is TokenKind.OPERATOR:
        return True
    roles = session.scalars(
        select(TenantDesignation.role).where(
            TenantDesignation.user_id == account.id, TenantDesignation.tenant_id == account.tenant_id
        )
    ).all()
    return bool(ADMIN_ROLES & set(roles))


def factor_of(session: Session, account: Account) -> TotpFactor | None:
    owner = TotpFactor.operator_id if account.kind is TokenKind.OPERATOR else TotpFactor.user_id
    return session.scalar(
        select(TotpFactor).where(owner == account.id).order_by(TotpFactor.created_at.desc())
    )


def totp_on(session: Session, account: Account) -> bool:
    factor = factor_of(session, account)
    return factor is not None and factor.confirmed_at is not None


def account_of(principal: Principal) -> Account | None:
    """The user or operator behind a principal (None for a developer key)."""
    if principal.operator_id is not None:
        return Account(TokenKind.OPERATOR, principal.operator_id, None)
    if principal.user_id is not None:
        return Account(TokenKind.USER, principal.user_id, principal.tenant_id)
    return None


def label_of(row: User | Operator, session: Session) -> str:
    """The audit log's actor for an account, as its principal would be labelled (store/access.py)."""
    if isinstance(row, Operator):
        return f"operator:{row.email}"
    tenant = session.get(Tenant, row.tenant_id)
    return f"user:{row.extension}@{tenant.sip_domain if tenant else '?'}"


def audit(
    session: Session,
    action: str,
    row: User | Operator,
    actor: str,
    actor_role: str,
    after: dict[str, Any] | None = None,
) -> None:
    """An audit entry of the account's log-in history: the tenant's log for a user (its office
    administrator reads it at GET /tenants/{id}/audit), the operators' for an operator."""
    session.add(
        AuditEntry(
            tenant_id=row.tenant_id if isinstance(row, User) else None,
            actor=actor[:200],
            actor_role=actor_role,
            action=action,
            entity="operators" if isinstance(row, Operator) else "users",
            entity_id=str(row.id),
            before=None,
            after=after,
        )
    )


def me(
    session: Session,
    principal: Principal,
    *,
    auth: str,
    enroll_only: bool = False,
    require_totp_admins: bool = False,
) -> dict[str, Any]:
    """What GET /auth/me answers: enough for the portal to choose its pages."""
    account = account_of(principal)
    row = account.row(session) if account else None
    tenant = session.get(Tenant, principal.tenant_id) if principal.tenant_id else None
    admin = account is not None and bool(ADMIN_ROLES & principal.roles)
    return {
        "kind": principal.kind.value,
        "roles": sorted(r.value for r in principal.roles),
        "primary_role": principal.primary_role,
        "tenant_id": principal.tenant_id,
        "tenant_name": tenant.name if tenant else None,
        "user_id": principal.user_id,
        "operator_id": principal.operator_id,
        "name": row.name if row is not None else principal.label,
        "email": row.email if row is not None else None,
        "totp_enabled": account is not None and totp_on(session, account),
        "totp_required": admin and require_totp_admins,
        "enroll_only": enroll_only,
        "auth": auth,
    }
