"""A tenant's CPaaS account: the account SID and auth token of the Twilio-compatible API (issue 16 §2).

One account per tenant, made on first use. The auth token is 32 hex digits like Twilio's, sealed at
rest (store/sealed.py) because it also keys the X-Twilio-Signature of every request we send to the
tenant's apps (cpaas/signing.py), so it must be given back in clear to sign.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.cpaas.sids import new_sid
from centrex.store.models.cpaas_accounts import CpaasAccount
from centrex.store.sealed import seal, unseal


@dataclass(frozen=True)
class Account:
    tenant_id: uuid.UUID
    sid: str
    auth_token: str
    friendly_name: str = ""


def _account(session: Session, row: CpaasAccount) -> Account:
    return Account(row.tenant_id, row.sid, unseal(session, row.auth_token_sealed), row.friendly_name)


def ensure_account(session: Session, tenant_id: uuid.UUID, *, friendly_name: str = "") -> Account:
    """The tenant's account, made now if it has none (flushed, committed with the caller's work)."""
    row = session.scalar(select(CpaasAccount).where(CpaasAccount.tenant_id == tenant_id))
    if row is None:
        row = CpaasAccount(
            tenant_id=tenant_id,
            sid=new_sid("AC"),
            auth_token_sealed=seal(session, secrets.token_hex(16)),
            friendly_name=friendly_name,
        )
        session.add(row)
        session.flush()
    return _account(session, row)


def account_for_tenant(session: Session, tenant_id: uuid.UUID) -> Account | None:
    row = session.scalar(select(CpaasAccount).where(CpaasAccount.tenant_id == tenant_id))
    return None if row is None else _account(session, row)


def account_for_sid(session: Session, sid: str) -> Account | None:
    row = session.scalar(select(CpaasAccount).where(CpaasAccount.sid == sid))
    return None if row is None else _account(session, row)


def rotate_token(session: Session, tenant_id: uuid.UUID) -> Account:
    """A new auth token; the old one stops working at once (Twilio's secondary-token grace is not kept)."""
    account = ensure_account(session, tenant_id)
    row = session.scalar(select(CpaasAccount).where(CpaasAccount.tenant_id == tenant_id))
    assert row is not None
    row.auth_token_sealed = seal(session, secrets.token_hex(16))
    session.flush()
    return Account(tenant_id, account.sid, unseal(session, row.auth_token_sealed), row.friendly_name)


def check_credentials(session: Session, sid: str, token: str) -> Account | None:
    """The account whose SID and auth token these are, or None — the same work either way an unknown
    SID or a wrong token, so the answer's timing names neither (no account enumeration)."""
    account = account_for_sid(session, sid)
    expected = account.auth_token if account is not None else secrets.token_hex(16)
    ok = hmac.compare_digest(expected.encode(), token.encode())
    return account if ok and account is not None else None
