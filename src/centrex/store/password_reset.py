"""Password reset by e-mail (issue 18 §1): single-use tokens, kept as their SHA-256, valid one hour.

The rule a new password must meet is NIST SP 800-63B §5.1.1.2's: long enough (here 10 characters,
as /tenants/{t}/me/password already asks), not a well-known password, not the account's own
e-mail, not one character repeated — no composition rules, which that guideline advises against.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.store.credentials import hash_password
from centrex.store.errors import Invalid
from centrex.store.models import Operator, TokenKind, User
from centrex.store.models.sessions import PasswordResetToken
from centrex.store.sessions import Account, revoke_all

MIN_LENGTH = 10
MAX_LENGTH = 200
MAX_PER_HOUR = 3  # reset mails per account per hour: enough for a typo, not a mail bomb
COMMON = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "qwertyuiop",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "letmein1234",
        "welcome123",
        "administrator",
        "changeme123",
        "qwerty12345",
        "abcdefghij",
        "1q2w3e4r5t",
        "centrex123",
    }
)


def check_password(password: str, email: str | None = None, field: str = "password") -> None:
    """Raise Invalid (422) naming the rule a new password breaks."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"{field}: at least {MIN_LENGTH} characters", field=field, rule="min_length")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"{field}: at most {MAX_LENGTH} characters", field=field, rule="max_length")
    lowered = password.lower()
    if len(set(password)) < 3 or lowered in COMMON:
        raise Invalid(f"{field}: this password is too easy to guess", field=field, rule="common_password")
    if email and lowered == email.strip().lower():
        raise Invalid(f"{field}: the password may not be the e-mail address", field=field, rule="not_email")


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue(session: Session, account: Account, ttl: timedelta, now: datetime | None = None) -> str | None:
    """A new token for the account (its plaintext, to mail), or None past MAX_PER_HOUR."""
    now = now or datetime.now(UTC)
    owner = (
        PasswordResetToken.operator_id if account.kind is TokenKind.OPERATOR else PasswordResetToken.user_id
    )
    recent = session.scalar(
        select(func.count())
        .select_from(PasswordResetToken)
        .where(owner == account.id, PasswordResetToken.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= MAX_PER_HOUR:
        return None
    plaintext = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(**account.columns(), token_hash=token_hash(plaintext), expires_at=now + ttl)
    )
    session.flush()
    return plaintext


def redeem(
    session: Session, plaintext: str, password: str, now: datetime | None = None
) -> tuple[User | Operator, int] | None:
    """Set the password of the token's account: (the account, sessions ended), or None when the
    token is unknown, used or expired (checked before the password rule, which names the field)."""
    now = now or datetime.now(UTC)
    if not plaintext or len(plaintext) > 128:
        return None
    row = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(plaintext))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    account = Account(row.kind, row.operator_id or row.user_id, row.tenant_id)  # type: ignore[arg-type]
    target = account.row(session)
    if target is None:
        return None
    check_password(password, target.email)
    target.password_hash = hash_password(password)
    # This token and every other outstanding one of the account are used up.
    owner = (
        PasswordResetToken.operator_id if account.kind is TokenKind.OPERATOR else PasswordResetToken.user_id
    )
    for other in session.scalars(
        select(PasswordResetToken).where(owner == account.id, PasswordResetToken.used_at.is_(None))
    ):
        other.used_at = now
    ended = revoke_all(session, account, now)
    session.flush()
    return target, ended
