"""Who may try to log in (issue 18 §1: "rate-limited login with the same ban service as SIP").

Two limits, both answered with 429 and a message that says which and until when:

- the source: every failed log-in (unknown e-mail, wrong password, wrong TOTP code, a reset token
  that is not valid) counts as a failure of realm ``portal`` in the node's ban service
  (fairuse/ban_service.py, shared with SIP and phone provisioning: provisioning/http.py
  ``bans_of``): 5 within 10 minutes ban the source for 10 minutes (fail2ban's defaults, as for
  SIP), persisted and seen by every node. A source on the allowlist (the operator's networks,
  trunks) is never banned.
- the account: failures per e-mail address as typed (lower-cased), whether or not an account has
  it, so the throttle tells nothing of which accounts exist: 10 within 15 minutes hold that address
  for 15 minutes (OWASP's authentication cheat sheet: lock-out by account, bounded in time, against
  attacks spread over many sources). Kept in this node's memory.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from centrex.fairuse.bans import BanBook, BanPolicy, Realm
from centrex.provisioning.http import bans_of

ACCOUNT_POLICY = BanPolicy(max_failures=10, window_s=900.0, ban_s=900.0)
# The OpenAPI entry of the answer to a banned source or a held address (api/openapi.py adds the body).
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "too many failed log-ins from this source or for this address:"
        " retry after `Retry-After` seconds",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}


def source_of(request: Request) -> str:
    return request.client.host if request.client else ""


def _until(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")


def _too_many(message: str, rule: str, until: float, now: float) -> JSONResponse:
    return JSONResponse(
        status_code=429,
        headers={"Retry-After": str(max(1, int(until - now) + 1))},
        content={"error": "too_many_requests", "message": message, "rule": rule},
    )


class LoginGuard:
    def __init__(self, app: FastAPI, account_policy: BanPolicy = ACCOUNT_POLICY) -> None:
        self.app = app
        self.accounts = BanBook({Realm.PORTAL: account_policy})

    @staticmethod
    def of(app: FastAPI) -> LoginGuard:
        guard: LoginGuard | None = getattr(app.state, "login_guard", None)
        if guard is None:
            guard = app.state.login_guard = LoginGuard(app)
        return guard

    @staticmethod
    def _account_key(email: str) -> str:
        return "account/" + email.strip().lower()

    def refusal(self, source: str, email: str | None, now: float | None = None) -> JSONResponse | None:
        """429 for a banned source or a held account, else None (try the credentials)."""
        now = now or time.time()
        ban = bans_of(self.app).book.ban_of(Realm.PORTAL, source, now)
        if ban is not None:
            return _too_many(
                f"too many failed log-ins from your address {source}: it may not log in until"
                f" {_until(ban.until)}",
                "source_banned",
                ban.until,
                now,
            )
        if email is not None:
            held = self.accounts.ban_of(Realm.PORTAL, self._account_key(email), now)
            if held is not None:
                return _too_many(
                    f"too many failed log-ins for this e-mail address: try again after {_until(held.until)}",
                    "account_throttled",
                    held.until,
                    now,
                )
        return None

    def failed(self, source: str, email: str | None, now: float | None = None) -> None:
        """One failure that proves guessing (on the event loop: the ban book is the loop's)."""
        now = now or time.time()
        bans_of(self.app).failure(Realm.PORTAL, source, now, email)
        if email is not None:
            self.accounts.failure(Realm.PORTAL, self._account_key(email), now)

    def succeeded(self, email: str) -> None:
        self.accounts.lift(Realm.PORTAL, self._account_key(email))
