"""Log-in, logout and who am I (issue 18 §1; docs/portal-auth.md).

POST /auth/login takes an e-mail and password (and the TOTP code where the account has one on) and
answers with a session (cookies ``centrex_session``, HttpOnly, SameSite=Strict, and
``centrex_csrf``, readable by the page) or, with ``"as": "token"``, a short-lived bearer token for
scripts. A wrong address and a wrong password get the same 401 after the same work; failures count
toward a ban of the source (api/login_guard.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from centrex.api import accounts
from centrex.api.deps import PrincipalDep, SessionDep
from centrex.api.login_guard import TOO_MANY, LoginGuard, source_of
from centrex.api.portal import PortalConfig, config_of
from centrex.store import sessions as portal_sessions
from centrex.store import totp
from centrex.store.access import Principal
from centrex.store.credentials import new_token
from centrex.store.models import ApiToken, Operator, TokenKind, User
from centrex.store.sessions import Account

router = APIRouter(prefix="/auth", tags=["auth"])

WRONG = {
    "error": "unauthorized",
    "message": "the e-mail address or the password is wrong",
    "rule": "credentials",
}


class LoginIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(None, max_length=12, description="the 6-digit code, when TOTP is on")
    tenant: str | None = Field(
        None,
        max_length=253,
        description="the tenant's SIP domain, only if one e-mail has accounts in several",
    )
    as_: Literal["session", "token"] = Field(
        "session", alias="as", description="a cookie session or a bearer token"
    )


class WhoAmI(BaseModel):
    kind: str
    roles: list[str]
    primary_role: str
    tenant_id: uuid.UUID | None
    tenant_name: str | None
    user_id: uuid.UUID | None
    operator_id: uuid.UUID | None
    name: str
    email: str | None
    totp_enabled: bool
    totp_required: bool = Field(description="TOTP is required of this role (portal_require_totp_admins)")
    enroll_only: bool = Field(description="this session may only enrol TOTP (then log in again)")
    auth: Literal["session", "token"]


class LoginOut(WhoAmI):
    csrf_token: str | None = Field(None, description="send in X-CSRF-Token on changes made with the cookie")
    token: str | None = Field(None, description="the bearer token (as=token), shown once")
    expires_at: datetime | None = None


def _unauthorized(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=401, content=body)


class Outcome:
    """What the credentials check decided (computed in a worker thread)."""

    def __init__(self, status: int, body: dict[str, Any], failure: bool = False) -> None:
        self.status = status
        self.body = body
        self.failure = failure
        self.cookie: str | None = None


def _login(session: Session, body: LoginIn, config: PortalConfig, source: str, agent: str) -> Outcome:
    matched = accounts.verify(session, body.email, body.password, body.tenant)
    if not matched:
        for row in accounts.candidates(session, body.email, body.tenant):
            accounts.audit(
                session, "auth.login_failed", row, f"source:{source}", "anonymous", {"reason": "password"}
            )
        return Outcome(401, WRONG, failure=True)
    if len(matched) > 1:
        return Outcome(
            409,
            {
                "error": "conflict",
                "message": "this e-mail and password open accounts of several tenants:"
                " name the tenant (its SIP domain)",
                "field": "tenant",
                "rule": "ambiguous",
            },
        )
    row = matched[0]
    account = Account.of(row)
    actor = accounts.label_of(row, session)
    factor = accounts.factor_of(session, account)
    if factor is not None and factor.confirmed_at is not None:
        if not body.totp_code:
            return Outcome(
                401,
                {
                    "error": "unauthorized",
                    "message": "enter the code of your authenticator app",
                    "field": "totp_code",
                    "rule": "totp_required",
                },
            )
        if not totp.check(session, factor, body.totp_code.strip()):
            accounts.audit(
                session, "auth.login_failed", row, actor, "anonymous", {"reason": "totp", "source": source}
            )
            return Outcome(
                401,
                {
                    "error": "unauthorized",
                    "message": "the authenticator code is wrong or already used",
                    "field": "totp_code",
                    "rule": "totp",
                },
                failure=True,
            )
    enroll_only = config.require_totp_admins and factor_off(factor) and accounts.is_admin(session, account)
    now = datetime.now(UTC)
    if body.as_ == "token":
        if enroll_only:
            return Outcome(
                403,
                {
                    "error": "forbidden",
                    "message": "two-factor authentication is required for your role:"
                    " log in to the portal and enrol TOTP first",
                    "rule": "totp_enrollment_required",
                },
            )
        made = new_token()
        expires = now + config.token_ttl
        token = ApiToken(
            **_token_owner(row),
            prefix=made.prefix,
            secret_hash=made.secret_hash,
            name=portal_sessions.LOGIN_TOKEN_NAME,
            expires_at=expires,
        )
        session.add(token)
        session.flush()
        principal = portal_sessions.principal_of(account, session, token.id)
        assert principal is not None
        accounts.audit(
            session, "auth.login", row, actor, principal.primary_role, {"as": "token", "source": source}
        )
        out = accounts.me(session, principal, auth="token", require_totp_admins=config.require_totp_admins)
        return Outcome(200, {**out, "token": made.plaintext, "expires_at": expires, "csrf_token": None})
    plaintext, srow = portal_sessions.start(
        session, account, config.session, enroll_only=enroll_only, source=source, user_agent=agent, now=now
    )
    principal = portal_sessions.principal_of(account, session, srow.id)
    assert principal is not None
    accounts.audit(
        session,
        "auth.login",
        row,
        actor,
        principal.primary_role,
        {"as": "session", "source": source, "enroll_only": enroll_only},
    )
    out = accounts.me(
        session,
        principal,
        auth="session",
        enroll_only=enroll_only,
        require_totp_admins=config.require_totp_admins,
    )
    outcome = Outcome(
        200,
        {
            **out,
            "csrf_token": portal_sessions.csrf_token(plaintext),
            "token": None,
            "expires_at": srow.expires_at,
        },
    )
    outcome.cookie = plaintext
    return outcome


def factor_off(factor: Any) -> bool:
    return factor is None or factor.confirmed_at is None


def _token_owner(row: User | Operator) -> dict[str, Any]:
    if isinstance(row, Operator):
        return {"kind": TokenKind.OPERATOR, "operator_id": row.id}
    return {"kind": TokenKind.USER, "tenant_id": row.tenant_id, "user_id": row.id}


def secure(request: Request) -> bool:
    """Cookies are Secure when the portal is served over TLS (here, or by a proxy in front:
    a base URL of https)."""
    return request.url.scheme == "https" or config_of(request.app).base_url.startswith("https://")


def set_cookies(response: Response, request: Request, plaintext: str, config: PortalConfig) -> None:
    max_age = int(config.session.absolute.total_seconds())
    tls = secure(request)
    response.set_cookie(
        portal_sessions.COOKIE,
        plaintext,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=tls,
    )
    response.set_cookie(
        portal_sessions.CSRF_COOKIE,
        portal_sessions.csrf_token(plaintext),
        max_age=max_age,
        path="/",
        httponly=False,
        samesite="strict",
        secure=tls,
    )


def clear_cookies(response: Response, request: Request) -> None:
    tls = secure(request)
    for name, http_only in ((portal_sessions.COOKIE, True), (portal_sessions.CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", httponly=http_only, samesite="strict", secure=tls)


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"description": "wrong credentials or TOTP code"},
        **TOO_MANY,
    },
    openapi_extra={"security": []},
)
async def login(body: LoginIn, request: Request, session: SessionDep) -> Any:
    guard = LoginGuard.of(request.app)
    source = source_of(request)
    refused = guard.refusal(source, body.email)
    if refused is not None:
        return refused
    config = config_of(request.app)
    agent = request.headers.get("user-agent", "")
    outcome = await run_in_threadpool(_login, session, body, config, source, agent)
    if outcome.failure:
        guard.failed(source, body.email)
    if outcome.status != 200:
        return JSONResponse(status_code=outcome.status, content=outcome.body)
    guard.succeeded(body.email)
    response = JSONResponse(content=LoginOut(**outcome.body).model_dump(mode="json"))
    if outcome.cookie:
        set_cookies(response, request, outcome.cookie, config)
    response.headers["Cache-Control"] = "no-store"
    return response


def _logout(session: Session, principal: Principal, cookie: str | None) -> None:
    account = accounts.account_of(principal)
    now = datetime.now(UTC)
    if cookie:
        portal_sessions.end(session, cookie, now)
    else:
        token = session.get(ApiToken, principal.token_id)
        if token is not None and token.name == portal_sessions.LOGIN_TOKEN_NAME and token.revoked_at is None:
            token.revoked_at = now  # a log-in token ends with its logout; API keys are revoked elsewhere
            session.flush()
    row = account.row(session) if account else None
    if row is not None:
        accounts.audit(
            session,
            "auth.logout",
            row,
            principal.label,
            principal.primary_role,
            {"as": "session" if cookie else "token"},
        )


@router.post("/logout", status_code=204)
async def logout(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    cookie = getattr(request.state, "portal_session", None)
    await run_in_threadpool(_logout, session, principal, cookie)
    response = Response(status_code=204)
    clear_cookies(response, request)
    return response


@router.get("/me", response_model=WhoAmI)
async def who_am_i(request: Request, session: SessionDep, principal: PrincipalDep) -> Any:
    cookie = getattr(request.state, "portal_session", None)
    config = config_of(request.app)
    return await run_in_threadpool(
        accounts.me,
        session,
        principal,
        auth="session" if cookie else "token",
        enroll_only=bool(getattr(request.state, "enroll_only", False)),
        require_totp_admins=config.require_totp_admins,
    )
