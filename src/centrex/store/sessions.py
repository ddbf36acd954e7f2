"""Portal sessions (issue 18 §1): made at log-in, found from the cookie, ended by logout, by the
idle or absolute timeout, or by a password reset.

The cookie carries a 256-bit random id; the store keeps only its SHA-256, so a copy of the database
opens no session. The CSRF token is derived from the id (SHA-256 of a fixed label and the id): it
is bound to the session, needs no storage, and cannot be computed by a page that cannot read the
HttpOnly session cookie (the "signed double-submit cookie" of OWASP's CSRF cheat sheet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from centrex.store.access import Principal, operator_principal, user_principal
from centrex.store.models import ApiToken, Operator, Tenant, TokenKind, User
from centrex.store.models.sessions import PortalSession

COOKIE = "centrex_session"
CSRF_COOKIE = "centrex_csrf"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_TOKEN_NAME = "portal login"  # the name of bearer tokens issued by POST /auth/login as=token
# last_seen_at is written at most this often: an idle timeout of minutes needs no write per request.
TOUCH_EVERY = timedelta(seconds=60)
KEEP_ENDED = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: idle (no request) and absolute (since log-in), as OWASP's session
    management cheat sheet recommends for both (settings portal_session_idle_s / _absolute_s)."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Account:
    """A user or an operator who may log in."""

    kind: TokenKind
    id: uuid.UUID
    tenant_id: uuid.UUID | None

    @classmethod
    def of(cls, row: User | Operator) -> Account:
        if isinstance(row, Operator):
            return cls(TokenKind.OPERATOR, row.id, None)
        return cls(TokenKind.USER, row.id, row.tenant_id)

    def columns(self) -> dict[str, object]:
        user = self.kind is TokenKind.USER
        return {
            "kind": self.kind,
            "user_id": self.id if user else None,
            "operator_id": None if user else self.id,
            "tenant_id": self.tenant_id,
        }

    def owns(self, model: type[PortalSession] | type[ApiToken]) -> ColumnElement[bool]:
        """The WHERE clause of this account's rows of `model`."""
        if self.kind is TokenKind.OPERATOR:
            return model.operator_id == self.id
        return model.user_id == self.id

    def row(self, session: Session) -> User | Operator | None:
        if self.kind is TokenKind.OPERATOR:
            return session.get(Operator, self.id)
        return session.get(User, self.id)


@dataclass(frozen=True, slots=True)
class Found:
    principal: Principal
    enroll_only: bool
    session_id: uuid.UUID


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    digest = hashlib.sha256(b"centrex-csrf\x00" + session_id.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_matches(session_id: str, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(csrf_token(session_id), header or "")


def start(
    session: Session,
    account: Account,
    policy: SessionPolicy,
    *,
    enroll_only: bool = False,
    source: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> tuple[str, PortalSession]:
    """A new session: (the id for the cookie, shown once; the row)."""
    now = now or datetime.now(UTC)
    # The account's sessions that ended over a day ago are records no more (no sweep job needed).
    session.execute(
        delete(PortalSession).where(
            account.owns(PortalSession),
            or_(PortalSession.expires_at < now - KEEP_ENDED, PortalSession.revoked_at < now - KEEP_ENDED),
        )
    )
    plaintext = secrets.token_urlsafe(32)
    row = PortalSession(
        **account.columns(),
        id_hash=id_hash(plaintext),
        last_seen_at=now,
        expires_at=now + policy.absolute,
        enroll_only=enroll_only,
        source=(source or "")[:64] or None,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(row)
    session.flush()
    return plaintext, row


def principal_of(account: Account, session: Session, token_id: uuid.UUID) -> Principal | None:
    """The principal a bearer token of this account would have (store/access.py)."""
    if account.kind is TokenKind.OPERATOR:
        op = session.get(Operator, account.id)
        return None if op is None else operator_principal(op, token_id)
    user = session.get(User, account.id)
    tenant = session.get(Tenant, account.tenant_id) if user is not None else None
    if user is None or tenant is None or user.tenant_id != tenant.id:
        return None
    return user_principal(session, tenant, user, token_id)


def lookup(
    session: Session, plaintext: str, policy: SessionPolicy, now: datetime | None = None
) -> Found | None:
    """The principal of a live session, or None. Marks it seen (at most once a minute)."""
    if not plaintext or len(plaintext) > 128:
        return None
    now = now or datetime.now(UTC)
    row = session.scalar(select(PortalSession).where(PortalSession.id_hash == id_hash(plaintext)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + policy.idle <= now:
        return None
    account = Account(row.kind, row.operator_id or row.user_id, row.tenant_id)  # type: ignore[arg-type]
    principal = principal_of(account, session, row.id)
    if principal is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return Found(principal, row.enroll_only, row.id)


def end(session: Session, plaintext: str, now: datetime | None = None) -> bool:
    """Logout: the session is revoked (kept as a record until swept). Through the ORM, so the
    principal cache hears of it (api/portal.py install)."""
    row = session.scalar(select(PortalSession).where(PortalSession.id_hash == id_hash(plaintext)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now or datetime.now(UTC)
    session.flush()
    return True


def revoke_all(session: Session, account: Account, now: datetime | None = None) -> int:
    """Every session of the account, and the bearer tokens its log-ins issued, end now (a password
    reset: whoever held the old password is out)."""
    now = now or datetime.now(UTC)
    sessions = session.scalars(
        select(PortalSession).where(account.owns(PortalSession), PortalSession.revoked_at.is_(None))
    ).all()
    tokens = session.scalars(
        select(ApiToken).where(
            account.owns(ApiToken), ApiToken.name == LOGIN_TOKEN_NAME, ApiToken.revoked_at.is_(None)
        )
    ).all()
    for row in sessions:
        row.revoked_at = now
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(sessions) + len(tokens)
