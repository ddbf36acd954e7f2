"""A tenant's programmable-voice/messaging account (issue 16 §2): the Twilio-style account SID and
auth token a developer's code authenticates with (HTTP Basic) and that signs every request we make
to the tenant's apps (X-Twilio-Signature is an HMAC keyed by the auth token, so the token is sealed,
not hashed: store/sealed.py)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned


class CpaasAccount(Base, TenantOwned):
    __tablename__ = "cpaas_accounts"
    __table_args__ = (UniqueConstraint("tenant_id"), UniqueConstraint("sid"))
    sid: Mapped[str] = mapped_column(String(34))  # "AC" + 32 hex digits, as Twilio's
    auth_token_sealed: Mapped[str] = mapped_column(String(400))
    friendly_name: Mapped[str] = mapped_column(String(100), default="")
