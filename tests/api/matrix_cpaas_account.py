"""A tenant's CPaaS account (issue 16 §2): its auth token is a developer's secret, so the tenant's
developers and the operator read and rotate it (Resource.CPAAS), not the office staff."""

from __future__ import annotations

from tests.api.matrix_roles import DEV, OP, Body

ROUTES: list[tuple[str, str, Body, set[str]]] = [
    ("GET", "/tenants/{t}/cpaas/account", None, {OP, DEV}),
    ("POST", "/tenants/{t}/cpaas/account/rotate", None, {OP, DEV}),
]
OPERATOR_ROUTES: list[tuple[str, str, Body]] = []
REFUSED_ROUTES: list[tuple[str, str, Body, set[str], int]] = []
