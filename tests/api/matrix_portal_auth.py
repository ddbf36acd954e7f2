"""Route matrix rows of the portal's log-in (issue 18 §1; api/routers/auth*.py).

These routes name no tenant: ACCOUNT_ROUTES act on the caller's own account (allowed roles get
the status given, anyone else 403), PUBLIC_ROUTES need no credentials at all (the status a caller
without any gets for the body given)."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, EVERY, Body

ACCOUNTS = set(EVERY) - {DEV}  # a developer key is no person: nothing to log out of or protect

# (method, path, body, roles allowed, status they get)
ACCOUNT_ROUTES: list[tuple[str, str, Body, set[str], int]] = [
    ("GET", "/auth/me", None, set(EVERY), 200),
    ("POST", "/auth/logout", None, set(EVERY), 204),
    ("POST", "/auth/totp", None, ACCOUNTS, 201),
    ("POST", "/auth/totp/confirm", lambda w: {"code": "000000"}, ACCOUNTS, 409),  # nothing to confirm
    ("POST", "/auth/totp/disable", lambda w: {"code": "000000"}, ACCOUNTS, 409),  # TOTP is not on
]

# (method, path, body, status without credentials)
PUBLIC_ROUTES: list[tuple[str, str, Body, int]] = [
    ("POST", "/auth/login", lambda w: {"email": "nobody@example.com", "password": "guess"}, 401),
    ("POST", "/auth/password-reset", lambda w: {"email": "nobody@example.com"}, 202),
    (
        "POST",
        "/auth/password-reset/confirm",
        lambda w: {"token": "made-up", "password": "a long new passphrase"},
        422,
    ),
]

# The whole audit log (every tenant's and the operators' own log-ins) is the operator's.
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/audit", None),
]
