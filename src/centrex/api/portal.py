"""The portal's log-in on the API side (issue 18 §1; docs/portal-auth.md): its settings, and the
session cookie as a second way to be a principal besides the bearer token (api/deps.py).

A session yields exactly the Principal a bearer token of the same user or operator would
(store/sessions.py principal_of), so store/policy.py stays the one authorization layer. A request
authenticated by the cookie that changes anything (any method but GET, HEAD, OPTIONS) must carry the
session's CSRF token in the X-CSRF-Token header; a bearer token needs none (a browser never sends
one on its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from centrex.config import Settings
from centrex.ops.mailer import Mailer
from centrex.store import sessions as portal_sessions
from centrex.store.access import Principal
from centrex.store.models.sessions import PasswordResetToken, PortalSession, TotpFactor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTH_PREFIX = "/api/v1/auth/"
CACHE_PREFIX = "session:"


@dataclass(frozen=True)
class PortalConfig:
    """Settings portal_* (config.py); create_app uses the defaults until `centrex serve` sets them."""

    base_url: str = "http://localhost:8080"  # where the portal is reached: reset links point here
    require_totp_admins: bool = False
    session: portal_sessions.SessionPolicy = field(default_factory=portal_sessions.SessionPolicy)
    token_ttl: timedelta = timedelta(hours=1)  # POST /auth/login {"as": "token"}
    reset_ttl: timedelta = timedelta(hours=1)
    mailer: Mailer | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PortalConfig:
        scheme = "https" if settings.http_tls_cert else "http"
        return cls(
            base_url=(settings.portal_base_url or f"{scheme}://localhost:{settings.http_port}").rstrip("/"),
            require_totp_admins=settings.portal_require_totp_admins,
            session=portal_sessions.SessionPolicy(
                idle=timedelta(seconds=settings.portal_session_idle_s),
                absolute=timedelta(seconds=settings.portal_session_absolute_s),
            ),
            token_ttl=timedelta(seconds=settings.portal_token_ttl_s),
            mailer=Mailer.from_settings(settings),
        )


def config_of(app: FastAPI) -> PortalConfig:
    config: PortalConfig = app.state.portal
    return config


def _revoked(obj: Any) -> bool:
    if isinstance(obj, PortalSession):
        return bool(inspect(obj).attrs["revoked_at"].history.has_changes())
    return isinstance(obj, (TotpFactor, PasswordResetToken))


def install(app: FastAPI) -> None:
    """Default settings, and the principal cache forgets sessions when one is revoked."""
    if not hasattr(app.state, "portal"):
        app.state.portal = PortalConfig()
    factory: sessionmaker[Session] = app.state.sessionmaker

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _ctx: Any) -> None:
        # Seen by api/principals.py's after_commit listener, which then clears the cache.
        if any(isinstance(o, PortalSession) for o in session.deleted) or any(
            _revoked(o) for o in session.dirty if isinstance(o, PortalSession)
        ):
            session.info["auth_changed"] = True


async def session_principal(request: Request, session: Session, cookie: str) -> Principal | None:
    """The principal of the session cookie, after the CSRF check; None for no live session."""
    if request.method not in SAFE_METHODS and not portal_sessions.csrf_matches(
        cookie, request.headers.get(portal_sessions.CSRF_HEADER)
    ):
        raise HTTPException(
            403,
            "CSRF check failed: a change made with the session cookie needs the"
            f" {portal_sessions.CSRF_COOKIE} cookie's value in the {portal_sessions.CSRF_HEADER} header",
        )
    cache = request.app.state.principals
    key = CACHE_PREFIX + cookie
    principal: Principal | None = cache.get(key)
    if principal is None:
        policy = config_of(request.app).session
        found = await run_in_threadpool(portal_sessions.lookup, session, cookie, policy)
        if found is None:
            return None
        principal = found.principal
        if found.enroll_only:
            request.state.enroll_only = True
            if not request.url.path.startswith(AUTH_PREFIX):
                raise HTTPException(
                    403,
                    "two-factor authentication is required for your role: enrol TOTP first"
                    " (POST /api/v1/auth/totp), then log in again",
                )
        else:
            cache.put(key, principal)
    request.state.portal_session = cookie
    return principal
