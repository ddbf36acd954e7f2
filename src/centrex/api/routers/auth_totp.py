"""TOTP two-factor log-in of the caller's own account (issue 18 §1; store/totp.py).

POST /auth/totp starts enrolment (a new secret, sealed at rest, and its otpauth:// URI for the
authenticator app's QR code); POST /auth/totp/confirm with a code from the app turns it on; from
then on every log-in needs a code. POST /auth/totp/disable with a code turns it off — except for
an operator, office administrator or back-up when the setting portal_require_totp_admins is on
("a taken-over admin account forwarding lines abroad is how toll fraud starts").

A session that may only enrol (an administrator without TOTP while that setting is on) becomes a
full session once its code is confirmed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from centrex.api import accounts
from centrex.api.deps import PrincipalDep, SessionDep
from centrex.api.portal import config_of
from centrex.store import sessions as portal_sessions
from centrex.store import totp
from centrex.store.access import Principal
from centrex.store.errors import Conflict, Forbidden, Invalid
from centrex.store.models import User
from centrex.store.models.sessions import PortalSession
from centrex.store.sessions import Account

router = APIRouter(prefix="/auth/totp", tags=["auth"])


class Enrolment(BaseModel):
    secret: str = Field(description="base32, for typing into an authenticator app by hand")
    otpauth_uri: str = Field(description="otpauth://totp/... for a QR code")
    confirmed: bool = False


class CodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$", description="the app's 6 digits")


class TotpState(BaseModel):
    totp_enabled: bool
    confirmed_at: datetime | None = None


def _account(principal: Principal) -> Account:
    account = accounts.account_of(principal)
    if account is None:
        raise Forbidden("a developer key has no account to protect with TOTP", rule="totp:account")
    return account


def _row(session: Session, account: Account) -> Any:
    row = account.row(session)
    if row is None:
        raise Forbidden("the account of this credential is gone", rule="totp:account")
    return row


def _enroll(session: Session, principal: Principal) -> dict[str, Any]:
    account = _account(principal)
    factor = accounts.factor_of(session, account)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict(
            "TOTP is already on: disable it first to enrol a new app", field="totp", rule="enabled"
        )
    row = _row(session, account)
    label = row.email or (row.extension if isinstance(row, User) else row.name)
    _, secret, uri = totp.enroll(session, account, label)
    accounts.audit(session, "auth.totp_enrol", row, principal.label, principal.primary_role)
    return {"secret": secret, "otpauth_uri": uri, "confirmed": False}


@router.post("", response_model=Enrolment, status_code=201)
async def enroll_totp(session: SessionDep, principal: PrincipalDep) -> Any:
    return await run_in_threadpool(_enroll, session, principal)


def _confirm(session: Session, principal: Principal, code: str, cookie: str | None) -> dict[str, Any]:
    account = _account(principal)
    factor = accounts.factor_of(session, account)
    if factor is None or factor.confirmed_at is not None:
        raise Conflict("no enrolment to confirm: POST /auth/totp first", field="code", rule="pending")
    if not totp.confirm(session, factor, code):
        raise Invalid("code: wrong or expired (check the phone's clock)", field="code", rule="totp")
    row = _row(session, account)
    accounts.audit(session, "auth.totp_on", row, principal.label, principal.primary_role)
    if cookie:  # an enrol-only session has proved both factors now
        current = session.scalar(
            select(PortalSession).where(PortalSession.id_hash == portal_sessions.id_hash(cookie))
        )
        if current is not None and current.enroll_only:
            current.enroll_only = False
    session.flush()
    return {"totp_enabled": True, "confirmed_at": factor.confirmed_at}


@router.post("/confirm", response_model=TotpState)
async def confirm_totp(body: CodeIn, request: Request, session: SessionDep, principal: PrincipalDep) -> Any:
    cookie = getattr(request.state, "portal_session", None)
    return await run_in_threadpool(_confirm, session, principal, body.code, cookie)


def _disable(session: Session, principal: Principal, code: str, required: bool) -> None:
    account = _account(principal)
    factor = accounts.factor_of(session, account)
    if factor is None or factor.confirmed_at is None:
        raise Conflict("TOTP is not on", field="code", rule="enabled")
    if required and accounts.is_admin(session, account):
        raise Forbidden(
            "TOTP is required for your role (portal_require_totp_admins): it cannot be turned off",
            rule="totp:required",
        )
    if not totp.check(session, factor, code):
        raise Invalid("code: wrong or expired (check the phone's clock)", field="code", rule="totp")
    row = _row(session, account)
    session.delete(factor)
    accounts.audit(session, "auth.totp_off", row, principal.label, principal.primary_role)
    session.flush()


@router.post("/disable", status_code=204)
async def disable_totp(
    body: CodeIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    required = config_of(request.app).require_totp_admins
    await run_in_threadpool(_disable, session, principal, body.code, required)
    return Response(status_code=204)
