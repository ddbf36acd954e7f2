"""Route matrix rows of the portal's operator tasks (issue 18 §2: rate-deck imports and billing runs
with progress) and of the user's own browser phone (issue 18 §3): tasks are the operator's, as the
synchronous rate-deck and billing routes are; the browser phone is every user's own (via /me)."""

from __future__ import annotations

from tests.api.matrix_roles import USERS, Body

DECK = "prefix,rate_per_minute,effective_from\n1,0.01,2026-01-01\n"

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("POST", "/tenants/{t}/me/softphone", None, USERS),
    ("DELETE", "/tenants/{t}/me/softphone", None, USERS),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = [
    ("POST", "/rate-decks/imports", lambda w: {"name": f"matrix-{w.domain}", "csv": DECK}),
    ("POST", "/billing/runs", lambda w: {"period": "2026-01", "dry_run": True}),
    ("GET", "/tasks", None),
    ("GET", "/tasks/{task}", None),
]
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
