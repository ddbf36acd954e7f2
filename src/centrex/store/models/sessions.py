"""Portal log-in: server-side sessions, TOTP second factors and password-reset tokens (issue 18 §1).

Each row belongs to exactly one user or one operator (the other id is null). Secrets are never
stored as given: a session id and a reset token only as their SHA-256 (256-bit random values need
no slow hash), a TOTP secret sealed with the key file (store/sealed.py), since it must be read back
to check a code.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row
from centrex.store.models.enums import TokenKind
from centrex.store.types import EnumText, UTCDateTime


class AccountRef:
    """Mixin: the user or operator a row is about (exactly one of the two ids is set)."""

    kind: Mapped[TokenKind] = mapped_column(EnumText(TokenKind))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    operator_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("operators.id", ondelete="CASCADE"), index=True, default=None
    )
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )


class PortalSession(Base, Row, AccountRef):
    """One log-in of the portal. The cookie holds the id; only its SHA-256 is kept here.

    Ends at ``expires_at`` (absolute), after the idle timeout past ``last_seen_at``, or when
    ``revoked_at`` is set (logout, password reset)."""

    __tablename__ = "portal_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # An administrator who must enrol TOTP first (setting portal_require_totp_admins) gets a session
    # that opens only the enrolment routes.
    enroll_only: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(200), default=None)


class TotpFactor(Base, Row, AccountRef):
    """An account's TOTP secret (RFC 6238). Pending until a code confirms it (``confirmed_at``);
    ``last_step`` is the last time step a code was accepted for, so a code is never used twice."""

    __tablename__ = "totp_factors"
    secret_sealed: Mapped[str] = mapped_column(String(400))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_step: Mapped[int] = mapped_column(Integer, default=0)


class PasswordResetToken(Base, Row, AccountRef):
    """A single-use password-reset token mailed to the account's address (SHA-256 kept)."""

    __tablename__ = "password_reset_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
